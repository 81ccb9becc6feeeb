// Resource ids: the R4 pattern, server-assigned UUIDv7 ids, version ids.
import { assertValidId, isValidId, newId, parseVersionId } from '../../resources/ids';

test('new ids are valid UUIDv7 strings that sort by creation time', () => {
  const early = newId(Date.UTC(2026, 0, 1));
  const late = newId(Date.UTC(2026, 0, 2));
  for (const id of [early, late, newId()]) {
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(isValidId(id)).toBe(true);
  }
  expect(early < late).toBe(true);
  expect(early.slice(0, 13).replace('-', '')).toBe(Date.UTC(2026, 0, 1).toString(16).padStart(12, '0'));
  expect(new Set(Array.from({ length: 1000 }, () => newId())).size).toBe(1000);
});

test('the R4 id pattern', () => {
  expect(isValidId('a'.repeat(64))).toBe(true);
  expect(isValidId('a'.repeat(65))).toBe(false);
  expect(isValidId('with space')).toBe(false);
  expect(isValidId('under_score')).toBe(false);
  expect(() => assertValidId('bad id')).toThrow(/Invalid resource id/);
});

test('version ids are positive integers', () => {
  expect(parseVersionId('1')).toBe(1);
  expect(parseVersionId('0')).toBeUndefined();
  expect(parseVersionId('01')).toBeUndefined();
  expect(parseVersionId('x')).toBeUndefined();
});
