// Transaction entries a mapping emits. Writes are idempotent: a resource with a business identifier is a
// conditional update on it, so a replayed or reprocessed message updates what the first run wrote.
import type { Bundle, BundleEntry, Identifier, Reference, Resource } from '@medplum/fhirtypes';
import { randomUUID } from 'node:crypto';
import type { MappingContext } from './context';

export interface TransactionBuilder {
  /** Adds a resource; returns the reference other entries use for it (its urn:uuid fullUrl). */
  upsert(resource: Resource, identifier: Identifier | undefined): string;
  /** A conditional create (`ifNoneExist` on the identifier): an existing match is kept unchanged. */
  createIfAbsent(resource: Resource, identifier: Identifier): string;
  /** A JSON Patch of the one resource matching the identifier (e.g. A40 marks the merged record inactive). */
  patch(resourceType: string, identifier: Identifier, operations: object[]): void;
  bundle(): Bundle;
}

/** `system|value` for a search on a token. */
export const tokenOf = (identifier: Identifier): string =>
  `${identifier.system ? `${escapeToken(identifier.system)}|` : ''}${escapeToken(identifier.value ?? '')}`;

/** Search values escape `,`, `$` and `|` with a backslash (R4 search escaping). */
const escapeToken = (value: string) => value.replace(/[\\,$|]/g, (c) => `\\${c}`);

/** A reference resolved by the server: the one `resourceType` with this identifier (conditional reference). */
export function referenceByIdentifier(resourceType: string, identifier: Identifier, display?: string): Reference {
  return {
    reference: `${resourceType}?identifier=${encodeURIComponent(tokenOf(identifier))}`,
    ...(display ? { display } : {}),
  };
}

/**
 * `meta.source` of what a message writes: `hl7v2:<channel>#<stored message id>`, so a record leads back to the
 * message, and the outbound side does not echo changes the bridge itself made.
 */
export const messageSource = (context: Pick<MappingContext, 'channel' | 'messageId'>): string =>
  `hl7v2:${context.channel}#${context.messageId}`;

export function transactionBuilder(context: Pick<MappingContext, 'channel' | 'messageId'>): TransactionBuilder {
  const entries: BundleEntry[] = [];
  const source = messageSource(context);
  const withMeta = (resource: Resource): Resource => ({ ...resource, meta: { ...resource.meta, source } });
  const add = (resource: Resource, request: BundleEntry['request']): string => {
    const fullUrl = `urn:uuid:${randomUUID()}`;
    entries.push({ fullUrl, resource: withMeta(resource), request });
    return fullUrl;
  };
  return {
    upsert(resource, identifier) {
      if (!identifier?.value) return add(resource, { method: 'POST', url: resource.resourceType });
      const url = `${resource.resourceType}?identifier=${encodeURIComponent(tokenOf(identifier))}`;
      return add(resource, { method: 'PUT', url });
    },
    createIfAbsent(resource, identifier) {
      const ifNoneExist = `identifier=${encodeURIComponent(tokenOf(identifier))}`;
      return add(resource, { method: 'POST', url: resource.resourceType, ifNoneExist });
    },
    patch(resourceType, identifier, operations) {
      const url = `${resourceType}?identifier=${encodeURIComponent(tokenOf(identifier))}`;
      const data = Buffer.from(JSON.stringify(operations)).toString('base64');
      entries.push({
        resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data },
        request: { method: 'PATCH', url },
      });
    },
    bundle: () => ({ resourceType: 'Bundle', type: 'transaction', entry: entries }),
  };
}
