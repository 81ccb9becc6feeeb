// ChargeItem -> DFT^P03 for legacy billing (reference §2.5, our own map): one FT1 per ChargeItem, FT1-2
// carrying its business identifier so billing can recognise a resend.
import type { ChargeItem } from '@medplum/fhirtypes';
import {
  OutboundBuildError,
  cwe,
  cweOfCoding,
  evnSegment,
  joinSegments,
  messageType,
  mshSegment,
  pidSegment,
  pv1Segment,
  repeat,
  segment,
  ts,
  xcn,
  type ChargeInput,
  type OutboundHeader,
  type Repetition,
} from './segments';

const CPT = 'http://www.ama-assn.org/go/cpt';

/** FT1-2: the first business identifier, else the resource id. */
function transactionId(item: ChargeItem): string {
  const id = item.identifier?.find((i) => i.value)?.value ?? item.id;
  if (!id) throw new OutboundBuildError('The ChargeItem has neither an identifier nor an id', 'FT1-2');
  return id;
}

/** A number as v2 text, rounded to 4 decimals so products like 0.1 x 3 do not leak float noise. */
const decimalText = (value: number): string => String(Math.round(value * 10_000) / 10_000);

/** FT1-11 (CP): the price override as `value&currency`, else factor x quantity when only the factor is set. */
function extendedAmount(item: ChargeItem): Repetition | undefined {
  const price = item.priceOverride;
  if (price?.value !== undefined) return [[decimalText(price.value), price.currency]];
  if (item.factorOverride === undefined) return undefined;
  return [decimalText(item.factorOverride * (item.quantity?.value ?? 1))];
}

/** FT1-4: when the service happened (date/time or period start). */
const transactionDate = (item: ChargeItem): string | undefined =>
  item.occurrenceDateTime ?? item.occurrencePeriod?.start ?? item.occurrenceTiming?.event?.[0];

function ft1Segment(input: ChargeInput, header: OutboundHeader): string {
  const item = input.chargeItem;
  const code = cwe(item.code);
  if (!code) throw new OutboundBuildError('The ChargeItem has no code', 'FT1-7');
  const cpt = item.code.coding?.find((c) => c.system === CPT && c.code);
  const quantity = item.quantity?.value;
  return segment('FT1', {
    1: '1',
    2: transactionId(item),
    4: ts(transactionDate(item), header.timezone),
    5: ts(item.enteredDate, header.timezone),
    // Table 0017: CG charge; a charge recorded in error is reversed with a credit.
    6: item.status === 'entered-in-error' ? 'CD' : 'CG',
    7: code,
    8: item.code.text ?? item.code.coding?.find((c) => c.display)?.display,
    10: quantity !== undefined ? decimalText(quantity) : undefined,
    11: extendedAmount(item),
    19: repeat((item.reason ?? []).map(cwe)),
    20: xcn(input.performer),
    25: cpt ? cweOfCoding(cpt) : undefined,
  });
}

/** A detail financial transaction (DFT^P03) posting one ChargeItem. */
export function buildChargeMessage(input: ChargeInput, header: OutboundHeader): string {
  return joinSegments([
    mshSegment(header, messageType('DFT', 'P03', 'DFT_P03', header.version)),
    evnSegment('P03', header),
    pidSegment(input.patient, header.timezone),
    input.encounter ? pv1Segment(input.encounter, header.timezone) : undefined,
    ft1Segment(input, header),
  ]);
}
