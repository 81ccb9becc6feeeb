// AuditEvents in the IHE Basic Audit Log Patterns (BALP) shape, built from who acted (the AccessContext) and
// what they did (an AuditAction): one event per patient concerned, as BALP asks, so "who saw patient X" is one
// search. Pure functions: the repository and the authorization server decide when, the store keeps them.
import type { AuditEvent, AuditEventAgent, AuditEventEntity, Coding } from '@medplum/fhirtypes';
import type { AccessContext } from '../access';
import { newId } from '../ids';

export type AuditSubtype =
  | 'read'
  | 'vread'
  | 'history-instance'
  | 'history-type'
  | 'history-system'
  | 'search-type'
  | 'search-system'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'batch'
  | 'transaction'
  | 'operation'
  | 'login'
  | 'logout'
  | 'token'
  | 'revoke'
  | 'admin'
  | 'break-glass';

export type AuditOutcome = '0' | '4' | '8' | '12';

export interface AuditAction {
  subtype: AuditSubtype;
  outcome: AuditOutcome;
  /** Never PHI: 'access denied', 'invalid_grant'. */
  outcomeText?: string;
  /** Versioned references ('Observation/1/_history/2') of the resources touched or returned. */
  entities?: string[];
  /** Ids of the Patients those resources belong to. */
  patients?: string[];
  /** The raw query string of a search. */
  query?: string;
  /** The searched type, for type searches. */
  resourceType?: string;
}

type AuditAct = NonNullable<AuditEvent['action']>;

interface EventKind {
  type: Coding;
  subtype: Coding;
  action: AuditAct;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';
const HMS_SUBTYPE = 'urn:hms:audit-subtype';
const AUDIT_ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
const BALP_ENTITY_TYPE = 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType';

/** Identifier systems of an agent's `who`, so the requesting agent can be read back from the event. */
const USER_SYSTEM = 'urn:hms:user';
const CLIENT_SYSTEM = 'urn:hms:client';
const ACTOR_SYSTEM = 'urn:hms:actor';

/** Identifier system -> prefix of the record's `agent` column (record.ts). */
export const ACTOR_PREFIX: Readonly<Record<string, string>> = {
  [USER_SYSTEM]: 'user/',
  [CLIENT_SYSTEM]: 'client/',
  [ACTOR_SYSTEM]: '',
};

const SERVER_NAME = 'HMS FHIR server';

const REST_TYPE: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
  code: 'rest',
  display: 'Restful Operation',
};
const USER_AUTHENTICATION: Coding = { system: DCM, code: '110114', display: 'User Authentication' };
const SECURITY_ALERT: Coding = { system: DCM, code: '110113', display: 'Security Alert' };

const rest = (code: string, action: AuditAct): EventKind => ({
  type: REST_TYPE,
  subtype: { system: RESTFUL_INTERACTION, code, display: code },
  action,
});

const authentication = (subtype: Coding): EventKind => ({ type: USER_AUTHENTICATION, subtype, action: 'E' });

/** Searches and whole-type or whole-system history are queries (E); instance history reads one resource (R). */
const EVENT_KINDS: Record<AuditSubtype, EventKind> = {
  read: rest('read', 'R'),
  vread: rest('vread', 'R'),
  'history-instance': rest('history-instance', 'R'),
  'history-type': rest('history-type', 'E'),
  'history-system': rest('history-system', 'E'),
  'search-type': rest('search-type', 'E'),
  'search-system': rest('search-system', 'E'),
  create: rest('create', 'C'),
  update: rest('update', 'U'),
  patch: rest('patch', 'U'),
  delete: rest('delete', 'D'),
  batch: rest('batch', 'E'),
  transaction: rest('transaction', 'E'),
  operation: rest('operation', 'E'),
  login: authentication({ system: DCM, code: '110122', display: 'Login' }),
  logout: authentication({ system: DCM, code: '110123', display: 'Logout' }),
  token: authentication({ system: HMS_SUBTYPE, code: 'token', display: 'Token issued' }),
  revoke: authentication({ system: HMS_SUBTYPE, code: 'revoke', display: 'Token revoked' }),
  admin: authentication({ system: HMS_SUBTYPE, code: 'admin', display: 'Administrative change' }),
  'break-glass': {
    type: SECURITY_ALERT,
    subtype: { system: DCM, code: '110127', display: 'Emergency Override Started' },
    action: 'E',
  },
};

const SUBTYPE_BY_CODING = new Map(
  Object.entries(EVENT_KINDS).map(([subtype, kind]) => [`${kind.subtype.system}|${kind.subtype.code}`, subtype]),
);

/** The AuditAction subtype of an event's subtype coding; the bare code for one this module did not write. */
export function codeOfSubtype(coding: Coding | undefined): string {
  return SUBTYPE_BY_CODING.get(`${coding?.system}|${coding?.code}`) ?? coding?.code ?? '';
}

const SOURCE: AuditEvent['source'] = {
  observer: { display: SERVER_NAME },
  type: [
    { system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' },
  ],
};

export function auditEvents(access: AccessContext, action: AuditAction, recorded: Date): AuditEvent[] {
  const kind = EVENT_KINDS[action.subtype];
  const at = recorded.toISOString();
  const shared = sharedEntities(access, action);
  const patients = [...new Set(action.patients ?? [])];
  const perEvent: (string | undefined)[] = patients.length > 0 ? patients : [undefined];
  return perEvent.map((patient) => {
    const entity = patient === undefined ? shared : [patientEntity(patient), ...shared];
    const event: AuditEvent = {
      resourceType: 'AuditEvent',
      id: newId(recorded.getTime()),
      meta: { versionId: '1', lastUpdated: at },
      type: kind.type,
      subtype: [kind.subtype],
      action: kind.action,
      recorded: at,
      outcome: action.outcome,
      agent: agents(access),
      source: SOURCE,
    };
    if (action.outcomeText) event.outcomeDesc = action.outcomeText;
    if (entity.length > 0) event.entity = entity;
    return event;
  });
}

/**
 * The user (when a person acts) is the requestor; the client (or, for internal work and the command line, the
 * actor) otherwise. The token id goes on the requestor, as BALP's IUA pattern puts it on the user.
 */
function agents(access: AccessContext): AuditEventAgent[] {
  const policy = access.tokenId ? { policy: [`urn:ietf:params:oauth:jti:${access.tokenId}`] } : {};
  const user = userAgent(access);
  const client: AuditEventAgent = {
    type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
    who: {
      identifier: access.clientId
        ? { system: CLIENT_SYSTEM, value: access.clientId }
        : { system: ACTOR_SYSTEM, value: access.actor },
    },
    requestor: !user,
    ...(user ? {} : policy),
  };
  if (access.ip) client.network = { address: access.ip, type: '2' };
  const server: AuditEventAgent = {
    type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] },
    who: { display: SERVER_NAME },
    requestor: false,
  };
  return user ? [{ ...user, ...policy }, client, server] : [client, server];
}

function userAgent(access: AccessContext): AuditEventAgent | undefined {
  const who = access.fhirUser
    ? { reference: access.fhirUser }
    : access.userId && { identifier: { system: USER_SYSTEM, value: access.userId } };
  if (!who) return undefined;
  const agent: AuditEventAgent = {
    type: {
      coding: [
        {
          system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
          code: 'IRCP',
          display: 'information recipient',
        },
      ],
    },
    who,
    requestor: true,
  };
  if (access.role) agent.role = [{ text: access.role }];
  return agent;
}

function patientEntity(id: string): AuditEventEntity {
  return {
    what: { reference: `Patient/${id}` },
    type: { system: AUDIT_ENTITY_TYPE, code: '1', display: 'Person' },
    role: { system: OBJECT_ROLE, code: '1', display: 'Patient' },
  };
}

/** The entities every event of one action carries: the resources, the query, the request id. */
function sharedEntities(access: AccessContext, action: AuditAction): AuditEventEntity[] {
  const entities: AuditEventEntity[] = (action.entities ?? []).map((reference) => ({
    what: { reference },
    type: { system: AUDIT_ENTITY_TYPE, code: '2', display: 'System Object' },
    role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' },
  }));
  if (action.query !== undefined) {
    entities.push({
      type: { system: AUDIT_ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      query: Buffer.from(action.query).toString('base64'),
      description: action.resourceType ? `${action.resourceType}?${action.query}` : `?${action.query}`,
    });
  }
  if (access.requestId) {
    entities.push({
      what: { identifier: { value: access.requestId } },
      type: { system: BALP_ENTITY_TYPE, code: 'XrequestId', display: 'X-Request-Id' },
    });
  }
  return entities;
}
