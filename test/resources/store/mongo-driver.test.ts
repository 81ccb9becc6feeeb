// The MongoDB driver wiring: connecting fails fast with a clear error that never shows the password, and
// the index list is well-formed against the document model and the README (mongo-integration creates it).
import fs from 'node:fs';
import path from 'node:path';
import { StoreConfigError } from '../../../resources/store/config-error';
import { connectMongo } from '../../../resources/store/mongo/driver-database';
import { resourceDocument, versionDocument } from '../../../resources/store/mongo/documents';
import { INDEXES } from '../../../resources/store/mongo/indexes';
import { subjectEntry, version } from './contract';
import { closedPort } from '../../support/fake-mongod';

async function connectError(url: string): Promise<Error> {
  const error = await connectMongo(url, { serverSelectionTimeoutMs: 300 }).then(
    () => new Error('connected'),
    (e: Error) => e,
  );
  expect(error).toBeInstanceOf(StoreConfigError);
  return error;
}

describe('connectMongo', () => {
  test('an unreachable server fails fast with a clear error naming the host', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await connectError(`mongodb://127.0.0.1:${port}/hms`);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(error.message).toMatch(new RegExp(`Cannot reach MongoDB at 127\\.0\\.0\\.1:${port} within 300 ms`));
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  test('credentials in the URL never appear in the message', async () => {
    const port = await closedPort();
    const reach = await connectError(`mongodb://admin:secret@127.0.0.1:${port}/hms?authSource=admin`);
    expect(reach.message).toMatch(`127.0.0.1:${port}`);
    expect(reach.message).not.toMatch(/secret/);
    const parse = await connectError(`mongodb://admin:s%40cret@127.0.0.1:${port}/hms?wtimeoutMS=soon`);
    expect(parse.message).toMatch(/not a valid MongoDB connection string/);
    expect(parse.message).not.toMatch(/s%40cret|s@cret/);
  });
});

/** The values at a dotted path, descending into arrays as MongoDB does for multikey indexes. */
function valuesAt(value: unknown, fields: string[]): unknown[] {
  if (Array.isArray(value)) return value.flatMap((item) => valuesAt(item, fields));
  if (fields.length === 0) return value === undefined ? [] : [value];
  if (value === null || typeof value !== 'object') return [];
  return valuesAt((value as Record<string, unknown>)[fields[0]], fields.slice(1));
}

/** The array fields crossed on the way to a path's values, outermost first. */
function arraysOn(value: unknown, fields: string[], prefix = ''): string[] {
  if (fields.length === 0 || value === null || typeof value !== 'object') return [];
  const here = (value as Record<string, unknown>)[fields[0]];
  const at = prefix ? `${prefix}.${fields[0]}` : fields[0];
  const items = Array.isArray(here) ? here : [here];
  const below = new Set(items.flatMap((item) => arraysOn(item, fields.slice(1), at)));
  return [...(Array.isArray(here) ? [at] : []), ...below];
}

describe('index list', () => {
  const write = version('Observation', 'o1', 2, [
    { type: 'string', param: 'name', value: 'anna smith', exact: 'Anna Smith' },
    { type: 'token', param: 'code', system: 'http://loinc.org', code: '1234-5', text: 'glucose' },
    { type: 'date', param: 'date', low: 1000, high: 2000 },
    { type: 'quantity', param: 'value-quantity', low: 4, high: 5, system: 'u', code: 'mg', unit: 'mg' },
    subjectEntry('p1'),
    { type: 'uri', param: 'url', value: 'http://example.org' },
    { type: 'token', param: 'code-value-quantity$0', group: 0, system: 'http://loinc.org', code: '1', text: null },
  ]);
  const documents = {
    resources: resourceDocument(write, 'order-1'),
    // replacedAt is set on a version when the next one is written.
    versions: { ...versionDocument(write, 'seq-1'), replacedAt: 3000 },
    audit: {
      _id: 'a1',
      seq: 1,
      recorded: 1000,
      patients: ['p1'],
      agent: 'Practitioner/7',
      subtype: 'read',
      outcome: '0',
      prevHash: '0',
      hash: '1',
      json: '{}',
    },
  };

  test('names are unique and every index is on a known collection', () => {
    const names = INDEXES.map((index) => `${index.collection}.${index.name}`);
    expect(new Set(names).size).toBe(names.length);
    for (const index of INDEXES) expect(Object.keys(documents)).toContain(index.collection);
  });

  test.each(INDEXES.map((index) => [index.name, index] as const))('%s: every key path exists', (_, index) => {
    const doc = documents[index.collection];
    const missing = Object.keys(index.keys).filter((key) => valuesAt(doc, key.split('.')).length === 0);
    expect(missing).toEqual([]);
  });

  test.each(INDEXES.map((index) => [index.name, index] as const))('%s: arrays on one path only', (_, index) => {
    const doc = documents[index.collection];
    const chains = Object.keys(index.keys)
      .map((key) => arraysOn(doc, key.split('.')))
      .filter((chain) => chain.length > 0);
    // MongoDB refuses "parallel arrays": two keys under different arrays (neither chain a prefix of the other).
    const [longest = []] = [...chains].sort((a, b) => b.length - a.length);
    for (const chain of chains) expect(longest.slice(0, chain.length)).toEqual(chain);
  });

  test("the README's MongoDB section lists exactly these indexes", () => {
    const readme = fs.readFileSync(path.resolve(__dirname, '../../../README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('\n## MongoDB\n'), readme.indexOf('**Sharding.**'));
    const rows = section
      .split('\n')
      .filter((line) => /^\| `(resources|versions|audit)` +\|/.test(line))
      .map((line) =>
        line
          .split('|')
          .slice(1, 4)
          .map((cell) => cell.trim()),
      );
    const expected = INDEXES.map((index) => [
      `\`${index.collection}\``,
      `\`${index.name}\``,
      `\`${Object.keys(index.keys).join(', ')}\``,
    ]);
    expect(rows).toEqual(expected);
    expect(INDEXES.every((index) => Object.values(index.keys).every((direction) => direction === 1))).toBe(true);
  });
});
