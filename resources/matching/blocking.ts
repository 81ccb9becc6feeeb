// Candidate generation ("blocking"): a few indexed searches, each finding the records that share one cheap key
// with the query (an identifier, the birth date, the start of the names, a phone or e-mail), so that only
// those are scored. Running them through the caller's repository means its grants decide what can match.
import type { Identifier, Patient } from '@medplum/fhirtypes';
import type { SearchParamPairs } from '../search/parse';
import type { PatientFeatures } from './features';

/** Candidates per blocking search: a key shared by more records than this is too common to tell anyone apart. */
export const BLOCK_SIZE = 100;

/** The blocking searches for a patient (each one Patient search's parameters); empty when there is no key. */
export function blockingSearches(patient: Patient, features: PatientFeatures): SearchParamPairs[] {
  return [identifierBlock(patient), birthDateBlock(features), ...nameBlocks(features), telecomBlock(patient)]
    .filter((pairs): pairs is SearchParamPairs => pairs !== undefined)
    .map((pairs) => [...pairs, ['_count', String(BLOCK_SIZE)]]);
}

function identifierBlock(patient: Patient): SearchParamPairs | undefined {
  const values = (patient.identifier ?? []).filter((i) => i.value?.trim()).map(identifierSearchValue);
  return values.length ? [['identifier', values.join(',')]] : undefined;
}

/** The birth date, and the date with day and month swapped (a common slip) when that is a date too. */
function birthDateBlock(features: PatientFeatures): SearchParamPairs | undefined {
  const date = features.birthDate;
  if (!date) return undefined;
  const dates = [date.text];
  if (date.day !== undefined && date.month !== date.day && date.day <= 12) {
    dates.push(`${date.year}-${pad(date.day)}-${pad(date.month as number)}`);
  }
  return [['birthdate', dates.join(',')]];
}

/**
 * The first three letters of the family name with the first letter of the given name; and the first given
 * name within a year of the birth date, which still finds a record whose family name changed.
 */
function nameBlocks(features: PatientFeatures): SearchParamPairs[] {
  return features.names.flatMap((name) => {
    const blocks: SearchParamPairs[] = [];
    const given = name.given[0];
    if (name.family && name.family.length >= 2) {
      blocks.push([['family', name.family.slice(0, 3)], ...(given ? [['given', given[0]] as [string, string]] : [])]);
    }
    const year = features.birthDate?.year;
    if (given && given.length > 1 && year !== undefined) {
      blocks.push([
        ['given', given],
        ['birthdate', `ge${year - 1}`],
        ['birthdate', `le${year + 1}`],
      ]);
    }
    return blocks;
  });
}

function telecomBlock(patient: Patient): SearchParamPairs | undefined {
  const values = (patient.telecom ?? []).filter((t) => t.value?.trim()).map((t) => escape(t.value as string));
  return values.length ? [['telecom', values.join(',')]] : undefined;
}

/** An identifier as a token search value: `system|value`, or the value alone when it has no system. */
export function identifierSearchValue(identifier: Identifier): string {
  const value = escape(identifier.value as string);
  return identifier.system ? `${escape(identifier.system)}|${value}` : value;
}

/** Search syntax escapes `\`, `,`, `$` and `|` in values. */
function escape(value: string): string {
  return value.replace(/[\\,$|]/g, (ch) => `\\${ch}`);
}

const pad = (n: number) => String(n).padStart(2, '0');
