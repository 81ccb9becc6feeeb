// What a mapping knows besides the message: the channel's code tables and identifier systems, and the
// sender's timezone. Mappings are pure functions of (message, context) -> transaction Bundle.
import type { Coding } from '@medplum/fhirtypes';

export interface CodeTables {
  /** Local (analyser, CDM) codes -> standard codings, keyed by `<v2 coding system>|<code>` or by `<code>` alone. */
  codes?: Record<string, Coding>;
  /** Unit text as sent (`tera.l-1`, `mEq/L`) -> UCUM code. */
  units?: Record<string, string>;
  /** v2 assigning authority / namespace id (CX.4.1, EI.2) -> identifier system URI. */
  identifierSystems?: Record<string, string>;
}

export interface MappingContext {
  /** Channel id, recorded in `meta.source` of what the message writes. */
  channel: string;
  /** MSH-4 (or MSH-3 when empty): names systems for identifiers that carry no assigning authority. */
  sender: string;
  tables: CodeTables;
  /** Offset (`+0100`) for message times without one. */
  timezone: string;
  /** Placer order numbers with this namespace are our own ServiceRequest ids (set on orders we send). */
  ownNamespace: string;
  /** Id of the stored message, carried into orphan Tasks and `meta.source`. */
  messageId: string;
}

export const OWN_NAMESPACE = 'HMS';

/** Default units seen from analysers that are not UCUM codes, merged under a channel's own table. */
export const DEFAULT_UNITS: Record<string, string> = {
  'tera.l-1': '10*12/L',
  'giga.l-1': '10*9/L',
  'mEq/L': 'meq/L',
  'mmol/l': 'mmol/L',
  'mg/dl': 'mg/dL',
  'g/dl': 'g/dL',
  'x10E3/uL': '10*3/uL',
  'x10E6/uL': '10*6/uL',
  'K/uL': '10*3/uL',
  'M/uL': '10*6/uL',
  'IU/L': '[IU]/L',
  'U/L': 'U/L',
  sec: 's',
  fl: 'fL',
  pg: 'pg',
  '%': '%',
};
