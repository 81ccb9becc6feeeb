// v2 data types to FHIR data types (v2-to-FHIR IG datatype maps): CWE/CE -> CodeableConcept, CX/EI ->
// Identifier, XPN -> HumanName, XAD -> Address, XTN -> ContactPoint, XCN -> Practitioner, TS/DTM -> dateTime.
import type {
  Address,
  CodeableConcept,
  Coding,
  ContactPoint,
  HumanName,
  Identifier,
  Practitioner,
  Quantity,
} from '@medplum/fhirtypes';
import type { V2Field } from '../message/v2-message';
import { DEFAULT_UNITS, type MappingContext } from './context';

/** v2 coding system names (table 0396) -> FHIR system URIs. */
export const CODING_SYSTEMS: Record<string, string> = {
  LN: 'http://loinc.org',
  LOINC: 'http://loinc.org',
  SCT: 'http://snomed.info/sct',
  SNM: 'http://snomed.info/sct',
  UCUM: 'http://unitsofmeasure.org',
  ANS: 'http://unitsofmeasure.org',
  I10: 'http://hl7.org/fhir/sid/icd-10',
  I10C: 'http://hl7.org/fhir/sid/icd-10-cm',
  I9C: 'http://hl7.org/fhir/sid/icd-9-cm',
  C4: 'http://www.ama-assn.org/go/cpt',
  CPT: 'http://www.ama-assn.org/go/cpt',
  RXNORM: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  NDC: 'http://hl7.org/fhir/sid/ndc',
  CVX: 'http://hl7.org/fhir/sid/cvx',
  HCPCS: 'https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets',
};

/** `HL7nnnn` / `HL70203` tables -> terminology.hl7.org v2 code systems. */
export function codingSystem(name: string): string | undefined {
  if (!name) return undefined;
  const known = CODING_SYSTEMS[name.toUpperCase()];
  if (known) return known;
  const table = /^HL7(\d{4})$/i.exec(name);
  if (table) return `http://terminology.hl7.org/CodeSystem/v2-${table[1]}`;
  if (/^[a-z][a-z0-9+.-]*:/i.test(name)) return name;
  return `urn:hms:v2:codesystem:${encodeURIComponent(name)}`;
}

const compact = <T extends object>(value: T): T | undefined => {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined && v !== '' && !isEmptyArray(v));
  return entries.length > 0 ? (Object.fromEntries(entries) as T) : undefined;
};
const isEmptyArray = (v: unknown) => Array.isArray(v) && v.length === 0;

/** One coding of CWE components (1,2,3) or the alternate (4,5,6); the channel's code table may add a standard one. */
function coding(field: V2Field, first: number, context?: MappingContext): Coding[] {
  const code = field.get(first);
  const display = field.get(first + 1);
  const systemName = field.get(first + 2);
  if (!code && !display) return [];
  const own = compact<Coding>({
    system: codingSystem(systemName),
    code: code || undefined,
    display: display || undefined,
  });
  const mapped = code ? (context?.tables.codes?.[`${systemName}|${code}`] ?? context?.tables.codes?.[code]) : undefined;
  return [own, mapped].filter((c): c is Coding => c !== undefined);
}

/** CWE / CE / CNE / CF -> CodeableConcept (CWE.9 original text -> text). */
export function codeableConcept(field: V2Field, context?: MappingContext): CodeableConcept | undefined {
  if (field.isEmpty) return undefined;
  const codings = [...coding(field, 1, context), ...coding(field, 4, context)];
  const unique = codings.filter((c, i) => codings.findIndex((o) => o.system === c.system && o.code === c.code) === i);
  const text = field.get(9) || (codings.length === 0 ? field.get(1) : undefined);
  return compact<CodeableConcept>({ coding: unique, text });
}

/** A coded value from a v2 table (IS / ID) as a coding in the table's terminology.hl7.org system. */
export function tableCode(value: string, table: string): CodeableConcept | undefined {
  if (!value) return undefined;
  return { coding: [{ system: `http://terminology.hl7.org/CodeSystem/v2-${table}`, code: value }] };
}

/**
 * Identifier system of an assigning authority (CX.4 / EI.2-4 as namespace, universal id, id type): the
 * channel's table first, then an ISO OID or URI, then a system named after the namespace or the sender.
 */
export function identifierSystem(
  namespace: string,
  universalId: string,
  universalType: string,
  context: MappingContext,
): string {
  const table = context.tables.identifierSystems ?? {};
  const named = table[namespace] ?? table[universalId];
  if (named) return named;
  if (universalId && universalType.toUpperCase() === 'ISO') return `urn:oid:${universalId}`;
  if (universalId && /^[a-z][a-z0-9+.-]*:/i.test(universalId)) return universalId;
  const authority = namespace || universalId || context.sender || 'unknown';
  return `urn:hms:v2:${encodeURIComponent(authority)}`;
}

/** CX -> Identifier: CX.1 value, CX.4 system, CX.5 type (table 0203). */
export function identifier(field: V2Field, context: MappingContext): Identifier | undefined {
  const value = field.get(1);
  if (!value) return undefined;
  const [namespace = '', universalId = '', universalType = ''] = field.subcomponents(4);
  const typeCode = field.get(5);
  return compact<Identifier>({
    type: typeCode
      ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: typeCode }] }
      : undefined,
    system: identifierSystem(namespace, universalId, universalType, context),
    value,
  });
}

/** EI (entity identifier, e.g. placer / filler order numbers) -> Identifier with an optional v2-0203 type. */
export function entityIdentifier(field: V2Field, context: MappingContext, type?: string): Identifier | undefined {
  const value = field.get(1);
  if (!value) return undefined;
  return compact<Identifier>({
    type: type ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: type }] } : undefined,
    system: identifierSystem(field.get(2), field.get(3), field.get(4), context),
    value,
  });
}

const NAME_USE: Record<string, HumanName['use']> = {
  L: 'official',
  D: 'usual',
  M: 'maiden',
  N: 'nickname',
  A: 'anonymous',
  B: 'official',
  C: 'old',
  P: 'usual',
  S: 'anonymous',
  T: 'temp',
  U: 'temp',
};

/** XPN -> HumanName: family, given (2, 3), suffix, prefix, use. */
export function humanName(field: V2Field): HumanName | undefined {
  return compact<HumanName>({
    family: field.get(1, 1) || undefined,
    given: [field.get(2), field.get(3)].filter((g) => g !== ''),
    suffix: field.get(4) ? [field.get(4)] : undefined,
    prefix: field.get(5) ? [field.get(5)] : undefined,
    use: NAME_USE[field.get(7)],
  });
}

const ADDRESS_USE: Record<string, Address['use']> = {
  H: 'home',
  O: 'work',
  B: 'work',
  C: 'temp',
  BA: 'old',
  M: 'home',
};

/** XAD -> Address. */
export function address(field: V2Field): Address | undefined {
  return compact<Address>({
    line: [field.get(1, 1), field.get(2)].filter((l) => l !== ''),
    city: field.get(3) || undefined,
    state: field.get(4) || undefined,
    postalCode: field.get(5) || undefined,
    country: field.get(6) || undefined,
    use: ADDRESS_USE[field.get(7)],
    district: field.get(9) || undefined,
  });
}

/** XTN -> ContactPoint: XTN.1 (old style) or XTN.12 unformatted, else area code + local number; email XTN.4. */
export function contactPoint(field: V2Field, defaultUse?: ContactPoint['use']): ContactPoint | undefined {
  const equipment = field.get(3);
  const email = field.get(4);
  if (equipment === 'Internet' || equipment === 'X.400' || (email && !field.get(1))) {
    return compact<ContactPoint>({ system: 'email', value: email || field.get(1), use: defaultUse });
  }
  const composed = [field.get(5), field.get(6), field.get(7)].filter((p) => p !== '').join(' ');
  const value = field.get(12) || field.get(1) || composed;
  if (!value) return undefined;
  const system: ContactPoint['system'] = equipment === 'FX' ? 'fax' : equipment === 'BP' ? 'pager' : 'phone';
  const use: ContactPoint['use'] = equipment === 'CP' ? 'mobile' : field.get(2) === 'WPN' ? 'work' : defaultUse;
  return compact<ContactPoint>({ system, value, use });
}

/** XCN -> a Practitioner (identifier from XCN.1 / XCN.9 / XCN.13, name from XCN.2-6). */
export function practitioner(field: V2Field, context: MappingContext): Practitioner | undefined {
  if (field.isEmpty) return undefined;
  const id = field.get(1);
  const [namespace = '', universalId = '', universalType = ''] = field.subcomponents(9);
  const typeCode = field.get(13);
  const name = compact<HumanName>({
    family: field.get(2, 1) || undefined,
    given: [field.get(3), field.get(4)].filter((g) => g !== ''),
    suffix: field.get(5) ? [field.get(5)] : undefined,
    prefix: field.get(6) ? [field.get(6)] : undefined,
  });
  const ident = id
    ? compact<Identifier>({
        type: typeCode
          ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: typeCode }] }
          : undefined,
        system: identifierSystem(namespace, universalId, universalType, context),
        value: id,
      })
    : undefined;
  if (!ident && !name) return undefined;
  return { resourceType: 'Practitioner', ...(ident ? { identifier: [ident] } : {}), ...(name ? { name: [name] } : {}) };
}

/**
 * TS / DTM / DT -> FHIR date or dateTime keeping the precision sent: `2014`, `2014-10`, `2014-10-06`, or a
 * dateTime with seconds and the offset sent (or the channel's). Undefined for text that is not a v2 time.
 */
export function dateTime(value: string, context: Pick<MappingContext, 'timezone'>): string | undefined {
  const match = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$/.exec(value.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction, offset] = match;
  if (!month) return year;
  if (!day) return `${year}-${month}`;
  if (!hour) return `${year}-${month}-${day}`;
  const zone = offset ?? context.timezone;
  const tz = zone === '+0000' || zone === '-0000' ? 'Z' : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return `${year}-${month}-${day}T${hour}:${minute ?? '00'}:${second ?? '00'}${fraction ?? ''}${tz}`;
}

/** DT / date part of a TS -> FHIR date. */
export function date(value: string): string | undefined {
  const match = /^(\d{4})(\d{2})?(\d{2})?/.exec(value.trim());
  if (!match) return undefined;
  return [match[1], match[2], match[3]].filter((p) => p !== undefined).join('-');
}

/** A full instant (for `issued`); a date-only value becomes midnight in the sender's zone. */
export function instant(value: string, context: Pick<MappingContext, 'timezone'>): string | undefined {
  const result = dateTime(value, context);
  if (!result || result.length < 10) return undefined;
  return result.includes('T') ? result : dateTime(`${value.trim().slice(0, 8)}0000`, context);
}

/** A number as v2 sends it (`+5`, ` 4.06`, `1,5` is not a number). */
export function decimal(value: string): number | undefined {
  const trimmed = value.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/** A quantity with a CWE unit (OBX-6): UCUM when the unit is UCUM or the channel maps it, text otherwise. */
export function quantity(value: number, unitField: V2Field | undefined, context: MappingContext): Quantity {
  const unitCode = unitField?.get(1) ?? '';
  const unitText = unitField?.get(2) || unitCode;
  const unitSystem = unitField?.get(3) ?? '';
  if (!unitCode && !unitText) return { value };
  const ucum =
    context.tables.units?.[unitCode] ??
    DEFAULT_UNITS[unitCode] ??
    (/^(UCUM|ANS\+?)$/i.test(unitSystem) ? unitCode : undefined);
  return compact<Quantity>({
    value,
    unit: unitText,
    ...(ucum ? { system: 'http://unitsofmeasure.org', code: ucum } : {}),
  }) as Quantity;
}
