// Uri parameters: uri, url, canonical, oid and uuid values as written. A versioned canonical
// (`http://x/StructureDefinition/p|1.0`, e.g. in meta.profile) is also indexed without its version, so that
// searches by the bare URL find it.
import type { UriEntry } from '../index-entry';
import { text, type TypedValue } from './value';

export function uriEntries(value: TypedValue, param: string): UriEntry[] {
  const uri = text(value.data);
  if (uri === undefined) {
    return [];
  }
  const entries: UriEntry[] = [{ type: 'uri', param, value: uri }];
  const unversioned = uri.split('|')[0];
  if (value.type === 'canonical' && unversioned !== uri && unversioned !== '') {
    entries.push({ type: 'uri', param, value: unversioned });
  }
  return entries;
}

/** A canonical URL with a `|version` part. */
export const isVersioned = (value: string): boolean => value.includes('|');

/**
 * What `:below` on a canonical matches (R4 search.html#versions): the value itself, and the values starting with
 * `prefix`. `X|1` stands for version 1 and its sub-versions `X|1.x` (not `X|10`); a bare `X` for every version.
 */
export function versionBelow(value: string): { equal: string; prefix: string } {
  return { equal: value, prefix: isVersioned(value) ? `${value}.` : `${value}|` };
}
