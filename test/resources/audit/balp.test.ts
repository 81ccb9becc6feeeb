// BALP AuditEvents: valid R4 resources of the documented shape, one per patient, and the record columns
// read back from them.
import type { AuditEvent } from '@medplum/fhirtypes';
import type { AccessContext } from '../../../resources/access';
import { auditEvents, type AuditAction } from '../../../resources/audit/balp';
import { auditRecordOf } from '../../../resources/audit/record';
import { validateResource, warmUpValidation } from '../../../resources/validation';

beforeAll(() => {
  warmUpValidation(['AuditEvent']);
});

const RECORDED = new Date('2026-03-01T10:00:00.000Z');

const clinician: AccessContext = {
  actor: 'user/u1',
  userId: 'u1',
  fhirUser: 'Practitioner/7',
  role: 'physician',
  clientId: 'ehr-app',
  ip: '10.1.2.3',
  tokenId: 'jti-1',
  requestId: 'req-42',
};
const backend: AccessContext = { actor: 'client/payer', clientId: 'payer', ip: '10.9.9.9', tokenId: 'jti-2' };
const patientApp: AccessContext = { actor: 'user/u9', userId: 'u9', clientId: 'portal', patient: 'p1' };
const cli: AccessContext = { actor: 'cli' };

const search: AuditAction = {
  subtype: 'search-type',
  outcome: '0',
  resourceType: 'Observation',
  query: 'patient=p1,p2&code=http://loinc.org|2345-7',
  entities: ['Observation/o1/_history/1', 'Observation/o2/_history/3'],
  patients: ['p1', 'p2', 'p1'],
};

const cases: [string, AccessContext, AuditAction][] = [
  ['a clinician search over two patients', clinician, search],
  ['a backend read', backend, { subtype: 'read', outcome: '0', entities: ['Claim/c1/_history/1'], patients: ['p3'] }],
  ['a denied patient-app read', patientApp, { subtype: 'read', outcome: '8', outcomeText: 'access denied' }],
  ['a command-line create', cli, { subtype: 'create', outcome: '0', entities: ['Patient/p4/_history/1'] }],
  ['a login', clinician, { subtype: 'login', outcome: '0' }],
  ['a failed token request', backend, { subtype: 'token', outcome: '4', outcomeText: 'invalid_grant' }],
  ['a break-glass', clinician, { subtype: 'break-glass', outcome: '0', patients: ['p1'] }],
];

test.each(cases)('%s: every event is a valid R4 AuditEvent', (_name, access, action) => {
  for (const event of auditEvents(access, action, RECORDED)) expect(validateResource(event)).toEqual([]);
});

const coding = (concept: { coding?: { system?: string; code?: string }[] } | undefined) =>
  `${concept?.coding?.[0]?.system}|${concept?.coding?.[0]?.code}`;
const entityKinds = (event: AuditEvent) => event.entity?.map((e) => `${e.type?.code}/${e.role?.code ?? '-'}`);

test('a search: one event per patient, each with the data, the query and the request id', () => {
  const events = auditEvents(clinician, search, RECORDED);
  expect(events).toHaveLength(2);
  expect(new Set(events.map((e) => e.id)).size).toBe(2);
  const [first] = events;
  expect(first).toMatchObject({
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: 'search-type' }],
    action: 'E',
    recorded: '2026-03-01T10:00:00.000Z',
    meta: { lastUpdated: '2026-03-01T10:00:00.000Z' },
    outcome: '0',
    source: { observer: { display: 'HMS FHIR server' }, type: [{ code: '4' }] },
  });
  expect(events.map((e) => e.entity?.[0].what?.reference)).toEqual(['Patient/p1', 'Patient/p2']);
  expect(entityKinds(first)).toEqual(['1/1', '2/4', '2/4', '2/24', 'XrequestId/-']);
  expect(first.entity?.[1].what?.reference).toBe('Observation/o1/_history/1');
  const query = first.entity?.[3];
  expect(Buffer.from(query?.query ?? '', 'base64').toString()).toBe(search.query);
  expect(query?.description).toBe(`Observation?${search.query}`);
  expect(first.entity?.[4].what?.identifier?.value).toBe('req-42');
});

test('agents: the user requests through the client; the token id is the policy; the server receives', () => {
  const [event] = auditEvents(clinician, { subtype: 'read', outcome: '0' }, RECORDED);
  const [user, client, server] = event.agent;
  expect(coding(user.type)).toBe('http://terminology.hl7.org/CodeSystem/v3-ParticipationType|IRCP');
  expect(user).toMatchObject({
    who: { reference: 'Practitioner/7' },
    requestor: true,
    role: [{ text: 'physician' }],
    policy: ['urn:ietf:params:oauth:jti:jti-1'],
  });
  expect(coding(client.type)).toBe('http://dicom.nema.org/resources/ontology/DCM|110153');
  expect(client).toMatchObject({ who: { identifier: { value: 'ehr-app' } }, requestor: false });
  expect(client.network).toEqual({ address: '10.1.2.3', type: '2' });
  expect(coding(server.type)).toBe('http://dicom.nema.org/resources/ontology/DCM|110152');
  expect(event.entity).toEqual([expect.objectContaining({ what: { identifier: { value: 'req-42' } } })]);
});

test('without a user the client, or else the actor, is the requestor', () => {
  const [payer] = auditEvents(backend, { subtype: 'read', outcome: '0' }, RECORDED);
  expect(payer.agent).toHaveLength(2);
  expect(payer.agent[0]).toMatchObject({ requestor: true, policy: ['urn:ietf:params:oauth:jti:jti-2'] });
  const [command] = auditEvents(cli, { subtype: 'create', outcome: '0' }, RECORDED);
  expect(command.agent[0]).toMatchObject({ requestor: true, who: { identifier: { value: 'cli' } } });
  expect(command.agent[0].network).toBeUndefined();
  expect(command.entity).toBeUndefined();
});

test.each([
  [
    'login',
    'http://dicom.nema.org/resources/ontology/DCM|110114',
    'http://dicom.nema.org/resources/ontology/DCM|110122',
  ],
  [
    'logout',
    'http://dicom.nema.org/resources/ontology/DCM|110114',
    'http://dicom.nema.org/resources/ontology/DCM|110123',
  ],
  ['token', 'http://dicom.nema.org/resources/ontology/DCM|110114', 'urn:hms:audit-subtype|token'],
  [
    'break-glass',
    'http://dicom.nema.org/resources/ontology/DCM|110113',
    'http://dicom.nema.org/resources/ontology/DCM|110127',
  ],
] as const)('%s events have their DICOM type and subtype', (subtype, type, sub) => {
  const [event] = auditEvents(clinician, { subtype, outcome: '0' }, RECORDED);
  expect(`${event.type.system}|${event.type.code}`).toBe(type);
  expect(`${event.subtype?.[0].system}|${event.subtype?.[0].code}`).toBe(sub);
  expect(event.action).toBe('E');
});

test.each([
  ['read', 'R'],
  ['history-instance', 'R'],
  ['history-type', 'E'],
  ['create', 'C'],
  ['update', 'U'],
  ['patch', 'U'],
  ['delete', 'D'],
  ['transaction', 'E'],
] as const)('%s is action %s', (subtype, action) => {
  expect(auditEvents(cli, { subtype, outcome: '0' }, RECORDED)[0].action).toBe(action);
});

test('the record columns come from the event', () => {
  const events = auditEvents(clinician, { ...search, outcome: '4', outcomeText: 'bad request' }, RECORDED);
  const record = auditRecordOf(events[1]);
  expect(record).toEqual({
    id: events[1].id,
    recorded: RECORDED.getTime(),
    patients: ['p2'],
    agent: 'Practitioner/7',
    subtype: 'search-type',
    outcome: '4',
    json: JSON.stringify(events[1]),
  });
  expect(events[1].outcomeDesc).toBe('bad request');
  const agentOf = (access: AccessContext) =>
    auditRecordOf(auditEvents(access, { subtype: 'login', outcome: '0' }, RECORDED)[0]);
  expect(agentOf(backend)).toMatchObject({ agent: 'client/payer', subtype: 'login', patients: [] });
  expect(agentOf(patientApp).agent).toBe('user/u9');
  expect(agentOf(cli).agent).toBe('cli');
});
