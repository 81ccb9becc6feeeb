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
