// `url|version` entries of canonical resources, from the url and version entries extraction produced.
import type { Resource } from '@medplum/fhirtypes';
import { withCanonicalVersions } from '../../../resources/search/canonical-versions';
import { extractIndexEntries } from '../../../resources/search/extract';
import type { IndexEntry } from '../../../resources/search/index-entry';
import { SearchParameterRegistry } from '../../../resources/search/registry';

const registry = SearchParameterRegistry.withBaseParameters();
const urlValues = (resource: Record<string, unknown>) =>
  extractIndexEntries(registry, resource as unknown as Resource)
    .filter((e) => e.param === 'url' && e.type === 'uri')
    .map((e) => (e.type === 'uri' ? e.value : ''));

test('a canonical resource with a version is indexed by its url and by url|version', () => {
  const valueSet = { resourceType: 'ValueSet', status: 'active', url: 'http://x/vs', version: '2.1' };
  expect(urlValues(valueSet)).toEqual(['http://x/vs', 'http://x/vs|2.1']);
});

test('without a version, or without a url, nothing is added', () => {
  expect(urlValues({ resourceType: 'Questionnaire', status: 'active', url: 'http://x/q' })).toEqual(['http://x/q']);
  expect(urlValues({ resourceType: 'Questionnaire', status: 'active', version: '1' })).toEqual([]);
});

test('only url entries of type uri and version tokens with a code pair up; versioned urls are left alone', () => {
  const entries: IndexEntry[] = [
    { type: 'uri', param: 'url', value: 'http://x|1' },
    { type: 'token', param: 'version', system: null, code: null, text: 'one' },
    { type: 'string', param: 'url', value: 'http://y', exact: 'http://y' },
  ];
  expect(withCanonicalVersions(entries)).toBe(entries);
  const paired: IndexEntry[] = [
    { type: 'uri', param: 'url', value: 'http://x' },
    { type: 'token', param: 'version', system: null, code: '1', text: null },
  ];
  expect(withCanonicalVersions(paired)).toEqual([...paired, { type: 'uri', param: 'url', value: 'http://x|1' }]);
});
