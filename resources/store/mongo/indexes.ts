// The MongoDB indexes of the store, as data: ensureIndexes creates them at start-up, the README's MongoDB
// section lists them, and a test checks every key path against the document model (documents.ts).
import type { Db } from 'mongodb';
import { AUDIT, RESOURCES, VERSIONS } from './documents';

export interface IndexDefinition {
  /**
   * createIndexes is a no-op for an existing index of the same name and keys, and fails for the same name
   * with other keys: an index whose keys change takes a new name.
   */
  name: string;
  collection: typeof RESOURCES | typeof VERSIONS | typeof AUDIT;
  keys: Record<string, 1 | -1>;
  /** The queries it serves. */
  serves: string;
}

// Every search filters on `type` and `deleted: false`, so `type` leads each `resources` index. Entry
// indexes are multikey over one array (`index`, or `composites` and its `parts`); a compound index may hold
// several fields of the same array's elements, never fields of two different arrays. Deleted resources
// have no entries, so `deleted` is left out of the entry indexes. Each entry index holds a key for every
// entry of every parameter (null where the entry lacks the field), so the list stays short: rarer lookups
// (reference `url`, token `:text`, `:of-type`) use the parameter prefix of another. No index is unique
// besides `_id`, so the collections can be sharded on any key (a unique index must start with the shard key).
export const INDEXES: readonly IndexDefinition[] = [
  {
    name: 'type_deleted_order',
    collection: RESOURCES,
    keys: { type: 1, deleted: 1, order: 1 },
    serves: 'searches without a selective condition, in the default order (paging by `order`); scans of a type',
  },
  {
    name: 'type_deleted_lastUpdated',
    collection: RESOURCES,
    keys: { type: 1, deleted: 1, lastUpdated: 1 },
    serves: '`_lastUpdated` ranges and `_sort=_lastUpdated`',
  },
  {
    name: 'type_id',
    collection: RESOURCES,
    keys: { type: 1, id: 1 },
    serves: '`_id` searches (`id $in`); reads by id use `_id`',
  },
  {
    name: 'entry_token',
    collection: RESOURCES,
    keys: { type: 1, 'index.param': 1, 'index.code': 1, 'index.system': 1 },
    serves: 'tokens by code, or by system and code; quantity units (`$elemMatch` on param, code, system)',
  },
  {
    name: 'entry_value',
    collection: RESOURCES,
    keys: { type: 1, 'index.param': 1, 'index.value': 1 },
    serves: 'string (default starts-with as a range, exact) and uri values',
  },
  {
    name: 'entry_suffixes',
    collection: RESOURCES,
    keys: { type: 1, 'index.param': 1, 'index.suffixes': 1 },
    serves: 'string `:contains` (a prefix range over every suffix of the value)',
  },
  {
    name: 'entry_reference',
    collection: RESOURCES,
    keys: { type: 1, 'index.param': 1, 'index.targetId': 1, 'index.targetType': 1 },
    serves: 'reference searches by id (`subject=Patient/1`, `subject=1`)',
  },
  {
    name: 'entry_target',
    collection: RESOURCES,
    keys: { type: 1, 'index.param': 1, 'index.target': 1 },
    serves: 'chains: references to the `Type/id` keys the chained search found (`target $in`)',
  },
  {
    name: 'entry_low_high',
    collection: RESOURCES,
    keys: { type: 1, 'index.param': 1, 'index.low': 1, 'index.high': 1 },
    serves: 'date, number and quantity ranges that bound the low end (`eq`, `lt`, `le`, `sa`, `ap`)',
  },
  {
    name: 'entry_high',
    collection: RESOURCES,
    keys: { type: 1, 'index.param': 1, 'index.high': 1 },
    serves: 'date, number and quantity ranges that bound only the high end (`gt`, `ge`, `eb`)',
  },
  {
    name: 'composite_code',
    collection: RESOURCES,
    keys: { type: 1, 'composites.param': 1, 'composites.parts.param': 1, 'composites.parts.code': 1 },
    serves: 'composites, by the parameter and its first (token) component',
  },
  {
    name: 'seq',
    collection: VERSIONS,
    keys: { seq: 1 },
    serves: 'system history in write order; copying a whole store',
  },
  {
    name: 'type_seq',
    collection: VERSIONS,
    keys: { type: 1, seq: 1 },
    serves: 'type history in write order',
  },
  {
    name: 'type_id_seq',
    collection: VERSIONS,
    keys: { type: 1, id: 1, seq: 1 },
    serves: 'instance history in write order, and its count (vread reads by `_id`)',
  },
  {
    name: 'lastUpdated',
    collection: VERSIONS,
    keys: { lastUpdated: 1 },
    serves: 'system history `_since`',
  },
  {
    name: 'type_lastUpdated',
    collection: VERSIONS,
    keys: { type: 1, lastUpdated: 1 },
    serves: 'type history `_since`',
  },
  {
    name: 'replacedAt',
    collection: VERSIONS,
    keys: { replacedAt: 1 },
    serves: 'history `_at` (versions replaced after the moment, or never)',
  },
  {
    name: 'seq',
    collection: AUDIT,
    keys: { seq: 1 },
    serves: 'the chain walk (`hms audit verify`); audit searches without a selective condition, newest first',
  },
  {
    name: 'patients_seq',
    collection: AUDIT,
    keys: { patients: 1, seq: 1 },
    serves: 'who accessed a patient (`patient`), newest first',
  },
  {
    name: 'agent_seq',
    collection: AUDIT,
    keys: { agent: 1, seq: 1 },
    serves: 'what an agent did (`agent`), newest first',
  },
  {
    name: 'outcome_seq',
    collection: AUDIT,
    keys: { outcome: 1, seq: 1 },
    serves: 'failures (`outcome`), newest first',
  },
  {
    name: 'recorded',
    collection: AUDIT,
    keys: { recorded: 1 },
    serves: 'audit date ranges',
  },
];

/** Creates the missing indexes; those that exist with the same keys are left as they are. */
export async function ensureIndexes(db: Db): Promise<void> {
  for (const collection of [RESOURCES, VERSIONS, AUDIT]) {
    const specs = INDEXES.filter((index) => index.collection === collection).map(({ name, keys }) => ({
      name,
      key: keys,
    }));
    await db.collection(collection).createIndexes(specs);
  }
}
