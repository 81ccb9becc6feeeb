// Canonical resources (ValueSet, Questionnaire, StructureDefinition ...) are found by `url=[url]|[version]`
// (R4 search.html#uri: the `|version` part is a search on the business version). Their `url` entries are
// joined by `url|version` entries, made from the `url` and `version` entries extraction already produced.
import type { IndexEntry, UriEntry } from './index-entry';

export function withCanonicalVersions(entries: IndexEntry[]): IndexEntry[] {
  const urls: string[] = [];
  const versions: string[] = [];
  for (const entry of entries) {
    if (entry.param === 'url' && entry.type === 'uri' && !entry.value.includes('|')) urls.push(entry.value);
    else if (entry.param === 'version' && entry.type === 'token' && entry.code) versions.push(entry.code);
  }
  if (urls.length === 0 || versions.length === 0) return entries;
  const versioned = urls.flatMap((url) =>
    versions.map((version): UriEntry => ({ type: 'uri', param: 'url', value: `${url}|${version}` })),
  );
  return [...entries, ...versioned];
}
