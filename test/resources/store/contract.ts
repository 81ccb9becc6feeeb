// The ResourceStore contract: behaviour every adapter must show, written against the port only.
// Each adapter's test file calls describeStoreContract with a factory for a fresh, empty store.
import { MAX_INSTANT, MIN_INSTANT, type IndexEntry } from '../../../resources/search/index-entry';
import type { Condition, RangeValue, SearchQuery } from '../../../resources/search/query';
import type { ResourceStore, StoredVersion, VersionWrite } from '../../../resources/store/port';

export type StoreFactory = () => Promise<{ store: ResourceStore; cleanup: () => Promise<void> }>;

let clock = Date.UTC(2026, 0, 1);

export function version(
  type: string,
  id: string,
  versionId: number,
  index: IndexEntry[] = [],
  extra: Partial<VersionWrite> = {},
): VersionWrite {
  clock += 1000;
  return {
    resourceType: type,
    id,
    versionId,
    lastUpdated: clock,
    deleted: false,
    method: versionId === 1 ? 'POST' : 'PUT',
    json: JSON.stringify({ resourceType: type, id, meta: { versionId: String(versionId) } }),
    index,
    ...extra,
  };
}

/** The `subject` entry of a reference to Patient/`id`. */
export function subjectEntry(id: string): IndexEntry {
  return {
    type: 'reference',
    param: 'subject',
    targetType: 'Patient',
    targetId: id,
    url: null,
    identifierSystem: null,
    identifierValue: null,
  };
}

export function query(type: string, conditions: Condition[] = [], extra: Partial<SearchQuery> = {}): SearchQuery {
  return { resourceTypes: [type], conditions, sort: [], count: 100, total: 'accurate', ...extra };
}

const ids = (entries: StoredVersion[]) => entries.map((e) => e.id);

export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`ResourceStore contract: ${name}`, () => {
    let store: ResourceStore;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(() => cleanup());

    const write = (...writes: VersionWrite[]) =>
      store.transaction(async (tx) => {
        for (const w of writes) await tx.writeVersion(w);
      });

    test('writes, reads the current version and any version; deletion is a version', async () => {
      await write(version('Patient', 'a', 1));
      await write(version('Patient', 'a', 2));
      expect((await store.readCurrent('Patient', 'a'))?.versionId).toBe(2);
      expect(JSON.parse((await store.readVersion('Patient', 'a', 1))!.json!).meta.versionId).toBe('1');
      await write(version('Patient', 'a', 3, [], { deleted: true, method: 'DELETE', json: undefined }));
      const current = await store.readCurrent('Patient', 'a');
      expect(current).toMatchObject({ deleted: true, versionId: 3, method: 'DELETE' });
      expect(current?.json).toBeUndefined();
      expect(await store.readCurrent('Patient', 'nope')).toBeUndefined();
      expect(await store.readVersion('Patient', 'a', 9)).toBeUndefined();
      expect(await store.readCurrent('Observation', 'a')).toBeUndefined();
    });

    test('the write log: every version with the position its write was given, in write order', async () => {
      const writes = [version('Patient', 'a', 1), version('Observation', 'o', 1), version('Patient', 'a', 2)];
      await write(writes[0], writes[1]);
      await write(writes[2], version('Patient', 'a', 3, [], { deleted: true, method: 'DELETE', json: undefined }));
      const positions = writes.map((w) => w.position as string);
      expect(positions.every((p) => typeof p === 'string')).toBe(true);
      expect([...positions].sort()).toEqual(positions);
      const all = await store.log(undefined, 10);
      expect(all.map((v) => `${v.resourceType}/${v.id}/${v.versionId}/${v.deleted}`)).toEqual([
        'Patient/a/1/false',
        'Observation/o/1/false',
        'Patient/a/2/false',
        'Patient/a/3/true',
      ]);
      expect(all.slice(0, 3).map((v) => v.position)).toEqual(positions);
      expect((await store.log(positions[0], 2)).map((v) => v.position)).toEqual(positions.slice(1));
      expect(await store.log(all[3].position, 10)).toEqual([]);
    });

    test('a transaction that throws leaves nothing behind; others in the same group commit', async () => {
      const failing = store.transaction(async (tx) => {
        await tx.writeVersion(
          version('Patient', 'x', 1, [{ type: 'token', param: 'identifier', system: 's', code: 'x', text: null }]),
        );
        throw new Error('boom');
      });
      const succeeding = write(
        version('Patient', 'y', 1, [{ type: 'token', param: 'identifier', system: 's', code: 'y', text: null }]),
      );
      await expect(failing).rejects.toThrow('boom');
      await succeeding;
      expect(await store.readCurrent('Patient', 'x')).toBeUndefined();
      expect((await store.readCurrent('Patient', 'y'))?.versionId).toBe(1);
      const found = await store.search(
        query('Patient', [{ kind: 'token', param: 'identifier', values: [{ code: 'x' }] }]),
      );
      expect(found.entries).toHaveLength(0);
    });

    test('a second version 1 under an existing id fails the write and changes nothing', async () => {
      await write(version('Patient', 'once', 1));
      // Any rejection will do (not toThrow: errors of a native driver may come from another realm than the test's).
      await expect(write(version('Patient', 'once', 1, [], { json: '{"changed":true}' }))).rejects.toBeTruthy();
      const current = await store.readCurrent('Patient', 'once');
      expect(current?.versionId).toBe(1);
      expect(current?.json).not.toContain('changed');
    });

    test('blob delete: present exactly with blob writes; the bytes go when the transaction commits', async () => {
      const blobs = await store.transaction(async (tx) => [tx.writeBinaryData, tx.deleteBinaryData]);
      expect(blobs[1] === undefined).toBe(blobs[0] === undefined);
      if (!blobs[0]) return;
      await store.transaction(async (tx) => {
        await tx.writeBinaryData?.('bulk:t:0', 1, Buffer.from('part 0'));
        await tx.writeBinaryData?.('bulk:t:1', 1, Buffer.from('part 1'));
        await tx.writeBinaryData?.('bulk:t:0', 2, Buffer.from('other version'));
      });
      const rolledBack = store.transaction(async (tx) => {
        await tx.deleteBinaryData?.('bulk:t:0', 1);
        throw new Error('rolled back');
      });
      await expect(rolledBack).rejects.toThrow('rolled back');
      expect((await store.readBinaryData?.('bulk:t:0', 1))?.toString()).toBe('part 0');
      let duringCommit: Buffer | undefined;
      await store.transaction(async (tx) => {
        await tx.deleteBinaryData?.('bulk:t:0', 1);
        duringCommit = await store.readBinaryData?.('bulk:t:0', 1);
      });
      // Committed data only: the bytes were there until the delete committed, and are gone after it.
      expect(duringCommit?.toString()).toBe('part 0');
      expect(await store.readBinaryData?.('bulk:t:0', 1)).toBeUndefined();
      expect((await store.readBinaryData?.('bulk:t:0', 2))?.toString()).toBe('other version');
      expect((await store.readBinaryData?.('bulk:t:1', 1))?.toString()).toBe('part 1');
      // Deleting what is not there is no error.
      await store.transaction(async (tx) => tx.deleteBinaryData?.('bulk:t:0', 1));
      await store.transaction(async (tx) => tx.deleteBinaryData?.('never', 1));
      expect(await store.readBinaryData?.('bulk:t:0', 1)).toBeUndefined();
    });

    test('reads inside a transaction see its writes; outside reads see only committed data', async () => {
      let outsideDuring: StoredVersion | undefined;
      await store.transaction(async (tx) => {
        await tx.writeVersion(version('Patient', 'z', 1));
        expect((await tx.readCurrent('Patient', 'z'))?.versionId).toBe(1);
        expect((await tx.search(query('Patient'))).entries).toHaveLength(1);
        outsideDuring = await store.readCurrent('Patient', 'z');
      });
      expect(outsideDuring).toBeUndefined();
      expect((await store.readCurrent('Patient', 'z'))?.versionId).toBe(1);
    });

    test('history: newest first at instance, type and system level, with paging, _since and _at', async () => {
      await write(version('Patient', 'h1', 1));
      const afterFirst = clock;
      await write(version('Patient', 'h2', 1));
      await write(version('Observation', 'o1', 1));
      await write(version('Patient', 'h1', 2));
      const instance = await store.history({ resourceType: 'Patient', id: 'h1', count: 10 });
      expect(instance.entries.map((e) => e.versionId)).toEqual([2, 1]);
      expect(instance.total).toBe(2);
      const type = await store.history({ resourceType: 'Patient', count: 10 });
      expect(type.entries.map((e) => `${e.id}/${e.versionId}`)).toEqual(['h1/2', 'h2/1', 'h1/1']);
      const system = await store.history({ count: 2 });
      expect(system.entries.map((e) => e.id)).toEqual(['h1', 'o1']);
      const next = await store.history({ count: 2, cursor: system.next });
      expect(next.entries.map((e) => e.id)).toEqual(['h2', 'h1']);
      expect(next.next).toBeUndefined();
      const back = await store.history({ count: 2, cursor: next.previous });
      expect(back.entries.map((e) => e.id)).toEqual(['h1', 'o1']);
      const since = await store.history({ since: afterFirst + 1, count: 10 });
      expect(since.entries).toHaveLength(3);
      const at = await store.history({ resourceType: 'Patient', at: { low: afterFirst, high: afterFirst }, count: 10 });
      expect(at.entries.map((e) => `${e.id}/${e.versionId}`)).toEqual(['h1/1']);
    });

    describe('search', () => {
      beforeEach(async () => {
        await write(
          version('Observation', 'o1', 1, [
            { type: 'token', param: 'code', system: 'http://loinc.org', code: '8867-4', text: 'heart rate' },
            { type: 'string', param: 'note', value: 'fast pulse', exact: 'Fast pulse' },
            { type: 'date', param: 'date', low: Date.UTC(2026, 0, 2), high: Date.UTC(2026, 0, 2, 23, 59, 59, 999) },
            {
              type: 'quantity',
              param: 'value-quantity',
              low: 71.5,
              high: 72.5,
              system: 'http://unitsofmeasure.org',
              code: '/min',
              unit: 'beats/min',
            },
            subjectEntry('p1'),
            { type: 'uri', param: 'url', value: 'http://example.org/fhir/a/b' },
            { type: 'number', param: 'n', low: 9.5, high: 10.5 },
          ]),
          version('Observation', 'o2', 1, [
            { type: 'token', param: 'code', system: 'http://loinc.org', code: '8310-5', text: 'body temperature' },
            { type: 'string', param: 'note', value: 'normal', exact: 'normal' },
            { type: 'date', param: 'date', low: Date.UTC(2025, 5, 1), high: Date.UTC(2025, 5, 1, 23, 59, 59, 999) },
            {
              type: 'quantity',
              param: 'value-quantity',
              low: 36.55,
              high: 36.65,
              system: 'http://unitsofmeasure.org',
              code: 'Cel',
              unit: 'C',
            },
            {
              type: 'reference',
              param: 'subject',
              targetType: 'Patient',
              targetId: 'p2',
              url: null,
              identifierSystem: 'urn:mrn',
              identifierValue: '7',
            },
            { type: 'number', param: 'n', low: 99.5, high: 100.5 },
          ]),
          version('Observation', 'o3', 1, []),
        );
      });

      const find = async (conditions: Condition[], extra: Partial<SearchQuery> = {}) =>
        ids((await store.search(query('Observation', conditions, extra))).entries);

      test('token forms, :not, :text', async () => {
        expect(
          await find([{ kind: 'token', param: 'code', values: [{ system: 'http://loinc.org', code: '8867-4' }] }]),
        ).toEqual(['o1']);
        expect(
          await find([{ kind: 'token', param: 'code', values: [{ code: '8310-5' }, { code: '8867-4' }] }]),
        ).toEqual(['o1', 'o2']);
        expect(await find([{ kind: 'token', param: 'code', values: [{ system: 'http://loinc.org' }] }])).toEqual([
          'o1',
          'o2',
        ]);
        expect(await find([{ kind: 'token', param: 'code', values: [{ system: null, code: '8867-4' }] }])).toEqual([]);
        expect(await find([{ kind: 'token', param: 'code', values: [{ code: '8867-4' }], not: true }])).toEqual([
          'o2',
          'o3',
        ]);
        expect(await find([{ kind: 'token-text', param: 'code', values: ['heart'] }])).toEqual(['o1']);
        expect(await find([{ kind: 'token-text', param: 'code', values: ['rate'] }])).toEqual([]);
        expect(await find([{ kind: 'token-text', param: 'code', values: ['body'] }])).toEqual(['o2']);
      });

      test('string start, exact, contains', async () => {
        expect(await find([{ kind: 'string', param: 'note', match: 'start', values: ['fas'] }])).toEqual(['o1']);
        expect(await find([{ kind: 'string', param: 'note', match: 'exact', values: ['fast pulse'] }])).toEqual([]);
        expect(await find([{ kind: 'string', param: 'note', match: 'exact', values: ['Fast pulse'] }])).toEqual(['o1']);
        expect(await find([{ kind: 'string', param: 'note', match: 'contains', values: ['orm'] }])).toEqual(['o2']);
        expect(await find([{ kind: 'string', param: 'note', match: 'contains', values: ['%'] }])).toEqual([]);
      });

      test('date and number ranges with prefixes', async () => {
        const day = { low: Date.UTC(2026, 0, 2), high: Date.UTC(2026, 0, 2, 23, 59, 59, 999) };
        expect(await find([{ kind: 'date', param: 'date', values: [{ prefix: 'eq', ...day }] }])).toEqual(['o1']);
        expect(await find([{ kind: 'date', param: 'date', values: [{ prefix: 'ne', ...day }] }])).toEqual(['o2']);
        expect(await find([{ kind: 'date', param: 'date', values: [{ prefix: 'lt', ...day }] }])).toEqual(['o2']);
        expect(await find([{ kind: 'date', param: 'date', values: [{ prefix: 'ge', ...day }] }])).toEqual(['o1']);
        expect(
          await find([
            {
              kind: 'date',
              param: 'date',
              values: [{ prefix: 'sa', low: Date.UTC(2025, 11, 1), high: Date.UTC(2025, 11, 31) }],
            },
          ]),
        ).toEqual(['o1']);
        expect(
          await find([
            {
              kind: 'date',
              param: 'date',
              values: [{ prefix: 'eb', low: Date.UTC(2025, 11, 1), high: Date.UTC(2025, 11, 31) }],
            },
          ]),
        ).toEqual(['o2']);
        expect(await find([{ kind: 'date', param: 'date', values: [{ prefix: 'ap', ...day }] }])).toEqual(['o1']);
        expect(await find([{ kind: 'number', param: 'n', values: [{ prefix: 'gt', low: 49.5, high: 50.5 }] }])).toEqual(
          ['o2'],
        );
        expect(await find([{ kind: 'number', param: 'n', values: [{ prefix: 'le', low: 49.5, high: 50.5 }] }])).toEqual(
          ['o1'],
        );
      });

      test('quantity with and without units', async () => {
        expect(
          await find([{ kind: 'quantity', param: 'value-quantity', values: [{ prefix: 'eq', low: 71, high: 73 }] }]),
        ).toEqual(['o1']);
        expect(
          await find([
            {
              kind: 'quantity',
              param: 'value-quantity',
              values: [{ prefix: 'gt', low: 30, high: 30, system: 'http://unitsofmeasure.org', code: 'Cel' }],
            },
          ]),
        ).toEqual(['o2']);
        expect(
          await find([
            { kind: 'quantity', param: 'value-quantity', values: [{ prefix: 'gt', low: 30, high: 30, code: 'C' }] },
          ]),
        ).toEqual(['o2']);
      });

      test('reference by id, type/id, url, identifier; uri exact/below/above; :missing', async () => {
        expect(await find([{ kind: 'reference', param: 'subject', values: [{ targetId: 'p1' }] }])).toEqual(['o1']);
        expect(
          await find([{ kind: 'reference', param: 'subject', values: [{ targetType: 'Group', targetId: 'p1' }] }]),
        ).toEqual([]);
        expect(
          await find([{ kind: 'reference-identifier', param: 'subject', values: [{ system: 'urn:mrn', code: '7' }] }]),
        ).toEqual(['o2']);
        expect(
          await find([{ kind: 'reference', param: 'subject', values: [{ url: 'http://elsewhere/Patient/p1' }] }]),
        ).toEqual([]);
        expect(
          await find([{ kind: 'uri', param: 'url', match: 'exact', values: ['http://example.org/fhir/a/b'] }]),
        ).toEqual(['o1']);
        expect(
          await find([{ kind: 'uri', param: 'url', match: 'below', values: ['http://example.org/fhir'] }]),
        ).toEqual(['o1']);
        expect(
          await find([{ kind: 'uri', param: 'url', match: 'above', values: ['http://example.org/fhir/a/b/c/d'] }]),
        ).toEqual(['o1']);
        expect(await find([{ kind: 'missing', param: 'subject', paramType: 'reference', missing: true }])).toEqual([
          'o3',
        ]);
        expect(await find([{ kind: 'missing', param: 'subject', paramType: 'reference', missing: false }])).toEqual([
          'o1',
          'o2',
        ]);
        expect(await find([{ kind: 'missing', param: 'never-indexed', paramType: 'token', missing: true }])).toEqual([
          'o1',
          'o2',
          'o3',
        ]);
        expect(await find([{ kind: 'token', param: 'never-indexed', values: [{ code: 'x' }] }])).toEqual([]);
      });

      test('a value-naming condition beside broad ones (ranges, :missing, :not, prefixes): the same matches', async () => {
        const loinc = (code?: string): Condition => ({
          kind: 'token',
          param: 'code',
          values: [{ system: 'http://loinc.org', code }],
        });
        const june = Date.UTC(2025, 5, 1);
        const from = (low: number): Condition => ({
          kind: 'date',
          param: 'date',
          values: [{ prefix: 'ge', low, high: low + 86_399_999 }],
        });
        expect(await find([loinc('8310-5'), from(june)])).toEqual(['o2']);
        expect(await find([loinc('8310-5'), from(june + 86_400_000)])).toEqual([]);
        expect(await find([{ kind: 'id', ids: ['o1', 'o2', 'o3'] }, from(june)])).toEqual(['o1', 'o2']);
        expect(
          await find([loinc('8867-4'), { kind: 'missing', param: 'n', paramType: 'number', missing: false }]),
        ).toEqual(['o1']);
        expect(
          await find([loinc('8310-5'), { kind: 'missing', param: 'n', paramType: 'number', missing: true }]),
        ).toEqual([]);
        expect(await find([{ kind: 'id', ids: ['o2', 'o3'] }, { ...loinc('8310-5'), not: true } as Condition])).toEqual(
          ['o3'],
        );
        expect(
          await find([loinc('8867-4'), { kind: 'string', param: 'note', match: 'start', values: ['fa'] }]),
        ).toEqual(['o1']);
        expect(
          await find([loinc('8867-4'), { kind: 'string', param: 'note', match: 'start', values: ['no'] }]),
        ).toEqual([]);
        const counted = async (conditions: Condition[]) =>
          (await store.search(query('Observation', conditions, { total: 'accurate', count: 0 }))).total;
        expect(await counted([loinc('8310-5'), from(june)])).toBe(1);
        expect(await counted([loinc()])).toBe(2);
        expect(
          await counted([{ kind: 'token', param: 'code', values: [{ code: '8867-4' }, { code: '8310-5' }] }]),
        ).toBe(2);
      });

      test('a date window (a lower and an upper bound): one entry inside, two entries one bound each, open ends', async () => {
        const day = (d: number) => Date.UTC(2025, 5, d);
        const at = (low: number, high = low + 999): IndexEntry => ({ type: 'date', param: 'when', low, high });
        await write(
          version('Encounter', 'inside', 1, [at(day(10) + 3_600_000)]),
          version('Encounter', 'two-apart', 1, [at(day(1)), at(day(20))]),
          version('Encounter', 'open-end', 1, [at(day(5), MAX_INSTANT)]),
          version('Encounter', 'open-start', 1, [at(MIN_INSTANT, day(12))]),
          version('Encounter', 'long', 1, [at(Date.UTC(2025, 0, 1), Date.UTC(2025, 11, 31))]),
          version('Encounter', 'before', 1, [at(day(2))]),
          version('Encounter', 'after', 1, [at(day(25))]),
          version('Encounter', 'two-before', 1, [at(day(1)), at(day(2))]),
        );
        const window = async (lower: RangeValue, upper: RangeValue) =>
          ids(
            (
              await store.search(
                query('Encounter', [
                  { kind: 'date', param: 'when', values: [lower] },
                  { kind: 'date', param: 'when', values: [upper] },
                ]),
              )
            ).entries,
          ).sort();
        const ge = { prefix: 'ge' as const, low: day(9), high: day(10) - 1 };
        const lt = { prefix: 'lt' as const, low: day(15), high: day(16) - 1 };
        expect(await window(ge, lt)).toEqual(['inside', 'long', 'open-end', 'open-start', 'two-apart']);
        const sa = { prefix: 'sa' as const, low: day(9), high: day(10) - 1 };
        const eb = { prefix: 'eb' as const, low: day(11), high: day(12) - 1 };
        expect(await window(sa, eb)).toEqual(['inside', 'two-apart']);
        const counted = await store.search(
          query(
            'Encounter',
            [
              { kind: 'date', param: 'when', values: [ge] },
              { kind: 'date', param: 'when', values: [lt] },
            ],
            { total: 'accurate', count: 0 },
          ),
        );
        expect(counted.total).toBe(5);
        // A union parameter (`combo-*`): the two bounds may be met by entries under two different member codes.
        await write(
          version('Encounter', 'union-apart', 1, [
            { type: 'date', param: 'start', low: day(1), high: day(1) + 999 },
            { type: 'date', param: 'end', low: day(20), high: day(20) + 999 },
          ]),
        );
        const union = await store.search(
          query(
            'Encounter',
            [
              { kind: 'date', param: 'span', values: [ge] },
              { kind: 'date', param: 'span', values: [lt] },
            ],
            { unions: { Encounter: { span: ['start', 'end'] } } },
          ),
        );
        expect(ids(union.entries)).toEqual(['union-apart']);
      });

      test('_id, AND of conditions, sort by a parameter with missing values last, keyset paging both ways', async () => {
        expect(await find([{ kind: 'id', ids: ['o2', 'o3'] }])).toEqual(['o2', 'o3']);
        expect(await find([{ kind: 'id', ids: ['o2'], not: true }])).toEqual(['o1', 'o3']);
        expect(
          await find([
            { kind: 'token', param: 'code', values: [{ system: 'http://loinc.org' }] },
            { kind: 'reference', param: 'subject', values: [{ targetId: 'p2' }] },
          ]),
        ).toEqual(['o2']);
        expect(await find([], { sort: [{ param: 'date', paramType: 'date', descending: false }] })).toEqual([
          'o2',
          'o1',
          'o3',
        ]);
        expect(await find([], { sort: [{ param: 'date', paramType: 'date', descending: true }] })).toEqual([
          'o1',
          'o2',
          'o3',
        ]);
        expect(await find([], { sort: [{ param: 'note', paramType: 'string', descending: false }] })).toEqual([
          'o1',
          'o2',
          'o3',
        ]);
        const sort = [{ param: 'n', paramType: 'number', descending: true }];
        const first = await store.search(query('Observation', [], { sort, count: 1 }));
        expect(ids(first.entries)).toEqual(['o2']);
        expect(first.total).toBe(3);
        const second = await store.search(query('Observation', [], { sort, count: 1, cursor: first.next }));
        expect(ids(second.entries)).toEqual(['o1']);
        const third = await store.search(query('Observation', [], { sort, count: 1, cursor: second.next }));
        expect(ids(third.entries)).toEqual(['o3']);
        expect(third.next).toBeUndefined();
        const back = await store.search(query('Observation', [], { sort, count: 1, cursor: third.previous }));
        expect(ids(back.entries)).toEqual(['o1']);
        const none = await store.search(query('Observation', [], { total: 'none' }));
        expect(none.total).toBeUndefined();
      });

      test('deleted resources are not found and updated index rows replace the old ones', async () => {
        await write(version('Observation', 'o1', 2, [], { deleted: true, method: 'DELETE', json: undefined }));
        await write(
          version('Observation', 'o2', 2, [
            { type: 'token', param: 'code', system: 'http://loinc.org', code: 'new', text: null },
          ]),
        );
        expect(await find([])).toEqual(['o2', 'o3']);
        expect(await find([{ kind: 'token', param: 'code', values: [{ code: '8310-5' }] }])).toEqual([]);
        expect(await find([{ kind: 'token', param: 'code', values: [{ code: 'new' }] }])).toEqual(['o2']);
      });
    });

    test('one exact code or target: pages walk its index, a resource with the code twice comes once', async () => {
      const code = (c: string): IndexEntry => ({
        type: 'token',
        param: 'code',
        system: 'http://loinc.org',
        code: c,
        text: null,
      });
      const subject = subjectEntry;
      const flag = (on: boolean): IndexEntry => ({
        type: 'token',
        param: 'flag',
        system: null,
        code: on ? 'y' : 'n',
        text: null,
      });
      const writes = Array.from({ length: 12 }, (_, i) =>
        version('Observation', `c${i}`, 1, [
          code(i % 3 === 0 ? 'other' : 'common'),
          ...(i === 4 ? [code('common')] : []),
          subject(i < 6 ? 'p1' : 'p2'),
          flag(i % 2 === 0),
        ]),
      );
      await write(...writes);
      const common = {
        kind: 'token' as const,
        param: 'code',
        values: [{ system: 'http://loinc.org', code: 'common' }],
      };
      const p2 = { kind: 'reference' as const, param: 'subject', values: [{ targetType: 'Patient', targetId: 'p2' }] };
      const walk = async (conditions: Condition[]) => {
        const seen: string[] = [];
        let page = await store.search(query('Observation', conditions, { count: 2, total: 'none' }));
        seen.push(...ids(page.entries));
        while (page.next) {
          page = await store.search(query('Observation', conditions, { count: 2, total: 'none', cursor: page.next }));
          seen.push(...ids(page.entries));
        }
        const back = await store.search(query('Observation', conditions, { count: 2, cursor: page.previous }));
        return { seen, back: ids(back.entries) };
      };
      expect(await walk([common])).toEqual({
        seen: ['c1', 'c2', 'c4', 'c5', 'c7', 'c8', 'c10', 'c11'],
        back: ['c7', 'c8'],
      });
      expect((await walk([common, p2])).seen).toEqual(['c7', 'c8', 'c10', 'c11']);
      expect((await walk([p2, common, { kind: 'token', param: 'flag', values: [{ code: 'y' }] }])).seen).toEqual([
        'c8',
        'c10',
      ]);
      expect(
        (await walk([common, { kind: 'missing', param: 'flag', paramType: 'token', missing: false }])).seen,
      ).toHaveLength(8);
    });

    describe('chains, _has and composites', () => {
      const ref = (param: string, targetType: string, targetId: string): IndexEntry => ({
        type: 'reference',
        param,
        targetType,
        targetId,
        url: null,
        identifierSystem: null,
        identifierValue: null,
      });
      const name = (value: string): IndexEntry => ({ type: 'string', param: 'name', value, exact: value });
      const code = (param: string, value: string, group?: number): IndexEntry => ({
        type: 'token',
        param,
        system: 'http://loinc.org',
        code: value,
        text: null,
        group,
      });
      const mmHg = (param: string, value: number, group: number): IndexEntry => ({
        type: 'quantity',
        param,
        low: value - 0.5,
        high: value + 0.5,
        system: 'http://unitsofmeasure.org',
        code: 'mm[Hg]',
        unit: 'mmHg',
        group,
      });
      const bp = (systolic: number, diastolic: number): IndexEntry[] => [
        code('component-code-value-quantity$0', '8480-6', 0),
        mmHg('component-code-value-quantity$1', systolic, 0),
        code('component-code-value-quantity$0', '8462-4', 1),
        mmHg('component-code-value-quantity$1', diastolic, 1),
      ];
      /** A code-and-quantity composite condition on `param`: its code, and its quantity compared by `prefix`. */
      const codeQuantity = (param: string, codeValue: string, prefix: 'eq' | 'gt', value: number): Condition => ({
        kind: 'composite',
        param,
        values: [
          {
            components: [
              { kind: 'token', param: `${param}$0`, values: [{ code: codeValue }] },
              { kind: 'quantity', param: `${param}$1`, values: [{ prefix, low: value - 0.5, high: value + 0.5 }] },
            ],
          },
        ],
      });

      beforeEach(async () => {
        await write(
          version('Practitioner', 'dr', 1, [name('jones')]),
          version('Patient', 'p1', 1, [name('smith'), ref('general-practitioner', 'Practitioner', 'dr')]),
          version('Patient', 'p2', 1, [name('brown')]),
          version('Patient', 'gone', 1, [name('smith')]),
          version('Observation', 'bp1', 1, [ref('subject', 'Patient', 'p1'), ...bp(120, 80)]),
          version('Observation', 'bp2', 1, [ref('subject', 'Patient', 'p2'), ...bp(160, 100)]),
          version('Observation', 'old', 1, [ref('subject', 'Patient', 'gone')]),
          version('AuditEvent', 'a1', 1, [ref('entity', 'Observation', 'bp2'), ref('agent', 'Practitioner', 'dr')]),
        );
        await write(version('Patient', 'gone', 2, [], { deleted: true, method: 'DELETE', json: undefined }));
      });

      const search = async (type: string, conditions: Condition[]) =>
        ids((await store.search(query(type, conditions))).entries);
      const nameIs = (value: string): Condition => ({ kind: 'string', param: 'name', match: 'start', values: [value] });

      test('chain: the inner condition holds on a live target of the named types, up to several levels', async () => {
        const chain = (condition: Condition, targetTypes = ['Patient']): Condition => ({
          kind: 'chain',
          param: 'subject',
          targetTypes,
          condition,
        });
        expect(await search('Observation', [chain(nameIs('smith'))])).toEqual(['bp1']);
        expect(await search('Observation', [chain(nameIs('smith'), ['Group'])])).toEqual([]);
        expect(await search('Observation', [chain({ kind: 'id', ids: ['p2'] })])).toEqual(['bp2']);
        expect(
          await search('Observation', [
            chain({
              kind: 'chain',
              param: 'general-practitioner',
              targetTypes: ['Practitioner'],
              condition: nameIs('jones'),
            }),
          ]),
        ).toEqual(['bp1']);
      });

      test('_has: resources referenced by a live source matching the inner condition, nested', async () => {
        const has = (condition: Condition): Condition => ({
          kind: 'has',
          sourceType: 'Observation',
          param: 'subject',
          condition,
        });
        expect(await search('Patient', [has({ kind: 'id', ids: ['bp1', 'bp2', 'old'] })])).toEqual(['p1', 'p2']);
        expect(
          await search('Patient', [
            has({
              kind: 'has',
              sourceType: 'AuditEvent',
              param: 'entity',
              condition: {
                kind: 'reference',
                param: 'agent',
                values: [{ targetType: 'Practitioner', targetId: 'dr' }],
              },
            }),
          ]),
        ).toEqual(['p2']);
        expect(
          await search('Practitioner', [
            {
              kind: 'has',
              sourceType: 'Patient',
              param: 'general-practitioner',
              condition: has({ kind: 'id', ids: ['bp1'] }),
            },
          ]),
        ).toEqual(['dr']);
      });

      test('composite: every component matches within the same group', async () => {
        const composite = (codeValue: string, prefix: 'eq' | 'gt', value: number): Condition =>
          codeQuantity('component-code-value-quantity', codeValue, prefix, value);
        expect(await search('Observation', [composite('8480-6', 'gt', 100)])).toEqual(['bp1', 'bp2']);
        expect(await search('Observation', [composite('8480-6', 'gt', 140)])).toEqual(['bp2']);
        expect(await search('Observation', [composite('8480-6', 'eq', 80)])).toEqual([]);
        expect(await search('Observation', [composite('8462-4', 'eq', 80)])).toEqual(['bp1']);
        expect(
          await search('Observation', [{ kind: 'composite', param: 'never-indexed', values: [{ components: [] }] }]),
        ).toEqual([]);
      });

      test('composite union: each member composite is searched on its own, so values never mix across them', async () => {
        // Group 0 of the root composite and group 0 of the component one: a pooled search would pair them.
        await write(
          version('Observation', 'mixed', 1, [
            code('code-value-quantity$0', '8480-6', 0),
            mmHg('code-value-quantity$1', 50, 0),
            code('component-code-value-quantity$0', '1111-1', 0),
            mmHg('component-code-value-quantity$1', 130, 0),
          ]),
        );
        const combo = (codeValue: string, prefix: 'eq' | 'gt', value: number): Condition =>
          codeQuantity('combo', codeValue, prefix, value);
        const unions = { Observation: { combo: ['code-value-quantity', 'component-code-value-quantity'] } };
        const find = async (condition: Condition) =>
          ids((await store.search(query('Observation', [condition], { unions }))).entries);
        expect(await find(combo('8480-6', 'gt', 100))).toEqual(['bp1', 'bp2']);
        expect(await find(combo('8480-6', 'eq', 50))).toEqual(['mixed']);
        expect(await find(combo('1111-1', 'gt', 100))).toEqual(['mixed']);
      });
    });
  });
}
