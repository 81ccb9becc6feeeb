// ORU^R01 (lab results) -> transaction Bundle: one DiagnosticReport per OBR, one Observation per OBX, one
// Specimen per SPM, each upserted on a key built from the order number, so preliminary then final results
// (or a replayed message) update the same resources.
import type {
  Attachment,
  CodeableConcept,
  DiagnosticReport,
  HumanName,
  Identifier,
  Observation,
  Patient,
  Practitioner,
  Reference,
  ServiceRequest,
  Specimen,
} from '@medplum/fhirtypes';
import type { V2Field, V2Message, V2Segment } from '../message/v2-message';
import { referenceByIdentifier, tokenOf, transactionBuilder, type TransactionBuilder } from './bundle';
import type { MappingContext } from './context';
import { codeableConcept, dateTime, entityIdentifier, identifierSystem, instant, practitioner } from './datatypes';
import { compact, nteText, observationFromObx, partiesOf, type ObxLinks, type Parties } from './obx';
import { patientKey, patientReference } from './patient-key';
import { MappingError, type InboundMapping } from './types';

/** ORU_R01 groups, rebuilt from segment order (an NTE belongs to the OBR or OBX just before it). */
interface PatientResult {
  pid: V2Segment;
  orders: OrderGroup[];
}
interface OrderGroup {
  orc?: V2Segment;
  obr: V2Segment;
  /** 1-based OBR occurrence in the message, for ERR locations. */
  obrNumber: number;
  notes: V2Segment[];
  observations: ObservationGroup[];
  specimens: V2Segment[];
}
interface ObservationGroup {
  obx: V2Segment;
  obxNumber: number;
  notes: V2Segment[];
  /** The SPM this OBX follows (SPECIMEN group), if any. */
  spm?: V2Segment;
}

/** The order a report is keyed on: filler number, else placer number, else patient + test + time. */
interface OrderKey {
  /** The assigning authority as it appears in our key systems (`urn:hms:v2:<kind>:<authority>`). */
  authority: string;
  value: string;
}

const LAB_CATEGORY: CodeableConcept = {
  coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'LAB', display: 'Laboratory' }],
};

/** OBR-24 diagnostic service section (table 0074); a code outside it falls back to LAB. */
const SERVICE_SECTIONS: Record<string, string> = {
  AU: 'Audiology',
  BG: 'Blood Gases',
  BLB: 'Blood Bank',
  CG: 'Cytogenetics',
  CUS: 'Cardiac Ultrasound',
  CTH: 'Cardiac Catheterization',
  CT: 'CAT Scan',
  CH: 'Chemistry',
  CP: 'Cytopathology',
  EC: 'Electrocardiac',
  EN: 'Electroneuro',
  GE: 'Genetics',
  HM: 'Hematology',
  ICU: 'Bedside ICU Monitoring',
  IMM: 'Immunology',
  LAB: 'Laboratory',
  MB: 'Microbiology',
  MCB: 'Mycobacteriology',
  MYC: 'Mycology',
  NMS: 'Nuclear Medicine Scan',
  NMR: 'Nuclear Magnetic Resonance',
  NRS: 'Nursing Service Measures',
  OUS: 'OB Ultrasound',
  OT: 'Occupational Therapy',
  OTH: 'Other',
  OSL: 'Outside Lab',
  PHR: 'Pharmacy',
  PT: 'Physical Therapy',
  PHY: 'Physician (Hx. Dx, admission note, etc.)',
  PF: 'Pulmonary Function',
  RAD: 'Radiology',
  RX: 'Radiograph',
  RUS: 'Radiology Ultrasound',
  RC: 'Respiratory Care (therapy)',
  RT: 'Radiation Therapy',
  SR: 'Serology',
  SP: 'Surgical Pathology',
  TX: 'Toxicology',
  VUS: 'Vascular Ultrasound',
  VR: 'Virology',
  XRC: 'Cineradiograph',
};

/** OBR-25 (table 0123) -> DiagnosticReport.status. */
const REPORT_STATUS: Record<string, DiagnosticReport['status']> = {
  O: 'registered',
  I: 'registered',
  S: 'registered',
  P: 'preliminary',
  A: 'partial',
  R: 'partial',
  C: 'corrected',
  F: 'final',
  X: 'cancelled',
  Y: 'unknown',
  Z: 'unknown',
};

/** OBX-29 types that are order questions (ask at order entry), not results of the report. */
const NOT_RESULTS = new Set(['QST', 'SCI']);

/** SPM-20 specimen availability -> Specimen.status. */
const SPECIMEN_STATUS: Record<string, Specimen['status']> = { Y: 'available', N: 'unavailable' };

export const oruToBundle: InboundMapping = (message, context) => {
  const builder = transactionBuilder(context);
  const state: MessageState = {
    builder,
    context,
    parties: partiesOf(builder),
    specimens: new Map(),
    keys: new Set(),
  };
  const results = patientResults(message);
  if (results.length === 0) throw new MappingError('The message has no PID segment', 'PID', '100');
  for (const result of results) {
    const subject = patientReference(result.pid, context) as Reference<Patient> | undefined;
    const key = patientKey(result.pid, context);
    if (!subject || !key?.value) throw new MappingError('PID-3 (patient identifier) is empty', 'PID^1^3');
    for (const order of result.orders) mapOrder(order, { subject, patientId: key.value }, state);
  }
  return builder.bundle();
};

interface MessageState {
  builder: TransactionBuilder;
  context: MappingContext;
  parties: Parties;
  /** Specimen fullUrls by identifier token: one SPM id sent under several OBRs is one Specimen. */
  specimens: Map<string, string>;
  /** Observation keys used so far, so no two OBX of a message upsert the same resource. */
  keys: Set<string>;
}

/** Splits the message into PATIENT_RESULT / ORDER_OBSERVATION / OBSERVATION / SPECIMEN groups by position. */
export function patientResults(message: V2Message): PatientResult[] {
  const results: PatientResult[] = [];
  let order: OrderGroup | undefined;
  let pendingOrc: V2Segment | undefined;
  let last: 'order' | 'observation' | 'specimen' | undefined;
  let obrNumber = 0;
  let obxNumber = 0;
  for (const segment of message.segments) {
    const result = results[results.length - 1];
    switch (segment.name) {
      case 'PID':
        results.push({ pid: segment, orders: [] });
        order = pendingOrc = last = undefined;
        break;
      case 'ORC':
        // An ORC opens the next order group: OBX between it and its OBR belong to no report.
        pendingOrc = segment;
        order = last = undefined;
        break;
      case 'OBR':
        obrNumber += 1;
        order = { orc: pendingOrc, obr: segment, obrNumber, notes: [], observations: [], specimens: [] };
        result?.orders.push(order);
        pendingOrc = undefined;
        last = 'order';
        break;
      case 'OBX': {
        obxNumber += 1;
        if (!order) break; // patient-level OBX (v2.8 PATIENT group) or a stray one: not a result of a report
        const spm = last === 'specimen' ? order.specimens[order.specimens.length - 1] : undefined;
        order.observations.push({ obx: segment, obxNumber, notes: [], spm });
        if (last !== 'specimen') last = 'observation';
        break;
      }
      case 'SPM':
        order?.specimens.push(segment);
        last = order ? 'specimen' : undefined;
        break;
      case 'NTE':
        if (last === 'order') order?.notes.push(segment);
        else if (last === 'observation') order?.observations[order.observations.length - 1].notes.push(segment);
        break;
    }
  }
  return results;
}

function mapOrder(
  order: OrderGroup,
  patient: { subject: Reference<Patient>; patientId: string },
  state: MessageState,
): void {
  const { obr, orc } = order;
  const { builder, context } = state;
  const code = codeableConcept(obr.field(4), context);
  if (!code) throw new MappingError('OBR-4 (universal service identifier) is empty', `OBR^${order.obrNumber}^4`);
  const fillerField = firstPresent(obr.field(3), orc?.field(3));
  const placerField = firstPresent(obr.field(2), orc?.field(2));
  const filler = fillerField ? entityIdentifier(fillerField, context, 'FILL') : undefined;
  const placer = placerField ? entityIdentifier(placerField, context, 'PLAC') : undefined;
  const orderKey = keyOfOrder(filler ?? placer, obr, patient.patientId, context);
  const basedOn = placer && placerField ? [orderReference(placerField, placer, context)] : undefined;
  const effective = dateTime(obr.get(7), context);
  const issued = instant(obr.get(22), context);
  const specimens = order.specimens.map((spm, i) => specimen(spm, i, orderKey, patient.subject, state));
  const specimenOf = (spm: V2Segment | undefined): Reference<Specimen> | undefined => {
    const fullUrl = spm ? specimens[order.specimens.indexOf(spm)] : specimens.length === 1 ? specimens[0] : undefined;
    return fullUrl ? { reference: fullUrl } : undefined;
  };
  const { observations, results, attachments } = mapObservations(order, state, {
    orderKey,
    subject: patient.subject,
    basedOn,
    specimenOf,
    orderCode: code,
    effective,
    issued,
  });

  const reportKey: Identifier = { system: `urn:hms:v2:report:${orderKey.authority}`, value: orderKey.value };
  const report = compact<DiagnosticReport>({
    resourceType: 'DiagnosticReport',
    identifier: [filler, placer, reportKey],
    basedOn,
    status: REPORT_STATUS[obr.get(25).toUpperCase()] ?? statusFromResults(observations),
    category: [category(obr.get(24))],
    code,
    subject: patient.subject,
    ...effectiveOf(effective, dateTime(obr.get(8), context)),
    issued,
    resultsInterpreter: obr.repetitions(32).map((f) => state.parties.practitioner(interpreter(f, context))),
    specimen: specimens.map((reference) => ({ reference })),
    result: results,
    conclusion: order.notes.map(nteText).filter(Boolean).join('\n') || undefined,
    presentedForm: attachments,
  });
  builder.upsert(report, reportKey);
}

/** The order's OBX -> Observations (upserted), the report's result references, and ED attachments. */
function mapObservations(
  order: OrderGroup,
  state: MessageState,
  shared: Pick<ObxLinks, 'subject' | 'basedOn' | 'orderCode' | 'effective' | 'issued'> & {
    orderKey: OrderKey & { base: string };
    specimenOf: (spm: V2Segment | undefined) => Reference<Specimen> | undefined;
  },
): { observations: Observation[]; results: Reference<Observation>[]; attachments: Attachment[] } {
  const { orderKey, specimenOf, ...links } = shared;
  const repeated = repeatedCodes(order, order.obr);
  const observations: Observation[] = [];
  const results: Reference<Observation>[] = [];
  const attachments: Attachment[] = [];
  for (const group of order.observations) {
    const { obx } = group;
    const mapped = observationFromObx(obx, state.context, {
      ...links,
      key: observationKey(group, order.obr, orderKey, repeated, state),
      specimen: specimenOf(group.spm),
      notes: group.notes,
      parties: state.parties,
      location: `OBX^${group.obxNumber}`,
    });
    const fullUrl = state.builder.upsert(mapped.observation, mapped.observation.identifier?.[0]);
    observations.push(mapped.observation);
    attachments.push(...mapped.attachments);
    if (!NOT_RESULTS.has(obx.get(29).toUpperCase())) results.push({ reference: fullUrl });
  }
  return { observations, results, attachments };
}

const firstPresent = (...fields: Array<V2Field | undefined>): V2Field | undefined =>
  fields.find((f) => f !== undefined && f.get(1) !== '');

/**
 * The report's key: the filler (else placer) order number with the test code, since labs reuse one
 * accession number for several OBRs; with no order number, the patient, test and observation time.
 */
function keyOfOrder(
  order: Identifier | undefined,
  obr: V2Segment,
  patientId: string,
  context: MappingContext,
): OrderKey & { base: string } {
  const test = obr.get(4);
  if (order?.value) {
    return { authority: authorityOf(order.system ?? ''), base: order.value, value: `${order.value}|${test}` };
  }
  const base = `${patientId}|${test}|${obr.get(7)}`;
  return { authority: authorityOf(identifierSystem('', '', '', context)), base, value: base };
}

/** The authority part of an identifier system: ours without the `urn:hms:v2:` prefix, others whole. */
const authorityOf = (system: string): string => system.replace(/^urn:hms:v2:/, '');

/** OBX-3 code + OBX-4 sub-id that occur more than once in the order (their keys then take OBX-1). */
function repeatedCodes(order: OrderGroup, obr: V2Segment): Set<string> {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const { obx } of order.observations) {
    const id = `${obx.get(3) || obr.get(4)}|${obx.get(4)}`;
    if (seen.has(id)) repeated.add(id);
    seen.add(id);
  }
  return repeated;
}

/** `urn:hms:v2:result:<authority>` | `<order number>|<OBX-3.1>[|<OBX-4>][|<OBX-1>]`, unique in the message. */
function observationKey(
  group: ObservationGroup,
  obr: V2Segment,
  orderKey: OrderKey & { base: string },
  repeated: Set<string>,
  state: MessageState,
): Identifier {
  const { obx } = group;
  const code = obx.get(3) || obr.get(4);
  const subId = obx.get(4);
  const parts = [orderKey.base, code, subId];
  if (repeated.has(`${code}|${subId}`)) parts.push(obx.get(1));
  let value = parts.join('|').replace(/\|+$/, '');
  // Only a malformed message (same code, sub-id and set id twice) gets here: keep its OBX apart by position.
  for (let n = 2; state.keys.has(value); n += 1) value = `${parts.join('|')}|#${n}`;
  state.keys.add(value);
  return { system: `urn:hms:v2:result:${orderKey.authority}`, value };
}

/**
 * DiagnosticReport.basedOn: a placer number in our own namespace is our ServiceRequest id; any other is
 * resolved by identifier (the bridge resolves it, or worklists the result as an orphan).
 */
function orderReference(placerField: V2Field, placer: Identifier, context: MappingContext): Reference<ServiceRequest> {
  if (placerField.get(2) === context.ownNamespace) {
    return { reference: `ServiceRequest?_id=${encodeURIComponent(placerField.get(1))}` };
  }
  return referenceByIdentifier('ServiceRequest', placer) as Reference<ServiceRequest>;
}

/** SPM -> Specimen, upserted on SPM-2 (filler, else placer assigned id) or on the order key and SPM-1. */
function specimen(
  spm: V2Segment,
  index: number,
  orderKey: OrderKey,
  subject: Reference<Patient>,
  state: MessageState,
): string {
  const { context, builder } = state;
  const sent = specimenIdentifier(spm.field(2), 2, context) ?? specimenIdentifier(spm.field(2), 1, context);
  const key = sent ?? {
    system: `urn:hms:v2:specimen:${orderKey.authority}`,
    value: `${orderKey.value}|${spm.get(1) || index + 1}`,
  };
  const token = tokenOf(key);
  const known = state.specimens.get(token);
  if (known) return known;
  const collected = spm.field(17);
  const start = dateTime(collected.get(1, 1), context);
  const end = dateTime(collected.get(2, 1), context);
  const resource = compact<Specimen>({
    resourceType: 'Specimen',
    identifier: [key],
    status: SPECIMEN_STATUS[spm.get(20).toUpperCase()],
    type: codeableConcept(spm.field(4), context),
    subject,
    receivedTime: dateTime(spm.get(18, 1), context),
    collection: compact<NonNullable<Specimen['collection']>>({
      ...(start && end && start !== end ? { collectedPeriod: { start, end } } : { collectedDateTime: start }),
      method: codeableConcept(spm.field(7), context),
      bodySite: codeableConcept(spm.field(8), context),
    }),
  });
  const fullUrl = builder.upsert(resource, key);
  state.specimens.set(token, fullUrl);
  return fullUrl;
}

/** EIP component (1 placer, 2 filler) -> Identifier; its EI parts are sub-components. */
function specimenIdentifier(field: V2Field, component: number, context: MappingContext): Identifier | undefined {
  const [value = '', namespace = '', universalId = '', universalType = ''] = field.subcomponents(component);
  if (!value) return undefined;
  return { system: identifierSystem(namespace, universalId, universalType, context), value };
}

function category(section: string): CodeableConcept {
  const display = SERVICE_SECTIONS[section.toUpperCase()];
  if (!display) return LAB_CATEGORY;
  return {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: section.toUpperCase(), display }],
  };
}

function effectiveOf(start: string | undefined, end: string | undefined): Partial<DiagnosticReport> {
  if (start && end && end !== start) return { effectivePeriod: { start, end } };
  return start ? { effectiveDateTime: start } : {};
}

/** Report status when OBR-25 is empty: what its results say together. */
export function statusFromResults(observations: Observation[]): DiagnosticReport['status'] {
  const statuses = new Set(observations.map((o) => o.status));
  if (statuses.size === 0) return 'unknown';
  const only = (...allowed: string[]) => [...statuses].every((s) => allowed.includes(s));
  if (only('entered-in-error')) return 'entered-in-error';
  if (only('cancelled', 'entered-in-error')) return 'cancelled';
  if (only('registered')) return 'registered';
  if (statuses.has('corrected') && only('final', 'corrected', 'cancelled', 'entered-in-error')) return 'corrected';
  if (statuses.has('amended') && only('final', 'amended', 'corrected', 'cancelled', 'entered-in-error')) {
    return 'amended';
  }
  if (only('final', 'cancelled', 'entered-in-error')) return 'final';
  if (statuses.has('final') || statuses.has('corrected') || statuses.has('amended')) return 'partial';
  if (statuses.has('preliminary')) return 'preliminary';
  return 'unknown';
}

/**
 * OBR-32 (NDL): its first component is a CNN whose parts are sub-components (id & family & given & ...),
 * then start and end times; some senders put an XCN there instead, which `practitioner` reads.
 */
function interpreter(field: V2Field, context: MappingContext): Practitioner | undefined {
  const xcn = field.subcomponents(1).length === 1 && field.get(2) !== '' && !dateTime(field.get(2), context);
  return xcn ? practitioner(field, context) : practitionerFromCnn(field, context);
}

function practitionerFromCnn(field: V2Field, context: MappingContext): Practitioner | undefined {
  const [
    id = '',
    family = '',
    given = '',
    middle = '',
    suffix = '',
    prefix = '',
    ,
    ,
    namespace = '',
    uid = '',
    type = '',
  ] = field.subcomponents(1);
  const name = compact<HumanName>({
    family: family || undefined,
    given: [given, middle].filter((g) => g !== ''),
    suffix: suffix ? [suffix] : undefined,
    prefix: prefix ? [prefix] : undefined,
  });
  const hasName = Object.keys(name).length > 0;
  if (!id && !hasName) return undefined;
  return compact<Practitioner>({
    resourceType: 'Practitioner',
    identifier: id ? [{ system: identifierSystem(namespace, uid, type, context), value: id }] : undefined,
    name: hasName ? [name] : undefined,
  });
}

/** Observations this mapping skips by design: OBX outside an OBR group (patient-level or before the OBR). */
export function skippedObservations(message: V2Message): V2Segment[] {
  const mapped = new Set(
    patientResults(message).flatMap((r) => r.orders.flatMap((o) => o.observations.map((g) => g.obx))),
  );
  return message.all('OBX').filter((obx) => !mapped.has(obx));
}
