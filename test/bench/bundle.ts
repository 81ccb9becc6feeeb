// Turns generated resources into what a server accepts: transaction Bundles whose entries refer to each
// other by `urn:uuid:` fullUrls, and bodies whose references point at ids the server assigned.
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';

/** `Type/id` of a resource. */
export function localReference(resource: Resource): string {
  return `${resource.resourceType}/${resource.id}`;
}

/** A deep copy of `value` with every `Reference.reference` passed through `map`. */
export function rewriteReferences<T>(value: T, map: (reference: string) => string): T {
  return JSON.parse(
    JSON.stringify(value, (key, v: unknown) => (key === 'reference' && typeof v === 'string' ? map(v) : v)),
  ) as T;
}

/**
 * A transaction Bundle that creates every resource of `resources` in one POST. References between them become
 * `urn:uuid:` references; others are looked up in `known` (local reference -> server reference) or kept.
 */
export function toTransactionBundle(resources: readonly Resource[], known?: ReadonlyMap<string, string>): Bundle {
  const inBundle = new Set(resources.map(localReference));
  const resolve = (ref: string): string =>
    inBundle.has(ref) ? `urn:uuid:${ref.slice(ref.indexOf('/') + 1)}` : (known?.get(ref) ?? ref);
  const entry: BundleEntry[] = resources.map((resource) => {
    const { id, ...body } = resource;
    return {
      fullUrl: `urn:uuid:${id}`,
      resource: rewriteReferences(body, resolve) as Resource,
      request: { method: 'POST', url: resource.resourceType },
    };
  });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

/** `Type/id` from a Location such as `http://host/fhir/Patient/123/_history/1` or `Patient/123`. */
export function referenceFromLocation(location: string): string | undefined {
  const match = /([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?\/?$/.exec(location);
  return match ? `${match[1]}/${match[2]}` : undefined;
}

/**
 * Local reference -> server reference for each entry of a transaction response, matched by position (as FHIR
 * requires) to the local references of the request's entries. Entries without a usable location or resource
 * id are left out.
 */
export function serverReferences(locals: readonly string[], response: Bundle): Map<string, string> {
  const result = new Map<string, string>();
  response.entry?.forEach((entry, i) => {
    const local = locals[i];
    if (!local) return;
    const fromLocation = entry.response?.location ? referenceFromLocation(entry.response.location) : undefined;
    const fromResource = entry.resource?.id ? `${entry.resource.resourceType}/${entry.resource.id}` : undefined;
    const server = fromLocation ?? fromResource;
    if (server) result.set(local, server);
  });
  return result;
}
