// Where the @medplum/core oracle (matchesSearchRequest 4.3.12) departs from FHIR R4 search. For these cases
// the differential test compares the server with differential-spec.ts (the spec's rule, written out) instead,
// and counts how often Medplum itself would have disagreed. A server departure from the spec is never listed here.

export interface QueryCase {
  resourceType: string;
  code: string;
  paramType: string;
  modifier?: string;
  /** The whole query string, e.g. `birthdate=ge1970&birthdate=lt1980`. */
  query: string;
}

export interface OracleException {
  feature: string;
  applies: (q: QueryCase) => boolean;
  reason: string;
  spec: string;
}

const R4 = 'https://hl7.org/fhir/R4/search.html';

export const ORACLE_EXCEPTIONS: OracleException[] = [
  {
    feature: 'string parameters (default, :exact, :contains)',
    applies: (q) => q.paramType === 'string' && q.modifier !== 'missing',
    reason:
      'Medplum matches every string filter as a case-insensitive substring (resourceValue.toLowerCase().includes), ' +
      'ignoring the modifier: the default must match values that equal or START with the query after case and ' +
      'accent normalization, and :exact must be case- and accent-sensitive equality of the whole value.',
    spec: `${R4}#string (3.1.1.4.8 string, modifiers :exact and :contains)`,
  },
  {
    feature: 'uri parameters (exact, :above, :below)',
    applies: (q) => q.paramType === 'uri' && q.modifier !== 'missing',
    reason:
      'Medplum evaluates uri filters with its string rule (case-insensitive substring): the spec requires exact ' +
      'equality by default and prefix matching for :below (and the reverse for :above).',
    spec: `${R4}#uri (3.1.1.4.13 uri)`,
  },
  {
    feature: 'number parameters',
    applies: (q) => q.paramType === 'number' && q.modifier !== 'missing',
    reason: 'matchesSearchFilter has no case for number: every number filter is false.',
    spec: `${R4}#number (3.1.1.4.6 number) and #prefix`,
  },
  {
    feature: 'quantity parameters',
    applies: (q) => q.paramType === 'quantity' && q.modifier !== 'missing',
    reason: 'matchesSearchFilter has no case for quantity: every quantity filter is false.',
    spec: `${R4}#quantity (3.1.1.4.10 quantity)`,
  },
  {
    feature: 'date prefixes eq/ne/ge/le and dates with time-zone offsets',
    applies: (q) => (q.paramType === 'date' || q.code === '_lastUpdated') && q.modifier !== 'missing',
    reason:
      'Medplum treats eq as "the ranges overlap" (spec: the search range fully contains the target range), ge as ' +
      '"target end >= search start" and le as "target start <= search end" (spec: gt/lt or eq), and compares ' +
      'instants as strings, so values with different offsets (+10:00 vs Z) are ordered wrongly.',
    spec: `${R4}#prefix (3.1.1.4 prefixes) and #date (3.1.1.4.7 date)`,
  },
  {
    feature: 'token :text',
    applies: (q) => q.paramType === 'token' && q.modifier === 'text',
    reason:
      'Medplum parses :text but ignores the operator and matches the value as a code; the spec searches the ' +
      'text associated with the code (CodeableConcept.text, Coding.display, Identifier.type.text) as a string.',
    spec: `${R4}#modifiers (3.1.1.5.6 :text)`,
  },
  {
    feature: 'token |code (explicitly no system)',
    applies: (q) => q.paramType === 'token' && !q.modifier && /=\|/.test(q.query),
    reason:
      'Medplum also indexes CodeableConcept.text (lower-cased) as a token without a system, so `priority=|normal` ' +
      'matches every Claim whose priority.text is "Normal" although its coding has a system; `|code` must match ' +
      'only codes that have no system.',
    spec: `${R4}#token (3.1.1.4.9, [parameter]=|[code])`,
  },
  {
    feature: 'reference by bare id, :[type] modifier and :identifier',
    applies: (q) =>
      q.paramType === 'reference' &&
      (q.modifier === 'identifier' || (q.modifier !== 'missing' && !/=[A-Z][A-Za-z]+\//.test(q.query))),
    reason:
      'Medplum compares the filter with the literal Reference.reference strings, so `subject=123` and ' +
      '`subject:Patient=123` never match `Patient/123`, and :identifier is compared with Reference.reference ' +
      'instead of Reference.identifier.',
    spec: `${R4}#reference (3.1.1.4.12 reference, :identifier in 3.1.1.5.9)`,
  },
];

export function exceptionFor(q: QueryCase): OracleException | undefined {
  return ORACLE_EXCEPTIONS.find((e) => e.applies(q));
}

/**
 * Disagreements between the server and the oracle that are not server departures from the spec: the oracle's
 * FHIRPath or the example data make the expected set wrong. Matched against `Type?query` strings.
 */
export interface Dispute {
  pattern: RegExp;
  /** When set, the dispute covers a mismatch only if every differing id is one of these. */
  ids?: (id: string) => boolean;
  reason: string;
  spec: string;
}

const R4_EXAMPLE_ID = (id: string): boolean => !/^[0-9a-f]{8}-[0-9a-f]{4}-/.test(id);

export const DISPUTED: Dispute[] = [
  {
    pattern: /:missing=(true|false)$/,
    ids: R4_EXAMPLE_ID,
    reason:
      'Medplum counts any node its FHIRPath returns as a value: display-only references, references to contained ' +
      'resources (#id), CodeableConcepts under `as Reference`, and strings under `as dateTime`. The spec asks ' +
      'whether the resource has a value FOR THE PARAMETER (of its type). Limited to R4 examples (generated data ' +
      'has none of these shapes). References to contained resources are a server departure, not listed here.',
    spec: `${R4}#modifiers (3.1.1.5.1 :missing)`,
  },
  {
    pattern: /^Condition\?(onset|abatement)-(info|string|age)[:=]/,
    reason:
      'Medplum evaluates `Condition.onset.as(string)` and `.as(Age)` to the other choices too (dateTime, string); ' +
      'FHIRPath as() is an exact type test, so only onsetString is a value of onset-info, onsetAge of onset-age.',
    spec: 'https://hl7.org/fhirpath/N1/#as-type-specifier and https://hl7.org/fhir/R4/condition.html#search',
  },
  {
    pattern: /\?(email|phone|telecom)(:not)?=/,
    reason:
      'Medplum indexes ContactPoint.system as the token system and lower-cases ContactPoint.value (so the query ' +
      'built from it is lower case); R4 gives ContactPoint no token system and token matching is case-sensitive ' +
      'unless the code system says otherwise (an e-mail address has no such rule).',
    spec: `${R4}#token (3.1.1.4.9, table of data types: ContactPoint)`,
  },
  {
    pattern: /^Observation\?(combo-|component-)?value-quantity=/,
    ids: (id) => id === 'f205',
    reason:
      'Observation f205 has valueQuantity {value: 60, comparator: ">"}; R4 search does not say how a comparator ' +
      'takes part in matching. The server reads ">60" as the range (60, +inf), consistent with the range rules of ' +
      'search.html#prefix; the spec evaluator compares the bare value 60. Only queries that f205 decides differ.',
    spec: `${R4}#quantity and https://hl7.org/fhir/R4/datatypes.html#Quantity (comparator)`,
  },
  {
    pattern: /^Observation\?performer[:=]/,
    ids: (id) => id === 'clinical-gender',
    reason:
      'The example clinical-gender has performer "Encounter/example"; Encounter is not among the R4 targets of ' +
      'Observation.performer (and of the performer parameter), so a server may leave it out of the index.',
    spec: 'https://hl7.org/fhir/R4/observation.html#search (performer: Reference(Practitioner | ... | RelatedPerson))',
  },
  {
    pattern: /^MedicationRequest\?intended-dispenser/,
    ids: (id) => id === 'medrx0301',
    reason:
      'The example medrx0301 points dispenseRequest.performer at a Practitioner, but the R4 parameter ' +
      'intended-dispenser targets Organization only; a server may ignore references outside the target list.',
    spec: 'https://hl7.org/fhir/R4/medicationrequest.html#search (intended-dispenser: Reference(Organization))',
  },
];

/** The dispute that explains a mismatch of `query` (`Type?params`) on the `differing` ids, if any. */
export function disputeFor(query: string, differing: string[]): Dispute | undefined {
  return DISPUTED.find((d) => d.pattern.test(query) && (!d.ids || differing.every(d.ids)));
}
