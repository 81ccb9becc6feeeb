// The $everything paging cursor: round trip, binding to its query, rejection of tampered text, and the bound
// on how many supporting resources it remembers.
import { FhirError } from '../../../resources/errors';
import {
  MAX_SEEN,
  SeenSet,
  decodeEverythingCursor,
  encodeEverythingCursor,
  queryFingerprint,
} from '../../../resources/everything/cursor';

const fingerprint = queryFingerprint('Patient/p1/$everything', [['_count', '2']]);
const encode = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');

test('a cursor decodes to the position and seen set it was made from', () => {
  const seen = new SeenSet();
  seen.add('Practitioner/dr');
  const text = encodeEverythingCursor(
    { position: { anchorId: 'p1', anchorNext: 'n1', segment: 3, store: 's1' }, seen },
    fingerprint,
  );
  const decoded = decodeEverythingCursor(text, fingerprint);
  expect(decoded.position).toEqual({ anchorId: 'p1', anchorNext: 'n1', segment: 3, store: 's1' });
  expect(decoded.seen.has('Practitioner/dr')).toBe(true);
  expect(decoded.seen.has('Practitioner/other')).toBe(false);
});

test('a cursor of another query or with a malformed body is a 400 on _cursor', () => {
  const text = encodeEverythingCursor({ position: { anchorId: 'p1', segment: 0 }, seen: new SeenSet() }, fingerprint);
  const other = queryFingerprint('Patient/p1/$everything', [['_count', '3']]);
  const bad = [
    () => decodeEverythingCursor(text, other),
    () => decodeEverythingCursor(encode({ f: fingerprint, a: 'p1', s: -1, h: '' }), fingerprint),
    () => decodeEverythingCursor(encode({ f: fingerprint, a: 'p1', s: 0, h: 'abc' }), fingerprint),
    () => decodeEverythingCursor(encode({ f: fingerprint, a: 'p1', s: 0, h: '', c: 7 }), fingerprint),
    () => decodeEverythingCursor(encode([1, 2]), fingerprint),
  ];
  for (const decode of bad) {
    expect(decode).toThrow(FhirError);
    try {
      decode();
    } catch (error) {
      expect((error as FhirError).outcome.issue?.[0].expression).toEqual(['_cursor']);
    }
  }
});

test(`the seen set stops growing at ${MAX_SEEN} so the cursor stays a URL`, () => {
  const seen = new SeenSet();
  for (let i = 0; i < MAX_SEEN + 10; i++) seen.add(`Practitioner/${i}`);
  expect(seen.serialize().length).toBe(MAX_SEEN * 8);
  expect(seen.has('Practitioner/0')).toBe(true);
  expect(seen.has(`Practitioner/${MAX_SEEN + 5}`)).toBe(false);
});
