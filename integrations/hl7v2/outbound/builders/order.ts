// ServiceRequest -> lab order: ORM^O01 for v2.3/2.4 labs (timing in OBR-27), OML^O21 for v2.5+ labs (TQ1,
// SPM). ORC-2 carries our ServiceRequest id in our namespace so the lab's ORU can be matched back to it.
import type { ServiceRequest, Specimen } from '@medplum/fhirtypes';
import {
  OutboundBuildError,
  cwe,
  ei,
  fillerNumber,
  joinSegments,
  messageType,
  mshSegment,
  pidSegment,
  placerNumber,
  pv1Segment,
  repeat,
  segment,
  ts,
  versionBefore,
  xcn,
  type Leaf,
  type OrderInput,
  type OutboundHeader,
  type Repetition,
} from './segments';
import { OWN_NAMESPACE } from '../../mappings/context';

/** The order event -> ORC-1 order control (table 0119). */
const ORDER_CONTROL: Record<OrderInput['event'], string> = { new: 'NW', cancel: 'CA', change: 'XO' };

/** ServiceRequest.status -> ORC-5 order status (table 0038), sent on changes. */
const ORDER_STATUS: Record<string, string> = {
  active: 'IP',
  'on-hold': 'HD',
  revoked: 'CA',
  completed: 'CM',
  'entered-in-error': 'ER',
};

/** ServiceRequest.priority -> TQ priority (table 0027). */
const PRIORITY: Record<string, string> = { stat: 'S', asap: 'A', urgent: 'A', routine: 'R' };

/** A new order has no status yet (the lab sets it); a cancel is CA; a change says where the order stands. */
function orderStatus(request: ServiceRequest, event: OrderInput['event']): Leaf {
  if (event === 'new') return undefined;
  if (event === 'cancel') return 'CA';
  return ORDER_STATUS[request.status];
}

interface Timing {
  start?: string;
  end?: string;
  priority?: string;
}

function timing(request: ServiceRequest, timezone: string): Timing {
  const start = request.occurrenceDateTime ?? request.occurrencePeriod?.start ?? request.occurrenceTiming?.event?.[0];
  return {
    start: ts(start, timezone),
    end: ts(request.occurrencePeriod?.end, timezone),
    priority: request.priority ? PRIORITY[request.priority] : undefined,
  };
}

const hasTiming = (t: Timing) => Boolean(t.start || t.end || t.priority);

/** MSH-9 and the version check: OML^O21 with TQ1 and SPM needs v2.5 or later. */
function orderMessageType(input: OrderInput, header: OutboundHeader): Repetition {
  if (input.structure === 'ORM_O01') return messageType('ORM', 'O01', 'ORM_O01', header.version);
  if (versionBefore(header.version, '2.5')) {
    throw new OutboundBuildError(`OML^O21 needs HL7 v2.5 or later, not ${header.version}`, 'MSH-12');
  }
  return messageType('OML', 'O21', 'OML_O21', header.version);
}

function orcSegment(input: OrderInput, header: OutboundHeader): string {
  const request = input.serviceRequest;
  return segment('ORC', {
    1: ORDER_CONTROL[input.event],
    2: placerNumber(request),
    3: fillerNumber(request),
    4: request.requisition?.value ? [request.requisition.value, OWN_NAMESPACE] : undefined,
    5: orderStatus(request, input.event),
    9: ts(request.authoredOn, header.timezone),
    12: xcn(input.requester),
  });
}

function obrSegment(input: OrderInput, header: OutboundHeader, when: Timing): string {
  const request = input.serviceRequest;
  const code = cwe(request.code);
  if (!code) throw new OutboundBuildError('The ServiceRequest has no code', 'OBR-4');
  const isOrm = input.structure === 'ORM_O01';
  return segment('OBR', {
    1: '1',
    2: placerNumber(request),
    3: fillerNumber(request),
    4: code,
    // OBR-5 is priority for v2.3/2.4 receivers; from v2.5 it is kept for backward compatibility only.
    5: versionBefore(header.version, '2.5') ? when.priority : undefined,
    7: when.start,
    16: xcn(input.requester),
    27: isOrm && hasTiming(when) ? [undefined, undefined, undefined, when.start, when.end, when.priority] : undefined,
    31: repeat((request.reasonCode ?? []).map(cwe)),
  });
}

const tq1Segment = (when: Timing): string | undefined =>
  hasTiming(when) ? segment('TQ1', { 1: '1', 7: when.start, 8: when.end, 9: when.priority }) : undefined;

/** Placer note (NTE-2 `P`), numbered from 1. */
const nteSegments = (request: ServiceRequest): string[] =>
  (request.note ?? []).filter((n) => n.text).map((n, i) => segment('NTE', { 1: String(i + 1), 2: 'P', 3: n.text }));

/** SPM-2 placer id (first identifier, else our Specimen id) ^ filler id (accession), SPM-4 type, SPM-17. */
function spmSegment(specimen: Specimen, index: number, timezone: string): string {
  const business = specimen.identifier?.find((id) => id.value);
  const placer = business ? ei(business) : specimen.id ? [specimen.id, OWN_NAMESPACE] : undefined;
  const filler = specimen.accessionIdentifier ? ei(specimen.accessionIdentifier) : undefined;
  const collection = specimen.collection;
  const collected = ts(collection?.collectedDateTime ?? collection?.collectedPeriod?.start, timezone);
  return segment('SPM', {
    1: String(index + 1),
    2: placer || filler ? [placer, filler] : undefined,
    4: cwe(specimen.type),
    17: collected ? [collected, ts(collection?.collectedPeriod?.end, timezone)] : undefined,
  });
}

/** A lab order message for a new, cancelled or changed ServiceRequest. */
export function buildOrderMessage(input: OrderInput, header: OutboundHeader): string {
  const when = timing(input.serviceRequest, header.timezone);
  const isOml = input.structure === 'OML_O21';
  return joinSegments([
    mshSegment(header, orderMessageType(input, header)),
    pidSegment(input.patient, header.timezone),
    input.encounter ? pv1Segment(input.encounter, header.timezone) : undefined,
    orcSegment(input, header),
    isOml ? tq1Segment(when) : undefined,
    obrSegment(input, header, when),
    ...nteSegments(input.serviceRequest),
    ...(isOml ? (input.specimen ?? []).map((s, i) => spmSegment(s, i, header.timezone)) : []),
  ]);
}
