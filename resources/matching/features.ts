// The parts of a Patient that record matching compares, normalized once: names as letters only, phone numbers
// as their last ten digits, street lines with the usual abbreviations folded, the birth date split up.
import type { Patient } from '@medplum/fhirtypes';
import { normalizeString } from '../search/types/string';

export interface NameFeatures {
  /** Family name, normalized (lower case letters, words separated by one space). */
  family?: string;
  /** Given names in order, normalized. */
  given: string[];
  /** Generational suffixes (jr, sr, ii ...). */
  suffix: string[];
}

export interface BirthDateFeatures {
  year: number;
  month?: number;
  day?: number;
  /** The date as written (YYYY, YYYY-MM or YYYY-MM-DD). */
  text: string;
}

export interface PatientFeatures {
  /** `system|value` (system empty when absent). */
  identifiers: { system: string; value: string }[];
  names: NameFeatures[];
  birthDate?: BirthDateFeatures;
  gender?: 'male' | 'female';
  postalCodes: string[];
  lines: string[];
  phones: string[];
  emails: string[];
}

const GENERATIONAL = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'v']);
const STREET_WORDS: Record<string, string> = {
  street: 'st',
  avenue: 'ave',
  road: 'rd',
  drive: 'dr',
  lane: 'ln',
  boulevard: 'blvd',
  court: 'ct',
  place: 'pl',
  north: 'n',
  south: 's',
  east: 'e',
  west: 'w',
  apartment: 'apt',
};
const BIRTH_DATE = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$/;

export function patientFeatures(patient: Patient): PatientFeatures {
  return {
    identifiers: (patient.identifier ?? [])
      .filter((i) => typeof i.value === 'string' && i.value.trim() !== '')
      .map((i) => ({ system: i.system ?? '', value: (i.value as string).trim() })),
    names: (patient.name ?? []).map(nameFeatures),
    birthDate: birthDateFeatures(patient.birthDate),
    gender: patient.gender === 'male' || patient.gender === 'female' ? patient.gender : undefined,
    postalCodes: unique((patient.address ?? []).map((a) => compact(a.postalCode ?? '').slice(0, 5))),
    lines: unique((patient.address ?? []).flatMap((a) => a.line ?? []).map(streetLine)),
    phones: unique(telecomValues(patient, 'phone').map((v) => v.replace(/\D/g, '').slice(-10))),
    emails: unique(telecomValues(patient, 'email').map((v) => v.trim().toLowerCase())),
  };
}

function nameFeatures(name: NonNullable<Patient['name']>[number]): NameFeatures {
  const words = (value: string | undefined) => (value ? normalizeString(value) : '');
  const suffixes = (name.suffix ?? []).map(words).filter((s) => GENERATIONAL.has(s));
  const family = words(name.family);
  return {
    ...(family ? { family } : {}),
    given: (name.given ?? []).flatMap((g) => words(g).split(' ')).filter((g) => g !== ''),
    suffix: suffixes,
  };
}

function birthDateFeatures(value: string | undefined): BirthDateFeatures | undefined {
  const parts = value ? BIRTH_DATE.exec(value) : null;
  if (!parts) return undefined;
  const [, year, month, day] = parts;
  return {
    year: Number(year),
    ...(month ? { month: Number(month) } : {}),
    ...(day ? { day: Number(day) } : {}),
    text: value as string,
  };
}

function telecomValues(patient: Patient, system: string): string[] {
  return (patient.telecom ?? []).filter((t) => t.system === system && t.value).map((t) => t.value as string);
}

function streetLine(line: string): string {
  return normalizeString(line)
    .split(' ')
    .map((word) => STREET_WORDS[word] ?? word)
    .join(' ');
}

/** Letters and digits only, lower case. */
export function compact(value: string): string {
  return normalizeString(value).replace(/ /g, '');
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter((v) => v !== ''))];
}
