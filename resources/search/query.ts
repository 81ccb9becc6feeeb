// The parsed search query: the contract each store compiles (SQLite to SQL over the index tables, MongoDB to
// filters). Values are already parsed and normalized here, so stores never interpret raw query strings.

export type Prefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

/** A range of numbers or instants (epoch ms), both ends inclusive, with the comparison prefix. */
export interface RangeValue {
  prefix: Prefix;
  low: number;
  high: number;
}

export interface TokenValue {
  /** undefined: any system; null: no system (`|code`). */
  system?: string | null;
  /** undefined: any code (`system|`). */
  code?: string;
}

export interface QuantityValue extends RangeValue {
  system?: string;
  code?: string;
}

export interface ReferenceValue {
  targetType?: string;
  targetId?: string;
  url?: string;
  /** With url, `:below` on a canonical: also the URL's other versions below it (see versionBelow). */
  below?: true;
}

/** `near=lat|long|distance|units` (Location): positions within distanceKm of the point, great-circle. */
export interface NearValue {
  latitude: number;
  longitude: number;
  distanceKm: number;
}

export type Condition =
  | { kind: 'id'; ids: string[]; not?: boolean }
  | { kind: 'lastUpdated'; values: RangeValue[] }
  | { kind: 'string'; param: string; match: 'start' | 'exact' | 'contains'; values: string[] }
  | { kind: 'token'; param: string; values: TokenValue[]; not?: boolean }
  | { kind: 'token-text'; param: string; values: string[] }
  | { kind: 'token-of-type'; param: string; values: { typeSystem?: string; typeCode: string; value: string }[] }
  | { kind: 'date'; param: string; values: RangeValue[] }
  | { kind: 'number'; param: string; values: RangeValue[] }
  | { kind: 'quantity'; param: string; values: QuantityValue[] }
  | { kind: 'reference'; param: string; values: ReferenceValue[] }
  | { kind: 'reference-identifier'; param: string; values: TokenValue[] }
  | { kind: 'uri'; param: string; match: 'exact' | 'above' | 'below'; values: string[] }
  | { kind: 'missing'; param: string; paramType: string; missing: boolean }
  /** Positions (index entries `param$0` latitude, `param$1` longitude, one group) near one of the points. */
  | { kind: 'near'; param: string; values: NearValue[] }
  /** `param:Type.inner`: the reference `param` points at a resource of one of targetTypes matching condition. */
  | { kind: 'chain'; param: string; targetTypes: string[]; condition: Condition }
  /** `_has:sourceType:param:inner`: some sourceType resource whose reference `param` points here matches condition. */
  | { kind: 'has'; sourceType: string; param: string; condition: Condition }
  /** Each value's component conditions (params `code$i`) must all hold within one repetition (index group). */
  | { kind: 'composite'; param: string; values: CompositeValue[] };

export interface CompositeValue {
  components: Condition[];
}

export interface SortRule {
  /** `_id`, `_lastUpdated`, or an indexed parameter code. */
  param: string;
  paramType: string;
  descending: boolean;
}

export type TotalMode = 'none' | 'estimate' | 'accurate';

/**
 * `when-known` (no `_total` given): the total only when the page itself shows it, the first page holding every
 * match; counting all matches of a broad search costs far more than the page, so it is done when asked for.
 */
export type QueryTotal = TotalMode | 'when-known';

export interface SearchQuery {
  /** One type for type search; several (or all) for system search. */
  resourceTypes: string[];
  /** All must hold (AND); each condition's values are alternatives (OR). */
  conditions: Condition[];
  sort: SortRule[];
  count: number;
  cursor?: string;
  total: QueryTotal;
  /**
   * resource type -> parameter code -> the codes whose index entries stand for it, for the parameters the
   * registry stores as unions of others (`combo-code` is `code` and `component-code`).
   */
  unions?: Record<string, Record<string, readonly string[]>>;
}
