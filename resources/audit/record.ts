// The audit trail's unit of storage: an AuditEvent as JSON plus the few columns auditors search by. Audit
// events are not ordinary resources (no versions, no search index): every store keeps them in an append-only,
// hash-chained log.
import type { AuditEvent } from '@medplum/fhirtypes';
import { ACTOR_PREFIX, codeOfSubtype } from './balp';

export interface AuditRecord {
  /** The AuditEvent's id. */
  id: string;
  /** Epoch ms (AuditEvent.recorded). */
  recorded: number;
  /** Ids of the Patients the event is about (entity role 1, type 1), for `patient` searches. */
  patients: string[];
  /** The requesting agent: fhirUser (`Practitioner/7`), else `user/<id>`, else `client/<id>`, else the actor. */
  agent: string;
  /** restful-interaction code (read, vread, search-type, create, ...) or auth event code (login, token, ...). */
  subtype: string;
  outcome: string;
  /** The AuditEvent as JSON: exactly the text the chain hashes. */
  json: string;
}

export interface StoredAuditRecord extends AuditRecord {
  /** Position in the chain, from 1, without gaps. */
  seq: number;
  prevHash: string;
  hash: string;
}

/** Newest first. */
export interface AuditQuery {
  patient?: string;
  agent?: string;
  /** Any of these subtypes. */
  subtype?: string[];
  /** Any of these outcomes. */
  outcome?: string[];
  /** recorded >= since (epoch ms). */
  since?: number;
  /** recorded <= until (epoch ms). */
  until?: number;
  count: number;
  /** Opaque position from a previous page's `next`. */
  cursor?: string;
}

const PATIENT_REFERENCE = /^Patient\/([^/]+)/;

/** The record of an event built by `auditEvents` (balp.ts): its columns are read back from the resource. */
export function auditRecordOf(event: AuditEvent): AuditRecord {
  const patients = (event.entity ?? [])
    .filter((e) => e.type?.code === '1' && e.role?.code === '1')
    .map((e) => PATIENT_REFERENCE.exec(e.what?.reference ?? '')?.[1])
    .filter((id): id is string => id !== undefined);
  return {
    id: event.id as string,
    recorded: Date.parse(event.recorded),
    patients,
    agent: requestingAgent(event),
    subtype: codeOfSubtype(event.subtype?.[0]),
    outcome: event.outcome ?? '0',
    json: JSON.stringify(event),
  };
}

function requestingAgent(event: AuditEvent): string {
  const who = event.agent.find((a) => a.requestor)?.who;
  if (who?.reference) return who.reference;
  const identifier = who?.identifier;
  return `${ACTOR_PREFIX[identifier?.system ?? ''] ?? ''}${identifier?.value ?? ''}`;
}
