// Relative references inside a transaction Bundle (R4 bundle.html "Resolving references in Bundles"): a
// `Type/id` is read against the base of the fullUrl of the entry holding it (the server's base when that
// fullUrl is not a RESTful URL, e.g. a urn:uuid); when the URL this gives is another entry's fullUrl, the
// reference points at that entry and is rewritten to the `Type/id` the transaction gives it.
import { isResourceType } from '../../resources/definitions';

/** `[base]/[type]/[id]` with an http(s) base, as R4 defines a RESTful fullUrl. */
const RESTFUL_URL = /^(https?:\/\/[^?#]+)\/([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/;

export interface RestfulUrl {
  base: string;
  /** `Type/id`. */
  relative: string;
}

/** `http://example.org/fhir/Patient/1` -> base `http://example.org/fhir`, relative `Patient/1`. */
export function restfulUrl(url: string | undefined): RestfulUrl | undefined {
  const match = url === undefined ? null : RESTFUL_URL.exec(url);
  if (!match || !isResourceType(match[2])) return undefined;
  return { base: match[1], relative: `${match[2]}/${match[3]}` };
}

/** The reference mapping to rewrite an entry with, chosen by the entry's fullUrl. */
export type EntryMapping = (fullUrl: string | undefined) => ReadonlyMap<string, string>;

/**
 * Extends `mapping` (fullUrl or conditional reference -> `Type/id`) with the relative form of every RESTful
 * fullUrl in it, for the entries on that fullUrl's base. The extended maps are built once per base, not once
 * per entry: a Bundle's entries mostly share one base or use urn:uuid fullUrls (then `mapping` is returned).
 */
export function relativeReferenceMapping(mapping: ReadonlyMap<string, string>, serverBase: string): EntryMapping {
  const relativeByBase = new Map<string, Map<string, string>>();
  for (const [fullUrl, target] of mapping) {
    const url = restfulUrl(fullUrl);
    if (!url) continue;
    const relative = relativeByBase.get(url.base) ?? new Map<string, string>();
    relativeByBase.set(url.base, relative.set(url.relative, target));
  }
  const extended = new Map<string, ReadonlyMap<string, string>>();
  return (fullUrl) => {
    const base = restfulUrl(fullUrl)?.base ?? serverBase;
    const relative = relativeByBase.get(base);
    if (!relative) return mapping;
    let forBase = extended.get(base);
    if (!forBase) extended.set(base, (forBase = new Map([...mapping, ...relative])));
    return forBase;
  };
}
