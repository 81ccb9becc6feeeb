// Reference rewriting for transaction Bundles (R4 http.html#trules): a `reference` naming an entry's
// fullUrl or a conditional reference (`Type?criteria`) becomes the `Type/id` the transaction assigned or
// found; a fullUrl also is replaced where it stands whole in any other string element (uri, url, ...) and
// in the narrative's `href` and `src` attributes.

export const isConditionalReference = (reference: string): boolean => /^[A-Z][A-Za-z]+\?/.test(reference);

/**
 * Returns the resource with mapped references replaced; unmapped ones are kept. The input is never changed:
 * objects and arrays on the way to a replaced string are copied, the rest is shared (a Bundle's resources
 * are mostly codes and values, and copying them all was a tenth of a bulk ingest's garbage).
 */
export function rewriteReferences<T extends object>(resource: T, mapping: ReadonlyMap<string, string>): T {
  if (mapping.size === 0) return resource;
  return rewrite(resource, mapping, '') as T;
}

function rewrite(value: unknown, mapping: ReadonlyMap<string, string>, key: string): unknown {
  if (typeof value === 'string') return rewriteString(value, mapping, key);
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const rewritten = rewrite(item, mapping, key);
      if (rewritten !== item) (copy ??= [...value])[i] = rewritten;
    });
    return copy ?? value;
  }
  let copy: Record<string, unknown> | undefined;
  for (const [childKey, child] of Object.entries(value)) {
    const rewritten = rewrite(child, mapping, childKey);
    if (rewritten !== child) (copy ??= { ...value })[childKey] = rewritten;
  }
  return copy ?? value;
}

function rewriteString(value: string, mapping: ReadonlyMap<string, string>, key: string): string {
  if (key === 'div') return rewriteNarrative(value, mapping);
  const target = mapping.get(value);
  if (target === undefined) return value;
  // Conditional references are only meaningful in Reference.reference.
  return key === 'reference' || !isConditionalReference(value) ? target : value;
}

function rewriteNarrative(div: string, mapping: ReadonlyMap<string, string>): string {
  return div.replace(/\b(href|src)="([^"]*)"/g, (whole, attribute: string, url: string) => {
    const target = isConditionalReference(url) ? undefined : mapping.get(url);
    return target === undefined ? whole : `${attribute}="${target}"`;
  });
}

/** Every conditional reference (`Type?criteria`) in the resource. */
export function conditionalReferences(resource: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(resource)) {
    for (const item of resource) conditionalReferences(item, into);
  } else if (typeof resource === 'object' && resource !== null) {
    for (const [key, child] of Object.entries(resource)) {
      if (key === 'reference' && typeof child === 'string' && isConditionalReference(child)) into.add(child);
      else conditionalReferences(child, into);
    }
  }
  return into;
}
