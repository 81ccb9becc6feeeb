// Reference rewriting for transaction Bundles: what is replaced, what is kept, and that the input is left as
// it was while everything without a replaced string is shared rather than copied.
import type { Observation } from '@medplum/fhirtypes';
import { rewriteReferences } from '../../resources/bundle-references';

const mapping = new Map([
  ['urn:uuid:p1', 'Patient/123'],
  ['Patient?identifier=mrn|7', 'Patient/7'],
]);

function sample(): Observation {
  return {
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
    subject: { reference: 'urn:uuid:p1' },
    performer: [{ reference: 'Practitioner/9' }, { reference: 'Patient?identifier=mrn|7' }],
    derivedFrom: [{ reference: 'urn:uuid:unknown' }],
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><a href="urn:uuid:p1">p</a></div>' },
    note: [{ text: 'urn:uuid:p1' }, { text: 'Patient?identifier=mrn|7' }],
  };
}

test('mapped references, whole-string fullUrls and narrative links are replaced; the rest is kept', () => {
  const rewritten = rewriteReferences(sample(), mapping) as Observation;
  expect(rewritten.subject).toEqual({ reference: 'Patient/123' });
  expect(rewritten.performer).toEqual([{ reference: 'Practitioner/9' }, { reference: 'Patient/7' }]);
  expect(rewritten.derivedFrom).toEqual([{ reference: 'urn:uuid:unknown' }]);
  expect(rewritten.text?.div).toContain('href="Patient/123"');
  // A conditional reference only means something in Reference.reference.
  expect(rewritten.note).toEqual([{ text: 'Patient/123' }, { text: 'Patient?identifier=mrn|7' }]);
});

test('the input is unchanged, and parts without a replacement are shared, not copied', () => {
  const original = sample();
  const before = structuredClone(original);
  const rewritten = rewriteReferences(original, mapping) as Observation;
  expect(original).toEqual(before);
  expect(rewritten).not.toBe(original);
  expect(rewritten.code).toBe(original.code);
  expect(rewritten.derivedFrom).toBe(original.derivedFrom);
  expect(rewritten.performer?.[0]).toBe(original.performer?.[0]);
  expect(rewritten.performer).not.toBe(original.performer);
});

test('a resource with nothing to replace comes back as it is', () => {
  const plain = { ...sample(), subject: { reference: 'Patient/1' }, performer: [], note: [], text: undefined };
  delete plain.text;
  plain.derivedFrom = [];
  expect(rewriteReferences(plain, mapping)).toBe(plain);
  expect(rewriteReferences(plain, new Map())).toBe(plain);
});
