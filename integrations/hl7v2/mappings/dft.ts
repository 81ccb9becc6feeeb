// DFT^P03 -> one ChargeItem per FT1 charge (CG) or credit (CD), upserted on the transaction id (reference §2.5,
// our own map: the v2-to-FHIR IG has none). Payments and adjustments (PY, AJ) are not ChargeItems: skipped.
import { inRequiredValueSet } from '../../../resources/validation/required-bindings';
import type {
  ChargeItem,
  CodeableConcept,
  Coding,
  Encounter,
  Extension,
  Identifier,
  Money,
  Organization,
  Patient,
  Practitioner,
  Reference,
} from '@medplum/fhirtypes';
import type { V2Field, V2Message, V2Segment } from '../message/v2-message';
import { referenceByIdentifier, transactionBuilder } from './bundle';
import type { MappingContext } from './context';
import { codeableConcept, codingSystem, decimal, identifier } from './datatypes';
import { requiredPatient, senderSystem, timeOf } from './orm';
import { partyResolver, type PartyResolver } from './pv1';
import { MappingError, type InboundMapping } from './types';

const CPT = 'http://www.ama-assn.org/go/cpt';
export const PROCEDURE_MODIFIER_URL = 'urn:hms:v2:procedure-modifier';

/**
 * FT1-6 transaction type (table 0017) -> the sign of the charge. A credit is a billable item with negative
 * quantity and price: FT1 has no field naming the transaction it reverses (FT1-31 holds set ids), so it
 * cannot mark an earlier ChargeItem entered-in-error. Types not listed (PY, AJ, ...) are skipped.
 */
const TRANSACTION_SIGN: Record<string, 1 | -1> = { CG: 1, CD: -1 };

interface ChargeContext {
  context: MappingContext;
  parties: PartyResolver;
  subject: Reference<Patient>;
  patientValue: string;
  encounter?: Reference<Encounter>;
}

/** FT1-7 (+ FT1-8 text, + FT1-25 procedure code, CPT unless it names its system). */
function chargeCode(ft1: V2Segment, position: number, context: MappingContext): CodeableConcept {
  const code = codeableConcept(ft1.field(7), context);
  if (!code) throw new MappingError('The transaction code (FT1-7) is missing', `FT1^${position}^7`);
  // A code sent without a system is the sender's charge description master (CDM) code.
  const cdm = senderSystem('cdm', context);
  const own = (code.coding ?? []).map((c) => (c.system || !c.code ? c : { system: cdm, ...c }));
  const procedure = ft1.field(25);
  const cpt: Coding[] = procedure.get(1)
    ? [
        {
          system: codingSystem(procedure.get(3)) ?? CPT,
          code: procedure.get(1),
          ...(procedure.get(2) ? { display: procedure.get(2) } : {}),
        },
      ]
    : [];
  const codings = [...own, ...cpt].filter(
    (c, i, all) => all.findIndex((o) => o.system === c.system && o.code === c.code) === i,
  );
  const text = ft1.get(8) || code.text;
  return { ...(codings.length > 0 ? { coding: codings } : {}), ...(text ? { text } : {}) };
}

/** FT1-26 (repeating CNE) -> one extension per modifier. */
function modifiers(ft1: V2Segment): Extension[] {
  return ft1.repetitions(26).map((field) => {
    const system = field.get(3) ? codingSystem(field.get(3)) : undefined;
    const valueCoding: Coding = {
      ...(system ? { system } : {}),
      code: field.get(1),
      ...(field.get(2) ? { display: field.get(2) } : {}),
    };
    return { url: PROCEDURE_MODIFIER_URL, valueCoding };
  });
}

/** CP (price: MO amount & currency) -> Money. */
function money(field: V2Field): Money | undefined {
  const [amount = '', currency = ''] = field.subcomponents(1);
  const value = decimal(amount);
  if (value === undefined) return undefined;
  // Money.currency is bound (required) to ISO 4217: anything else is left out rather than rejected.
  const known = /^[A-Z]{3}$/.test(currency) && inRequiredValueSet('Money.currency', currency);
  return { value, ...(known ? { currency: currency as Money['currency'] } : {}) };
}

/** FT1-11 extended amount, else FT1-12 unit amount x quantity; signed like the transaction. */
function price(ft1: V2Segment, quantity: number | undefined, sign: 1 | -1): Money | undefined {
  const extended = money(ft1.field(11));
  const unit = money(ft1.field(12));
  const total = extended ?? (unit?.value !== undefined ? { ...unit, value: unit.value * (quantity ?? 1) } : undefined);
  return total?.value !== undefined ? { ...total, value: sign * Math.abs(total.value) } : undefined;
}

/** FT1-13 department -> an Organization upserted on the department code. */
function costCenter(
  ft1: V2Segment,
  parties: PartyResolver,
  context: MappingContext,
): Reference<Organization> | undefined {
  const code = ft1.get(13);
  if (!code) return undefined;
  const id: Identifier = { system: senderSystem('department', context), value: code };
  const name = ft1.get(13, 2) || code;
  const organization: Organization = { resourceType: 'Organization', identifier: [id], name, active: true };
  return { reference: parties.once(organization, id), display: name };
}

/** FT1-2, else `<MR>-<FT1-1>-<FT1-4>-<FT1-7>`: a replayed message hits the same ChargeItem. */
function chargeIdentifier(ft1: V2Segment, position: number, charge: ChargeContext): Identifier {
  const system = senderSystem('charge', charge.context);
  const transactionId = ft1.get(2);
  if (transactionId) return { system, value: transactionId };
  const parts = [charge.patientValue, ft1.get(1) || String(position), ft1.get(4, 1, 1), ft1.get(7)];
  return { system, value: parts.join('-') };
}

function chargeItem(
  ft1: V2Segment,
  position: number,
  sign: 1 | -1,
  key: Identifier,
  charge: ChargeContext,
): ChargeItem {
  const { context, parties } = charge;
  const sent = decimal(ft1.get(10));
  const quantity = sent === undefined ? (sign < 0 ? -1 : undefined) : sign * Math.abs(sent);
  const priceOverride = price(ft1, sent, sign);
  const performer = ft1
    .repetitions(20)
    .map((f) => parties.practitioner(f) as Reference<Practitioner> | undefined)
    .filter((actor): actor is Reference<Practitioner> => actor !== undefined)
    .map((actor) => ({ actor }));
  const entererField = ft1.repetitions(24)[0];
  const enterer = entererField && (parties.practitioner(entererField) as Reference<Practitioner> | undefined);
  const reason = ft1
    .repetitions(19)
    .map((f) => codeableConcept(f, context))
    .filter((c): c is CodeableConcept => c !== undefined);
  const occurrence = timeOf(ft1.field(4), 1, context);
  const enteredDate = timeOf(ft1.field(5), 1, context);
  const center = costCenter(ft1, parties, context);
  const extension = modifiers(ft1);
  return {
    resourceType: 'ChargeItem',
    identifier: [key],
    status: 'billable',
    code: chargeCode(ft1, position, context),
    subject: charge.subject,
    ...(extension.length > 0 ? { extension } : {}),
    ...(charge.encounter ? { context: charge.encounter } : {}),
    ...(occurrence ? { occurrenceDateTime: occurrence } : {}),
    ...(enteredDate ? { enteredDate } : {}),
    ...(quantity !== undefined ? { quantity: { value: quantity } } : {}),
    ...(priceOverride ? { priceOverride } : {}),
    ...(performer.length > 0 ? { performer } : {}),
    ...(enterer ? { enterer } : {}),
    ...(reason.length > 0 ? { reason } : {}),
    ...(center ? { costCenter: center } : {}),
  };
}

/** PV1-19 visit number -> a conditional reference to the registered Encounter (only when sent). */
function visitReference(message: V2Message, context: MappingContext): Reference<Encounter> | undefined {
  const visit = message.segment('PV1')?.field(19);
  const visitIdentifier = visit && identifier(visit, context);
  return visitIdentifier ? (referenceByIdentifier('Encounter', visitIdentifier) as Reference<Encounter>) : undefined;
}

export const dftToBundle: InboundMapping = (message, context) => {
  const { reference: subject, key } = requiredPatient(message, context);
  const builder = transactionBuilder(context);
  const charge: ChargeContext = {
    context,
    parties: partyResolver(builder, context),
    subject,
    patientValue: key.value ?? '',
    encounter: visitReference(message, context),
  };
  message.all('FT1').forEach((ft1, i) => {
    const position = i + 1;
    const type = ft1.get(6);
    if (!type) throw new MappingError('The transaction type (FT1-6) is missing', `FT1^${position}^6`);
    const sign = TRANSACTION_SIGN[type];
    if (!sign) return;
    const key = chargeIdentifier(ft1, position, charge);
    charge.parties.once(chargeItem(ft1, position, sign, key, charge), key);
  });
  return builder.bundle();
};
