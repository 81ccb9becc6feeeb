// The parts of relative-reference resolution that need no server: what counts as a RESTful fullUrl, and
// which mapping each entry gets.
import { relativeReferenceMapping, restfulUrl } from '../../../server/fhir/bundle-relative-references';

const SERVER = 'http://localhost:8080/fhir';

test('a RESTful fullUrl is [base]/[resource type]/[id] with an http(s) base', () => {
  expect(restfulUrl('http://example.com/fhir/Patient/0')).toEqual({
    base: 'http://example.com/fhir',
    relative: 'Patient/0',
  });
  expect(restfulUrl('https://example.com/Observation/a.b-1')).toEqual({
    base: 'https://example.com',
    relative: 'Observation/a.b-1',
  });
  for (const notRestful of [
    undefined,
    'urn:uuid:5b0e7e32-0001-4000-8000-000000000001',
    'http://example.com/fhir/NotAType/1',
    'http://example.com/fhir/Patient/has space',
    'http://example.com/fhir/Patient/1?x=y',
    'Patient/1',
  ]) {
    expect(restfulUrl(notRestful)).toBeUndefined();
  }
});

test('each entry gets the relative forms of the fullUrls on its own base, one map per base', () => {
  const mapping = new Map([
    ['http://a.org/fhir/Patient/1', 'Patient/x1'],
    ['http://b.org/fhir/Patient/1', 'Patient/y1'],
    [`${SERVER}/Patient/2`, 'Patient/z2'],
    ['urn:uuid:5b0e7e32-0001-4000-8000-000000000009', 'Patient/u9'],
  ]);
  const mappingOf = relativeReferenceMapping(mapping, SERVER);
  const onA = mappingOf('http://a.org/fhir/Observation/5');
  expect(onA.get('Patient/1')).toBe('Patient/x1');
  expect(onA.get('urn:uuid:5b0e7e32-0001-4000-8000-000000000009')).toBe('Patient/u9');
  expect(mappingOf('http://a.org/fhir/Encounter/6')).toBe(onA);
  expect(mappingOf('http://b.org/fhir/Observation/5').get('Patient/1')).toBe('Patient/y1');
  // A urn:uuid fullUrl and no fullUrl are read against the server's base.
  expect(mappingOf('urn:uuid:5b0e7e32-0001-4000-8000-000000000010').get('Patient/2')).toBe('Patient/z2');
  expect(mappingOf(undefined).get('Patient/2')).toBe('Patient/z2');
  // A base with no mapped fullUrl keeps the plain mapping.
  expect(mappingOf('http://c.org/fhir/Observation/1')).toBe(mapping);
});
