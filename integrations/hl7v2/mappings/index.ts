// Which mapping turns which message type into FHIR: MSH-9 code^trigger (or code^* for a whole family).
import { adtMergeToBundle, adtToBundle } from './adt';
import { dftToBundle } from './dft';
import { ormToBundle } from './orm';
import { oruToBundle } from './oru';
import { siuToBundle } from './siu';
import type { InboundMapping } from './types';

const ADT_EVENTS = ['A01', 'A02', 'A03', 'A04', 'A05', 'A08', 'A11', 'A13'];
const SIU_EVENTS = ['S12', 'S13', 'S14', 'S15', 'S17', 'S26'];

export const INBOUND_MAPPINGS: ReadonlyMap<string, InboundMapping> = new Map<string, InboundMapping>([
  ...ADT_EVENTS.map((event) => [`ADT^${event}`, adtToBundle] as const),
  ['ADT^A40', adtMergeToBundle],
  ['ORU^R01', oruToBundle],
  ['ORM^O01', ormToBundle],
  ['OML^O21', ormToBundle],
  ...SIU_EVENTS.map((event) => [`SIU^${event}`, siuToBundle] as const),
  ['DFT^P03', dftToBundle],
]);

/** Message codes with at least one supported event (an unknown event of a known code is AR 201, not 200). */
export const SUPPORTED_CODES = new Set([...INBOUND_MAPPINGS.keys()].map((type) => type.split('^')[0]));
