// $validate-code against a code system or a value set. As R4 has it, `result` is false only when the code is
// not in the code system / value set (or is abstract where abstract codes are refused); a wrong display, an
// inactive code or a code written in another case (case-insensitive systems) keep `result` true and explain
// themselves in `message`. Codes compare exactly unless the code system declares caseSensitive false.
import type { ValueSet } from '@medplum/fhirtypes';
import { badRequest } from '../errors';
import type { CodeSystemIndex } from './code-system-index';
import type { Concept } from './concept';
import { composeValueSet, itemKey, type Composition, type ExpansionItem } from './compose';
import { foldText } from './text';
import type { TerminologySources } from './sources';

export interface CodingToValidate {
  system?: string;
  version?: string;
  code: string;
  display?: string;
}

export interface ValidationResult {
  result: boolean;
  message?: string;
  display?: string;
}

export interface ValidationOptions {
  /** False when the client said abstract codes are not valid in its context (`abstract=false`). */
  abstractAllowed: boolean;
}

export function validateInCodeSystem(
  index: CodeSystemIndex,
  codings: CodingToValidate[],
  options: ValidationOptions,
): ValidationResult {
  return anyValid(
    codings.map((coding) => {
      if (coding.system !== undefined && coding.system !== index.url) {
        return invalid(`The coding's system ${coding.system} is not the code system ${index.url}`);
      }
      const concept = index.find(coding.code);
      if (!concept)
        return invalid(`The code ${coding.code} is not in the code system ${index.url}${caseHint(index, coding.code)}`);
      return judge(coding, index.url, concept, undefined, options);
    }),
  );
}

export async function validateInValueSet(
  sources: TerminologySources,
  resolved: { key?: string; valueSet: ValueSet },
  codings: CodingToValidate[],
  options: ValidationOptions,
): Promise<ValidationResult> {
  const composition = await composeValueSet(sources, resolved);
  const url = resolved.valueSet.url ?? 'sent in the request';
  return anyValid(
    codings.map((coding) => {
      const system = coding.system ?? onlySystem(composition);
      const item = findItem(composition, system, coding.code);
      if (!item) return invalid(`The code ${system}|${coding.code} is not in the value set ${url}`);
      return judge(coding, system, item.concept, item.display, options);
    }),
  );
}

/** The verdict on a code that exists: abstract use, case, status and display. */
function judge(
  coding: CodingToValidate,
  system: string,
  concept: Concept,
  valueSetDisplay: string | undefined,
  options: ValidationOptions,
): ValidationResult {
  if (concept.abstract && !options.abstractAllowed) {
    return invalid(`The code ${system}|${concept.code} is abstract and not valid where abstract codes are refused`);
  }
  const display = valueSetDisplay ?? concept.display;
  const notes: string[] = [];
  if (coding.code !== concept.code) notes.push(`The code ${coding.code} is written ${concept.code} in ${system}`);
  if (concept.inactive) notes.push(`The code ${system}|${concept.code} is inactive`);
  const displays = [display, concept.display, ...(concept.designation ?? []).map((d) => d.value)];
  if (
    coding.display !== undefined &&
    !displays.some((d) => d !== undefined && sameDisplay(d, coding.display as string))
  ) {
    notes.push(
      `The display "${coding.display}" is not a display of ${system}|${concept.code}; it should be "${display ?? concept.code}"`,
    );
  }
  return {
    result: true,
    ...(display !== undefined ? { display } : {}),
    ...(notes.length > 0 ? { message: notes.join('; ') } : {}),
  };
}

/** Displays compare without regard to case, accents, punctuation or spacing. */
function sameDisplay(a: string, b: string): boolean {
  return foldText(a) === foldText(b);
}

/** A CodeableConcept is valid when any coding is: that coding's verdict, else every coding's reason. */
function anyValid(results: ValidationResult[]): ValidationResult {
  const valid = results.find((r) => r.result);
  if (valid) return valid;
  return invalid(results.map((r) => r.message).join('; '));
}

const invalid = (message: string): ValidationResult => ({ result: false, message });

function caseHint(index: CodeSystemIndex, code: string): string {
  if (!index.caseSensitive) return '';
  const other = index.concepts.find((c) => c.code.toLowerCase() === code.toLowerCase());
  return other ? ` (codes are case sensitive there: ${other.code} is)` : '';
}

/** A code sent without its system: allowed when the value set draws on one system only. */
function onlySystem(composition: Composition): string {
  const systems = new Set(composition.items.map((item) => item.system));
  if (systems.size !== 1) {
    throw badRequest('The code needs its system: the value set holds codes of several systems', 'system');
  }
  return [...systems][0];
}

function findItem(composition: Composition, system: string, code: string): ExpansionItem | undefined {
  composition.lookup ??= lookupOf(composition.items);
  return composition.lookup.get(itemKey(system, code)) ?? composition.lookup.get(caseInsensitiveKey(system, code));
}

const caseInsensitiveKey = (system: string, code: string) => `~${itemKey(system, code.toLowerCase())}`;

function lookupOf(items: readonly ExpansionItem[]): Map<string, ExpansionItem> {
  const lookup = new Map<string, ExpansionItem>();
  for (const item of items) {
    lookup.set(itemKey(item.system, item.concept.code), item);
    if (item.index && !item.index.caseSensitive) {
      const key = caseInsensitiveKey(item.system, item.concept.code);
      if (!lookup.has(key)) lookup.set(key, item);
    }
  }
  return lookup;
}
