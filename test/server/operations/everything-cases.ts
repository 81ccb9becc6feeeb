// The $everything expectations, end to end over HTTP, shared by the SQLite and the MongoDB adapter runs: the
// record's content, the one reference hop, care dates, _since, _type, paging, grants and bad input.
import request from 'supertest';
import type { Bundle } from '@medplum/fhirtypes';
import { FHIR_JSON, observation, patient, putThroughApi, type TestApp } from '../../support/app';

type Client = ReturnType<typeof asToken>;

const asToken = (t: TestApp, token: string) => ({
  get: (url: string) => request(t.app).get(url).set('Authorization', `Bearer ${token}`),
});

/** `mode:Type/id` of every entry, sorted. */
export const keys = (bundle: Bundle): string[] =>
  (bundle.entry ?? []).map((e) => `${e.search?.mode}:${e.resource?.resourceType}/${e.resource?.id}`).sort();

const matches = (bundle: Bundle) => keys(bundle).filter((k) => k.startsWith('match:'));

/** Follows every next link from `url`; returns the pages. */
async function allPages(client: { get: (url: string) => request.Test }, url: string): Promise<Bundle[]> {
  const pages: Bundle[] = [];
  let next: string | undefined = url;
  while (next) {
    const res = await client.get(next);
    expect(res.status).toBe(200);
    pages.push(res.body as Bundle);
    const link = (res.body as Bundle).link?.find((l) => l.relation === 'next')?.url;
    next = link?.replace('http://localhost:8080', '');
    expect(pages.length).toBeLessThan(100);
  }
  return pages;
}

const period = (start: string, end?: string) => ({ start, ...(end ? { end } : {}) });
const ref = (reference: string) => ({ reference });

/** p1's record, p2's, shared directory resources, and the cross-patient Provenance and Composition. */
async function seed(t: TestApp): Promise<void> {
  const put = (resource: Record<string, unknown>) => putThroughApi(t, resource);
  await put(patient({ id: 'p1' }));
  await put(patient({ id: 'p2', name: [{ family: 'Other' }] }));
  await put(patient({ id: 'p3', name: [{ family: 'Linked' }], link: [{ other: ref('Patient/p1'), type: 'seealso' }] }));
  await put({ resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Jones' }] });
  await put({ resourceType: 'Practitioner', id: 'dr-unused', name: [{ family: 'Nobody' }] });
  await put({ resourceType: 'Organization', id: 'org', name: 'General Hospital' });
  await put({ resourceType: 'Location', id: 'ward', name: 'Ward 1' });
  await put({ resourceType: 'Medication', id: 'med', code: { text: 'Aspirin' } });
  await put({ resourceType: 'Device', id: 'pump' });
  await put({ resourceType: 'Device', id: 'p2-device', patient: ref('Patient/p2') });
  await put({
    resourceType: 'Encounter',
    id: 'e1',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'IMP' },
    subject: ref('Patient/p1'),
    period: period('2024-01-10T08:00:00Z', '2024-01-12T08:00:00Z'),
    participant: [{ individual: ref('Practitioner/dr') }],
    location: [{ location: ref('Location/ward') }],
    serviceProvider: ref('Organization/org'),
  });
  await put({
    ...observation('Patient/p1'),
    id: 'o-2024',
    effectiveDateTime: '2024-01-11T10:00:00Z',
    performer: [ref('Practitioner/dr')],
    encounter: ref('Encounter/e1'),
    device: ref('Device/pump'),
  });
  await put({
    ...observation('Patient/p1'),
    id: 'o-2023',
    effectiveDateTime: '2023-05-01',
    performer: [ref('Practitioner/dr'), ref('Patient/p1')],
    device: ref('Device/p2-device'),
  });
  await put({ ...observation('Patient/p1'), id: 'o-2025', effectiveDateTime: '2025-03-01' });
  await put({
    resourceType: 'Condition',
    id: 'c1',
    subject: ref('Patient/p1'),
    onsetDateTime: '2024-02-01',
    asserter: ref('Practitioner/dr'),
    code: { text: 'Asthma' },
  });
  await put({
    resourceType: 'MedicationRequest',
    id: 'mr1',
    status: 'active',
    intent: 'order',
    subject: ref('Patient/p1'),
    medicationReference: ref('Medication/med'),
    requester: ref('Practitioner/dr'),
    authoredOn: '2024-01-10',
    encounter: ref('Encounter/e1'),
  });
  await put({ ...observation('Patient/p2'), id: 'o-p2', performer: [ref('Practitioner/dr')] });
  await put({ ...observation('Patient/p2'), id: 'o-p2-e1', encounter: ref('Encounter/e1') });
  await put({
    resourceType: 'Provenance',
    id: 'prov',
    target: [ref('Observation/o-2024'), ref('Observation/o-p2'), ref('Patient/p1'), ref('Patient/p2')],
    recorded: '2024-01-11T10:00:00Z',
    agent: [{ who: ref('Practitioner/dr') }],
  });
  await put({
    resourceType: 'Composition',
    id: 'comp',
    status: 'final',
    type: { text: 'Summary' },
    subject: ref('Patient/p1'),
    date: '2024-01-12',
    author: [ref('Practitioner/dr')],
    title: 'Discharge summary',
    section: [{ title: 'Results', entry: [ref('Observation/o-p2'), ref('Patient/p2')] }],
  });
}

const P1_MATCHES = [
  'match:Composition/comp',
  'match:Condition/c1',
  'match:Encounter/e1',
  'match:MedicationRequest/mr1',
  'match:Observation/o-2023',
  'match:Observation/o-2024',
  'match:Observation/o-2025',
  'match:Patient/p1',
  'match:Provenance/prov',
];
const P1_INCLUDES = [
  'include:Device/pump',
  'include:Location/ward',
  'include:Medication/med',
  'include:Organization/org',
  'include:Practitioner/dr',
];

export function describeEverything(name: string, startApp: () => Promise<TestApp>): void {
  describe(`$everything on ${name}`, () => {
    let t: TestApp;
    let tokenFor: (claims: { scope: string; patient?: string; role?: string }) => Promise<Client>;

    beforeAll(async () => {
      t = await startApp();
      await seed(t);
      tokenFor = async ({ scope, patient: patientId, role }) => {
        const { token } = await t.auth.tokens.issueAccessToken(
          {
            clientId: 'everything-app',
            userId: patientId ? `user-${patientId}` : 'staff',
            role: role ?? (patientId ? 'patient' : 'clinician'),
            scope,
            ...(patientId ? { patient: patientId, fhirUser: `Patient/${patientId}` } : {}),
          },
          600_000,
        );
        return asToken(t, token);
      };
    });
    afterAll(() => t.close());

    test('Patient/[id]/$everything: the compartment as matches, the shared resources it refers to once as includes', async () => {
      const res = await t.api().get('/fhir/Patient/p1/$everything');
      expect(res.status).toBe(200);
      const bundle = res.body as Bundle;
      expect(bundle.type).toBe('searchset');
      expect(keys(bundle)).toEqual([...P1_INCLUDES, ...P1_MATCHES]);
      expect(bundle.total).toBe(P1_MATCHES.length);
      expect(bundle.entry?.[0].resource).toMatchObject({ resourceType: 'Patient', id: 'p1' });
      expect(bundle.entry?.[0].fullUrl).toBe('http://localhost:8080/fhir/Patient/p1');
      expect(bundle.link).toEqual([{ relation: 'self', url: 'http://localhost:8080/fhir/Patient/p1/$everything' }]);
    });

    test('a Provenance or Composition naming another patient never pulls in that patient or their data', async () => {
      const res = await t.api().get('/fhir/Patient/p1/$everything');
      const found = keys(res.body as Bundle).join(' ');
      for (const foreign of ['Patient/p2', 'Observation/o-p2', 'Device/p2-device', 'Patient/p3', 'dr-unused']) {
        expect(found).not.toContain(foreign);
      }
    });

    test('start/end filter on the care date of each type; types without one are kept', async () => {
      const both = await t.api().get('/fhir/Patient/p1/$everything?start=2024-01-01&end=2024-12-31');
      expect(matches(both.body)).toEqual([
        'match:Composition/comp',
        'match:Condition/c1',
        'match:Encounter/e1',
        'match:MedicationRequest/mr1',
        'match:Observation/o-2024',
        'match:Patient/p1',
        'match:Provenance/prov',
      ]);
      const openEnd = await t.api().get('/fhir/Patient/p1/$everything?start=2025');
      expect(matches(openEnd.body)).toEqual(['match:Observation/o-2025', 'match:Patient/p1']);
      const openStart = await t.api().get('/fhir/Patient/p1/$everything?end=2023-12-31');
      expect(matches(openStart.body)).toEqual(['match:Observation/o-2023', 'match:Patient/p1']);
      expect(keys(openStart.body)).toContain('include:Practitioner/dr');
    });

    test('_type (repeated and comma lists) limits matches and includes', async () => {
      const res = await t.api().get('/fhir/Patient/p1/$everything?_type=Observation,Practitioner&_type=Condition');
      expect(keys(res.body)).toEqual([
        'include:Practitioner/dr',
        'match:Condition/c1',
        'match:Observation/o-2023',
        'match:Observation/o-2024',
        'match:Observation/o-2025',
      ]);
    });

    test('paging: every next link keeps the parameters; the pages together are the unpaged result, once each', async () => {
      const query = 'start=2020-01-01&end=2030-01-01&_since=2000-01-01T00:00:00Z';
      const unpaged = (await t.api().get(`/fhir/Patient/p1/$everything?${query}`)).body as Bundle;
      const pages = await allPages(t.api(), `/fhir/Patient/p1/$everything?${query}&_count=2`);
      expect(pages.length).toBe(Math.ceil(P1_MATCHES.length / 2));
      const union = pages.flatMap(keys);
      expect(new Set(union).size).toBe(union.length);
      expect(union.sort()).toEqual(keys(unpaged));
      for (const page of pages) {
        expect(matches(page).length).toBeGreaterThan(0);
        for (const l of page.link ?? []) {
          const params = new URL(l.url).searchParams;
          expect([params.get('start'), params.get('end'), params.get('_since'), params.get('_count')]).toEqual([
            '2020-01-01',
            '2030-01-01',
            '2000-01-01T00:00:00Z',
            '2',
          ]);
        }
      }
      expect(pages[0].total).toBeUndefined();
      // A page that fills up exactly at the end of the walk has no next link: no empty last page.
      const exact = await allPages(t.api(), `/fhir/Patient/p1/$everything?_count=3`);
      expect(exact.map((page) => matches(page).length)).toEqual([3, 3, 3]);
    });

    test('Patient/$everything: every patient the caller may see, shared resources once, paged', async () => {
      const unpaged = (await t.api().get('/fhir/Patient/$everything?_count=1000')).body as Bundle;
      const all = keys(unpaged);
      expect(all).toEqual(expect.arrayContaining([...P1_MATCHES, 'match:Patient/p2', 'match:Observation/o-p2']));
      expect(all).toContain('match:Patient/p3');
      expect(all.filter((k) => k.endsWith('Provenance/prov'))).toEqual(['match:Provenance/prov']);
      expect(new Set(all).size).toBe(all.length);
      const pages = await allPages(t.api(), '/fhir/Patient/$everything?_count=3');
      const union = pages.flatMap(keys);
      expect(new Set(union).size).toBe(union.length);
      expect(union.sort()).toEqual(all);
      expect(union.filter((k) => k.endsWith('Practitioner/dr'))).toEqual(['include:Practitioner/dr']);
    });

    test('Encounter/[id]/$everything: the encounter compartment of its own patient, its patient and shared resources', async () => {
      const res = await t.api().get('/fhir/Encounter/e1/$everything');
      expect(res.status).toBe(200);
      expect(keys(res.body)).toEqual([
        'include:Device/pump',
        'include:Location/ward',
        'include:Medication/med',
        'include:Organization/org',
        'include:Patient/p1',
        'include:Practitioner/dr',
        'match:Encounter/e1',
        'match:MedicationRequest/mr1',
        'match:Observation/o-2024',
      ]);
      const paged = await allPages(t.api(), '/fhir/Encounter/e1/$everything?_count=1');
      expect(paged.flatMap(keys).sort()).toEqual(keys(res.body));
    });

    test('_since returns only what changed after it', async () => {
      const since = new Date().toISOString();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await putThroughApi(t, { ...observation('Patient/p1'), id: 'o-2025', effectiveDateTime: '2025-03-02' });
      const res = await t.api().get(`/fhir/Patient/p1/$everything?_since=${encodeURIComponent(since)}`);
      expect(keys(res.body)).toEqual(['match:Observation/o-2025']);
    });

    test('POST with a Parameters body, and _elements shaping', async () => {
      const res = await t
        .api()
        .post('/fhir/Patient/p1/$everything?_elements=id')
        .set('Content-Type', FHIR_JSON)
        .send({
          resourceType: 'Parameters',
          parameter: [
            { name: '_type', valueCode: 'Condition' },
            { name: 'start', valueDate: '2024-01-01' },
          ],
        });
      expect(res.status).toBe(200);
      expect(keys(res.body)).toEqual(['match:Condition/c1']);
      const condition = (res.body as Bundle).entry?.[0].resource as unknown as Record<string, unknown>;
      expect(condition.code).toBeUndefined();
      expect(JSON.stringify(condition.meta)).toContain('SUBSETTED');
    });

    test('POST needs a Parameters body of primitive values', async () => {
      const post = (body: object) =>
        t.api().post('/fhir/Patient/p1/$everything').set('Content-Type', FHIR_JSON).send(body);
      expect((await post({ resourceType: 'Patient' })).status).toBe(400);
      const noValue = await post({ resourceType: 'Parameters', parameter: [{ name: '_type' }] });
      expect(noValue.status).toBe(400);
      expect(noValue.body.issue[0].expression).toEqual(['_type']);
    });

    test('a patient token gets its own record only; another patient is a 404', async () => {
      const p1 = await tokenFor({ scope: 'patient/*.rs', patient: 'p1' });
      const own = await p1.get('/fhir/Patient/p1/$everything');
      expect(own.status).toBe(200);
      // Device is neither in the Patient compartment nor shared directory data for patient-level grants: left out.
      expect(keys(own.body)).toEqual([...P1_INCLUDES.filter((k) => k !== 'include:Device/pump'), ...P1_MATCHES]);
      expect((await p1.get('/fhir/Patient/p2/$everything')).status).toBe(404);
      const typeLevel = await p1.get('/fhir/Patient/$everything');
      expect(typeLevel.status).toBe(200);
      expect(matches(typeLevel.body)).toEqual(P1_MATCHES);
      expect((await p1.get('/fhir/Encounter/e1/$everything')).status).toBe(200);
    });

    test('types a token may not search are left out; no read grant on the anchor is a 403', async () => {
      const narrow = await tokenFor({ scope: 'patient/Patient.rs patient/Observation.rs', patient: 'p1' });
      const res = await narrow.get('/fhir/Patient/p1/$everything');
      expect(res.status).toBe(200);
      expect(keys(res.body)).toEqual([
        'match:Observation/o-2023',
        'match:Observation/o-2024',
        'match:Observation/o-2025',
        'match:Patient/p1',
      ]);
      const noPatient = await tokenFor({ scope: 'patient/Observation.rs', patient: 'p1' });
      expect((await noPatient.get('/fhir/Patient/p1/$everything')).status).toBe(403);
    });

    test('a user token sees what its scopes allow', async () => {
      const clinician = await tokenFor({ scope: 'user/*.rs' });
      const full = await clinician.get('/fhir/Patient/p1/$everything');
      expect(keys(full.body)).toEqual([...P1_INCLUDES, ...P1_MATCHES]);
      const desk = await tokenFor({ scope: 'user/Patient.rs user/Encounter.rs', role: 'front-desk' });
      const res = await desk.get('/fhir/Patient/p1/$everything');
      expect(keys(res.body)).toEqual(['match:Encounter/e1', 'match:Patient/p1']);
    });

    test('unknown anchors are 404', async () => {
      expect((await t.api().get('/fhir/Patient/nobody/$everything')).status).toBe(404);
      expect((await t.api().get('/fhir/Encounter/nothing/$everything')).status).toBe(404);
      expect((await t.api().get('/fhir/Observation/o-2024/$everything')).status).toBe(404);
    });

    test.each([
      ['_type=Foo', '_type'],
      ['_type=Questionnaire', '_type'],
      ['_type=Practitioner', '_type'],
      ['start=2024-13-01', 'start'],
      ['end=yesterday', 'end'],
      ['_since=2024-02-30', '_since'],
      ['start=2025-01-01&end=2024-01-01', 'start'],
      ['start=2024&start=2025', 'start'],
      ['_count=5000', '_count'],
      ['_count=0', '_count'],
      ['_count=ten', '_count'],
      ['_summary=count', '_summary'],
      ['_summary=maybe', '_summary'],
      ['patient=p2', 'patient'],
      ['_cursor=bm90IGEgY3Vyc29y', '_cursor'],
      ['_cursor=!!', '_cursor'],
    ])('bad input %s is a 400 naming %s', async (query, parameter) => {
      const res = await t.api().get(`/fhir/Patient/p1/$everything?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(res.body.issue[0].expression).toEqual([parameter]);
    });

    test('Encounter/$everything takes no start/end and is instance-level only; a cursor only fits its own query', async () => {
      expect((await t.api().get('/fhir/Encounter/e1/$everything?start=2024')).status).toBe(400);
      expect((await t.api().get('/fhir/Encounter/$everything')).status).toBe(400);
      const first = (await t.api().get('/fhir/Patient/p1/$everything?_count=1')).body as Bundle;
      const next = new URL(first.link?.find((l) => l.relation === 'next')?.url as string);
      const cursor = next.searchParams.get('_cursor') as string;
      const foreign = await t.api().get(`/fhir/Patient/p1/$everything?_count=2&_cursor=${cursor}`);
      expect(foreign.status).toBe(400);
      expect(foreign.body.issue[0].diagnostics).toContain('another $everything query');
    });
  });
}
