// Applies one stored inbound message to the FHIR store: decode, map (pure), link to what exists, and write
// the transaction through the same repository and validation as the REST API, as the channel; the audit trail
// gets one event per message naming every version it wrote (or the refusal), with the message id.
import type { Bundle } from '@medplum/fhirtypes';
import { FhirError } from '../../../resources/errors';
import { Repository, type RepositoryServices } from '../../../resources/repository';
import type { AccessContext } from '../../../resources/access';
import type { AuditAction } from '../../../resources/audit/balp';
import { records } from '../../../resources/audit/trail';
import { batchInteraction } from '../../../server/fhir/batch';
import type { InboundChannel } from '../channels';
import { OWN_NAMESPACE, type MappingContext } from '../mappings/context';
import { INBOUND_MAPPINGS } from '../mappings/index';
import { MappingError } from '../mappings/types';
import { decodeFrame } from '../message/charset';
import { V2Message, V2ParseError } from '../message/v2-message';
import type { MessageError, StoredMessage } from '../message-store/port';
import { linkBundle } from './link';

export type ApplyResult =
  | { ok: true; written: string[]; unmatched: string[]; bundle: Bundle }
  | { ok: false; error: MessageError; bundle?: Bundle };

export const channelAccess = (channel: InboundChannel): AccessContext => ({ actor: `hl7/${channel.id}` });

export async function applyMessage(
  services: RepositoryServices,
  baseUrl: string,
  channel: InboundChannel,
  message: StoredMessage,
  /** The message as the receiver parsed it from the same bytes; parsed here when absent (a replay). */
  received?: V2Message,
): Promise<ApplyResult> {
  let parsed: V2Message;
  try {
    parsed = received ?? V2Message.parse(decodeFrame(message.raw, channel.charset).text);
  } catch (error) {
    if (error instanceof V2ParseError) return failure('parse', error.message, '100');
    throw error;
  }
  const mapping = INBOUND_MAPPINGS.get(parsed.header.type);
  if (!mapping) return failure('map', `No mapping for ${parsed.header.type}`, '200');
  let mapped: Bundle;
  try {
    mapped = mapping(parsed, mappingContext(channel, parsed, message.id));
  } catch (error) {
    if (error instanceof MappingError) return failure('map', error.message, error.code, error.location);
    throw error;
  }
  const repo = new Repository(services, channelAccess(channel));
  const { bundle, unmatched } = await linkBundle(repo, mapped, message.id, {
    // Only a message applied before can have an orphan Task to close.
    rerun: message.status !== 'received',
  });
  try {
    const response = await writeBundle(repo, bundle, baseUrl);
    const versions = writtenVersions(response.body);
    await audit(services, repo.access, message, {
      outcome: '0',
      entities: versions,
      patients: patientsIn(bundle, versions),
    });
    return { ok: true, written: versions.map((v) => v.replace(/\/_history\/.*$/, '')), unmatched, bundle };
  } catch (error) {
    if (!(error instanceof FhirError)) throw error;
    await audit(services, repo.access, message, { outcome: '4', outcomeText: `hl7 message ${message.id} refused` });
    const text = (error.outcome.issue ?? []).map((i) => i.diagnostics ?? i.code).join('; ');
    return { ok: false, error: { reason: 'validate', code: '207', text }, bundle };
  }
}

function writeBundle(repo: Repository, bundle: Bundle, baseUrl: string) {
  const headers = { prefer: 'return=minimal' };
  return batchInteraction({ method: 'POST', params: {}, query: [], headers, body: bundle, repo, baseUrl });
}

/**
 * One AuditEvent per applied message, acknowledged at COMMIT like the audit of reads; a crash before it leaves
 * the message unprocessed, and applying it again at the next start writes nothing new and logs the event.
 */
function audit(
  services: RepositoryServices,
  access: AccessContext,
  message: StoredMessage,
  action: Omit<AuditAction, 'subtype'>,
): Promise<void> {
  const detail = `hl7 message ${message.id} (${message.type})`;
  return services.store.logAudit(records(access, { subtype: 'transaction', outcomeText: detail, ...action }));
}

/** Patients the message wrote or wrote about: written Patients and the patients its resources reference. */
function patientsIn(bundle: Bundle, versions: string[]): string[] {
  const ids = new Set(versions.filter((v) => v.startsWith('Patient/')).map((v) => v.split('/')[1]));
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) visit(item);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      if (key !== 'reference') visit(child);
      else if (typeof child === 'string' && child.startsWith('Patient/') && PATIENT_ID.test(child.slice(8))) {
        ids.add(child.slice(8));
      }
    }
  };
  for (const entry of bundle.entry ?? []) visit(entry.resource);
  return [...ids];
}

const PATIENT_ID = /^[A-Za-z0-9.-]{1,64}$/;

function mappingContext(channel: InboundChannel, message: V2Message, messageId: string): MappingContext {
  return {
    channel: channel.id,
    sender: message.header.sendingFacility || message.header.sendingApplication,
    tables: channel.tables,
    timezone: channel.timezone,
    ownNamespace: OWN_NAMESPACE,
    messageId,
  };
}

function failure(reason: MessageError['reason'], text: string, code?: string, location?: string): ApplyResult {
  return { ok: false, error: { reason, text, ...(code ? { code } : {}), ...(location ? { location } : {}) } };
}

/** `Type/id/_history/n` of each version the transaction wrote, from its response Bundle (fullUrl and ETag). */
function writtenVersions(body: unknown): string[] {
  const bundle = (body as { resource?: Bundle } | undefined)?.resource;
  return (bundle?.entry ?? []).flatMap((e) => {
    const version = /^W\/"(\d+)"$/.exec(e.response?.etag ?? '')?.[1];
    const reference = e.fullUrl?.replace(/^.*\/fhir\//, '');
    return reference && version ? [`${reference}/_history/${version}`] : [];
  });
}
