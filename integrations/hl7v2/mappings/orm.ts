// ORM^O01 / OML^O21 -> ServiceRequest per ORC+OBR (v2-to-FHIR IG, reference §2.3), with its ask-at-order-entry
// Observations, Specimens (OML SPM), requester Practitioner and, for ORM, a fulfilment Task. The patient is
// only referenced: order messages never create it.
import type {
  Annotation,
  CodeableConcept,
  Identifier,
  Observation,
  Organization,
  Patient,
  Practitioner,
  Reference,
  ServiceRequest,
  Specimen,
  Task,
} from '@medplum/fhirtypes';
import type { V2Field, V2Message, V2Segment } from '../message/v2-message';
import { tokenOf, transactionBuilder } from './bundle';
import type { MappingContext } from './context';
import { codeableConcept, dateTime, entityIdentifier, identifierSystem } from './datatypes';
import { noteFromNte, observationFromObx, type Parties as ObxParties } from './obx';
import { patientKey, patientReference } from './patient-key';
import { partyResolver, type PartyResolver } from './pv1';
import { MappingError, type InboundMapping } from './types';

// ---------------------------------------------------------------------------------------------------------
// Helpers shared with siu.ts and dft.ts.

/** A system under our own `urn:hms:v2:` namespace, scoped to the sender (deterministic identifiers). */
export const senderSystem = (kind: string, context: MappingContext): string =>
  `urn:hms:v2:${kind}:${encodeURIComponent(context.sender || 'unknown')}`;

/** The patient reference every non-ADT resource needs; its absence is a missing required field. */
export function requiredPatient(
  message: V2Message,
  context: MappingContext,
): { reference: Reference<Patient>; key: Identifier } {
  const pid = message.segment('PID');
  const reference = patientReference(pid, context);
  const key = pid ? patientKey(pid, context) : undefined;
  if (!reference || !key?.value) throw new MappingError('The patient identifier (PID-3) is missing', 'PID^1^3');
  return { reference: reference as Reference<Patient>, key };
}

/** NTE segments -> Annotations (NTE-3 lines, NTE-6 time). */
export const notesOf = (ntes: V2Segment[], context: MappingContext): Annotation[] =>
  ntes.map(noteFromNte(context)).filter((n): n is Annotation => n !== undefined);

/** The time in the first sub-component of a component (TS inside TQ, DR, ...), as a FHIR dateTime. */
export const timeOf = (field: V2Field, component: number, context: MappingContext): string | undefined =>
  dateTime(field.get(component, 1), context);

// ---------------------------------------------------------------------------------------------------------
// Order grouping: ORC starts an order; each OBR under it is one ServiceRequest; what follows belongs to it.

interface OrderGroup {
  orc?: V2Segment;
  obr?: V2Segment;
  timing: V2Segment[];
  notes: V2Segment[];
  diagnoses: V2Segment[];
  observations: { obx: V2Segment; notes: V2Segment[] }[];
  specimens: V2Segment[];
}

type Place = 'order' | 'observation' | 'specimen';

function orderGroups(message: V2Message): OrderGroup[] {
  const groups: OrderGroup[] = [];
  let orc: V2Segment | undefined;
  let orcTiming: V2Segment[] = [];
  let current: OrderGroup | undefined;
  let place: Place = 'order';
  const open = (obr?: V2Segment) => {
    current = { orc, obr, timing: [...orcTiming], notes: [], diagnoses: [], observations: [], specimens: [] };
    groups.push(current);
    place = 'order';
  };
  const handlers: Record<string, (segment: V2Segment) => void> = {
    ORC: (segment) => {
      orc = segment;
      orcTiming = [];
      open();
    },
    OBR: (segment) =>
      current && !current.obr && current.orc === orc ? ((current.obr = segment), (place = 'order')) : open(segment),
    TQ1: (segment) => {
      current?.timing.push(segment);
      if (!current?.obr) orcTiming.push(segment);
    },
    NTE: (segment) => {
      if (place === 'order') current?.notes.push(segment);
      else if (place === 'observation') current?.observations.at(-1)?.notes.push(segment);
    },
    DG1: (segment) => current?.diagnoses.push(segment),
    OBX: (segment) => {
      // OBX after an SPM describes the specimen, not the order: not an ask-at-order-entry answer.
      if (!current || place === 'specimen') return;
      current.observations.push({ obx: segment, notes: [] });
      place = 'observation';
    },
    SPM: (segment) => {
      current?.specimens.push(segment);
      place = 'specimen';
    },
  };
  for (const segment of message.segments) handlers[segment.name]?.(segment);
  return groups;
}

// ---------------------------------------------------------------------------------------------------------
// Status, intent and priority tables (v2 tables 0119, 0038, 0482, 0027 -> FHIR R4 codes).

/** ORC-1 order control -> status. CA / DC cancel the request (the brief's rule; the IG keeps CA active). */
const CONTROL_STATUS: Record<string, ServiceRequest['status']> = {
  NW: 'active',
  OK: 'active',
  RQ: 'active',
  RO: 'active',
  RL: 'active',
  PR: 'active',
  AF: 'active',
  SN: 'active',
  NA: 'active',
  XO: 'active',
  XX: 'active',
  RE: 'active',
  SC: 'active',
  SS: 'active',
  HD: 'on-hold',
  HR: 'on-hold',
  OH: 'on-hold',
  CA: 'revoked',
  CR: 'revoked',
  DC: 'revoked',
  DF: 'revoked',
  DR: 'revoked',
  OC: 'revoked',
  OD: 'revoked',
  FU: 'completed',
};

/** ORC-1 commands that state the outcome themselves, so they win over an ORC-5 sent along. */
const DEFINITIVE_CONTROLS = new Set(['CA', 'CR', 'DC', 'DF', 'DR', 'OC', 'OD', 'HD', 'HR', 'OH']);

/** ORC-5 order status (table 0038) -> status. */
const ORDER_STATUS: Record<string, ServiceRequest['status']> = {
  A: 'active',
  IP: 'active',
  SC: 'active',
  CM: 'completed',
  CA: 'revoked',
  DC: 'revoked',
  RP: 'revoked',
  HD: 'on-hold',
  ER: 'entered-in-error',
};

/** OBR-11 specimen action code -> intent. R4 has no `add-on`: A stays `order`. */
const SPECIMEN_ACTION_INTENT: Record<string, ServiceRequest['intent']> = { G: 'reflex-order' };

/** Priority (OBR-5, TQ1-9, TQ.6) -> priority. */
const PRIORITY: Record<string, ServiceRequest['priority']> = { S: 'stat', A: 'asap', R: 'routine' };

/** ServiceRequest status -> the fulfilment Task's status; ORC-5 IP / SC refine an active one. */
const TASK_STATUS: Record<ServiceRequest['status'], Task['status']> = {
  draft: 'draft',
  active: 'requested',
  'on-hold': 'on-hold',
  revoked: 'cancelled',
  completed: 'completed',
  'entered-in-error': 'entered-in-error',
  unknown: 'requested',
};
const ACTIVE_TASK_STATUS: Record<string, Task['status']> = { IP: 'in-progress', SC: 'accepted', A: 'in-progress' };

function orderStatus(orc: V2Segment | undefined): ServiceRequest['status'] {
  const control = orc?.get(1) ?? '';
  const status = orc?.get(5) ?? '';
  if (DEFINITIVE_CONTROLS.has(control)) return CONTROL_STATUS[control];
  // XO / SC and unknown controls carry no status of their own: the request stays active.
  return ORDER_STATUS[status] ?? CONTROL_STATUS[control] ?? 'active';
}

// ---------------------------------------------------------------------------------------------------------
// One order.

/** The first non-empty field of those named (ORC before OBR). */
const firstField = (...fields: (V2Field | undefined)[]): V2Field | undefined => fields.find((f) => f && !f.isEmpty);

interface OrderKeys {
  placer?: Identifier;
  filler?: Identifier;
  /** The identifier the ServiceRequest is upserted on. */
  key: Identifier;
}

function orderKeys(group: OrderGroup, context: MappingContext): OrderKeys {
  const { orc, obr } = group;
  const placerField = firstField(orc?.field(2), obr?.field(2));
  const fillerField = firstField(orc?.field(3), obr?.field(3));
  const placer = placerField && entityIdentifier(placerField, context, 'PLAC');
  const filler = fillerField && entityIdentifier(fillerField, context, 'FILL');
  const key = placer ?? filler;
  if (!key) throw new MappingError('The order has no placer or filler order number', orc ? 'ORC^1^2' : 'OBR^1^2');
  return { placer, filler, key };
}

/** When one message sends several OBRs under the same order number, each gets its own key (number + code). */
function distinctKeys(groups: OrderGroup[], keys: OrderKeys[], context: MappingContext): OrderKeys[] {
  const counts = new Map<string, number>();
  for (const { key } of keys) counts.set(tokenOf(key), (counts.get(tokenOf(key)) ?? 0) + 1);
  return keys.map((keys, i) => {
    if ((counts.get(tokenOf(keys.key)) ?? 0) < 2 || !groups[i].obr) return keys;
    const code = groups[i].obr?.get(4) || groups[i].obr?.get(1) || String(i + 1);
    return { ...keys, key: { system: senderSystem('order-item', context), value: `${keys.key.value}^${code}` } };
  });
}

function occurrence(group: OrderGroup, context: MappingContext): Partial<ServiceRequest> {
  const tq1 = group.timing.find((t) => t.get(7) !== '');
  if (tq1) {
    const start = timeOf(tq1.field(7), 1, context);
    const end = timeOf(tq1.field(8), 1, context);
    if (start && end) return { occurrencePeriod: { start, end } };
    if (start) return { occurrenceDateTime: start };
  }
  const candidates = [group.obr?.field(27), group.orc?.field(7)].map((f) => (f ? timeOf(f, 4, context) : undefined));
  const requested = group.obr ? timeOf(group.obr.field(6), 1, context) : undefined;
  const time = candidates.find(Boolean) ?? requested;
  return time ? { occurrenceDateTime: time } : {};
}

function priority(group: OrderGroup): ServiceRequest['priority'] {
  const codes = [...group.timing.map((t) => t.get(9)), group.obr?.get(27, 6), group.orc?.get(7, 6), group.obr?.get(5)];
  return codes.map((c) => PRIORITY[c ?? '']).find(Boolean);
}

function reasons(group: OrderGroup, context: MappingContext): CodeableConcept[] {
  const fromObr = group.obr?.repetitions(31).map((f) => codeableConcept(f, context)) ?? [];
  // DG1 in the order group: the diagnosis code as a reason (Conditions are the ADT mapping's to register).
  const fromDg1 = group.diagnoses.map((dg1) => codeableConcept(dg1.field(3), context));
  return [...fromObr, ...fromDg1].filter((c): c is CodeableConcept => c !== undefined);
}

/** The OBX map's practitioner / organisation hooks over this message's party resolver (one entry each). */
function obxParties(parties: PartyResolver): ObxParties {
  const reference = <T extends Practitioner | Organization>(resource: T | undefined, display: string | undefined) => {
    const id = resource?.identifier?.[0];
    if (!resource || !id?.value) return display ? { display } : undefined;
    return { reference: parties.once(resource, id), ...(display ? { display } : {}) } as Reference<T>;
  };
  const nameOf = (resource: Practitioner | undefined) =>
    [...(resource?.name?.[0]?.given ?? []), resource?.name?.[0]?.family].filter(Boolean).join(' ') || undefined;
  return {
    practitioner: (resource) => reference(resource, nameOf(resource)),
    organization: (resource) => reference(resource, resource?.name),
  };
}

/**
 * Ask-at-order-entry OBX (after OBR, before SPM) -> Observations for `supportingInfo`, mapped by the OBX map
 * and keyed on the order key + OBX-3 + OBX-4 (a repeat of both gets `#n`).
 */
function supportingObservations(
  group: OrderGroup,
  key: Identifier,
  subject: Reference<Patient>,
  parties: PartyResolver,
  context: MappingContext,
): Reference<Observation>[] {
  const used = new Map<string, number>();
  return group.observations.map(({ obx, notes }) => {
    const base = [key.value, obx.get(3), obx.get(4)].filter(Boolean).join('-');
    const seen = (used.get(base) ?? 0) + 1;
    used.set(base, seen);
    const identifier = {
      system: senderSystem('order-observation', context),
      value: seen > 1 ? `${base}#${seen}` : base,
    };
    const links = { key: identifier, subject, notes, parties: obxParties(parties), location: `OBX^${obx.get(1) || 1}` };
    const { observation } = observationFromObx(obx, context, links);
    return { reference: parties.once(observation, identifier) };
  });
}

/** SPM -> Specimen, upserted on SPM-2's placer (else filler) id, or on the order number + SPM-1 without one. */
function specimens(
  group: OrderGroup,
  key: Identifier,
  subject: Reference<Patient>,
  parties: PartyResolver,
  context: MappingContext,
): Reference<Specimen>[] {
  return group.specimens.map((spm, i) => {
    const [placerValue = '', ...placerAuthority] = spm.field(2).subcomponents(1);
    const [fillerValue = '', ...fillerAuthority] = spm.field(2).subcomponents(2);
    const eip = (value: string, authority: string[], type: string): Identifier | undefined =>
      value ? eiIdentifier(value, authority, type, context) : undefined;
    const ids = [eip(placerValue, placerAuthority, 'PLAC'), eip(fillerValue, fillerAuthority, 'FILL')].filter(
      (id): id is Identifier => id !== undefined,
    );
    const derived = { system: senderSystem('specimen', context), value: `${key.value}-${spm.get(1) || i + 1}` };
    const upsertKey = ids[0] ?? derived;
    const collected = timeOf(spm.field(17), 1, context);
    const collectedEnd = timeOf(spm.field(17), 2, context);
    const received = timeOf(spm.field(18), 1, context);
    const type = codeableConcept(spm.field(4), context);
    const resource: Specimen = {
      resourceType: 'Specimen',
      identifier: ids.length > 0 ? ids : [derived],
      subject,
      ...(type ? { type } : {}),
      ...(received ? { receivedTime: received } : {}),
      ...(collected
        ? {
            collection: collectedEnd
              ? { collectedPeriod: { start: collected, end: collectedEnd } }
              : { collectedDateTime: collected },
          }
        : {}),
    };
    return { reference: parties.once(resource, upsertKey) };
  });
}

/** An EI given as sub-components (value & namespace & universal id & type), e.g. inside SPM-2's EIP. */
function eiIdentifier(value: string, authority: string[], type: string, context: MappingContext): Identifier {
  const [namespace = '', universalId = '', universalType = ''] = authority;
  return {
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: type }] },
    system: identifierSystem(namespace, universalId, universalType, context),
    value,
  };
}

function serviceRequest(
  group: OrderGroup,
  keys: OrderKeys,
  subject: Reference<Patient>,
  links: {
    requester?: Reference<Practitioner>;
    supportingInfo: Reference<Observation>[];
    specimen: Reference<Specimen>[];
  },
  context: MappingContext,
): ServiceRequest {
  const { orc, obr } = group;
  const identifiers = [keys.placer, keys.filler, keys.key].filter(
    (id, i, all): id is Identifier => id !== undefined && all.findIndex((o) => o && tokenOf(o) === tokenOf(id)) === i,
  );
  const requisitionField = orc?.field(4);
  const requisition = requisitionField && entityIdentifier(requisitionField, context, 'PGN');
  // ORC-9 is the time of this transaction: it is the authoring time only on a new order (IG rule).
  const authoredOn = orc && orc.get(1) === 'NW' ? timeOf(orc.field(9), 1, context) : undefined;
  const code = obr && codeableConcept(obr.field(4), context);
  const reasonCode = reasons(group, context);
  const note = notesOf(group.notes, context);
  const prio = priority(group);
  return {
    resourceType: 'ServiceRequest',
    identifier: identifiers,
    status: orderStatus(orc),
    intent: SPECIMEN_ACTION_INTENT[obr?.get(11) ?? ''] ?? 'order',
    subject,
    ...(code ? { code } : {}),
    ...(prio ? { priority: prio } : {}),
    ...occurrence(group, context),
    ...(authoredOn ? { authoredOn } : {}),
    ...(links.requester ? { requester: links.requester } : {}),
    ...(requisition ? { requisition } : {}),
    ...(reasonCode.length > 0 ? { reasonCode } : {}),
    ...(note.length > 0 ? { note } : {}),
    ...(links.specimen.length > 0 ? { specimen: links.specimen } : {}),
    ...(links.supportingInfo.length > 0 ? { supportingInfo: links.supportingInfo } : {}),
  };
}

/** ORM: the filler's work on the order as a `fulfill` Task, keyed on the order's upsert key. */
function fulfilmentTask(
  request: ServiceRequest,
  reference: string,
  keys: OrderKeys,
  orc: V2Segment | undefined,
  context: MappingContext,
): { task: Task; identifier: Identifier } {
  const identifier = { system: senderSystem('order-task', context), value: keys.key.value };
  const active = request.status === 'active' ? ACTIVE_TASK_STATUS[orc?.get(5) ?? ''] : undefined;
  const task: Task = {
    resourceType: 'Task',
    identifier: [identifier],
    status: active ?? TASK_STATUS[request.status],
    intent: 'order',
    code: { coding: [{ system: 'http://hl7.org/fhir/CodeSystem/task-code', code: 'fulfill' }] },
    focus: { reference },
    for: request.subject,
    ...(request.authoredOn ? { authoredOn: request.authoredOn } : {}),
    ...(request.requester ? { requester: request.requester } : {}),
    ...(request.priority ? { priority: request.priority } : {}),
  };
  return { task, identifier };
}

export const ormToBundle: InboundMapping = (message, context) => {
  const groups = orderGroups(message);
  if (groups.length === 0) throw new MappingError('The message has no ORC or OBR segment', 'ORC', '100');
  const { reference: subject } = requiredPatient(message, context);
  const builder = transactionBuilder(context);
  const parties = partyResolver(builder, context);
  const keys = distinctKeys(
    groups,
    groups.map((g) => orderKeys(g, context)),
    context,
  );
  groups.forEach((group, i) => {
    const orderKey = keys[i];
    if (!group.obr) {
      // An ORC alone (e.g. a cancel) changes the status of the order it names and nothing else.
      builder.patch('ServiceRequest', orderKey.key, [
        { op: 'replace', path: '/status', value: orderStatus(group.orc) },
      ]);
      return;
    }
    const requesterField = firstField(group.orc?.field(12), group.obr.field(16));
    const requester = requesterField && (parties.practitioner(requesterField) as Reference<Practitioner> | undefined);
    const supportingInfo = supportingObservations(group, orderKey.key, subject, parties, context);
    const specimen = specimens(group, orderKey.key, subject, parties, context);
    const request = serviceRequest(group, orderKey, subject, { requester, supportingInfo, specimen }, context);
    const reference = parties.once(request, orderKey.key);
    if (message.header.code === 'ORM') {
      const { task, identifier } = fulfilmentTask(request, reference, orderKey, group.orc, context);
      parties.once(task, identifier);
    }
  });
  return builder.bundle();
};

/** OML^O21 maps like ORM (its SPM / ask-at-order-entry OBX are handled there); no Task. */
export const omlToBundle: InboundMapping = ormToBundle;
