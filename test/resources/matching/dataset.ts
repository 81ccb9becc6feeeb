// A labelled record-linkage test set, generated deterministically from the benchmark generator's patients:
// duplicates of stored patients corrupted as registration desks corrupt them (typos, nicknames, swapped day
// and month, a year off, a move, a new phone), and near-misses that are other people (twins, a junior living
// with the parent, a namesake). Each probe says which stored patient it truly is, if any.
import type { Patient } from '@medplum/fhirtypes';
import { generatePatientRecords } from '../../bench/generator';
import { Random } from '../../bench/random';
import { FEMALE_GIVEN, MALE_GIVEN } from '../../bench/tables';

export type DuplicateKind =
  | 'exact-copy'
  | 'typo-given'
  | 'typo-family'
  | 'nickname'
  | 'swapped-date'
  | 'year-off'
  | 'moved'
  | 'new-phone'
  | 'sparse';
export type NearMissKind = 'twin' | 'junior' | 'namesake';

export interface Probe {
  /** The corruptions applied (`typo-given+moved`), or the kind of near-miss. */
  kind: string;
  patient: Patient;
  /** The id of the stored patient this is a record of; undefined for a near-miss (nobody stored). */
  truth?: string;
}

export interface MatchDataset {
  stored: Patient[];
  probes: Probe[];
}

const CORRUPTIONS: Record<DuplicateKind, (p: Patient, rng: Random) => Patient> = {
  'exact-copy': (p) => p,
  'typo-given': (p, rng) => withName(p, { given: [typo(given(p), rng), ...(name(p).given ?? []).slice(1)] }),
  'typo-family': (p, rng) => withName(p, { family: typo(name(p).family as string, rng) }),
  nickname: (p) => withName(p, { given: [NICKNAMES[given(p)] ?? given(p)] }),
  'swapped-date': (p) => ({ ...p, birthDate: swapDayMonth(p.birthDate as string) }),
  'year-off': (p, rng) => ({ ...p, birthDate: shiftYear(p.birthDate as string, rng.chance(0.5) ? 1 : -1) }),
  moved: (p, rng) => ({ ...p, address: [newAddress(rng)], telecom: [newPhone(rng)] }),
  'new-phone': (p, rng) => ({ ...p, telecom: [newPhone(rng)] }),
  sparse: (p) => ({ ...p, telecom: undefined, address: undefined }),
};
const DUPLICATE_KINDS = Object.keys(CORRUPTIONS) as DuplicateKind[];

const NEAR_MISSES: Record<NearMissKind, (p: Patient, rng: Random) => Patient> = {
  twin: (p, rng) => {
    const gender = rng.chance(0.5) ? p.gender : p.gender === 'male' ? 'female' : 'male';
    const names = (gender === 'female' ? FEMALE_GIVEN : MALE_GIVEN).filter((g) => g !== given(p));
    const email = p.telecom?.filter((t) => t.system !== 'email');
    return { ...withName(p, { given: [rng.pick(names)] }), gender, telecom: email };
  },
  junior: (p, rng) => ({
    ...withName(p, { suffix: ['Jr'] }),
    birthDate: shiftYear(p.birthDate as string, -rng.int(20, 35)),
  }),
  namesake: (p, rng) => ({
    ...p,
    birthDate: shiftYear(p.birthDate as string, rng.int(1, 30) * (rng.chance(0.5) ? 1 : -1)),
    address: [newAddress(rng)],
    telecom: [newPhone(rng)],
  }),
};

const NICKNAMES: Record<string, string> = {
  William: 'Bill',
  Robert: 'Bob',
  Richard: 'Rick',
  James: 'Jim',
  John: 'Jack',
  Joseph: 'Joe',
  Thomas: 'Tom',
  Charles: 'Charlie',
  Daniel: 'Dan',
  Matthew: 'Matt',
  Anthony: 'Tony',
  Michael: 'Mike',
  David: 'Dave',
  Steven: 'Steve',
  Andrew: 'Andy',
  Elizabeth: 'Liz',
  Patricia: 'Patty',
  Jennifer: 'Jenny',
  Margaret: 'Peggy',
  Susan: 'Sue',
  Barbara: 'Barb',
  Jessica: 'Jess',
  Sandra: 'Sandy',
};

/**
 * `storedCount` patients to store; `duplicates` probes that are corrupted copies of stored ones (one or two
 * corruptions each, and a new record number as a second registration gets), `nearMisses` probes of others.
 */
export function matchDataset(seed: number, storedCount: number, duplicates: number, nearMisses: number): MatchDataset {
  const stored = [...generatePatientRecords(seed, storedCount)].map((r) => r.patient);
  const rng = new Random(seed ^ 0x5eed);
  const probes: Probe[] = [];
  for (let i = 0; i < duplicates; i++) {
    const original = rng.pick(stored);
    const kinds = rng.chance(0.3) ? rng.sample(DUPLICATE_KINDS, 2) : [rng.pick(DUPLICATE_KINDS)];
    const corrupted = kinds.reduce((p, kind) => CORRUPTIONS[kind](p, rng), asNewRegistration(original, rng));
    probes.push({ kind: kinds.join('+'), patient: corrupted, truth: original.id });
  }
  const nearMissKinds = Object.keys(NEAR_MISSES) as NearMissKind[];
  for (let i = 0; i < nearMisses; i++) {
    const kind = nearMissKinds[i % nearMissKinds.length];
    probes.push({ kind, patient: NEAR_MISSES[kind](asNewRegistration(rng.pick(stored), rng), rng) });
  }
  return { stored, probes };
}

/** The same person registered again: no id, another record number. */
function asNewRegistration(patient: Patient, rng: Random): Patient {
  const { id: _id, ...rest } = patient;
  const identifier = (patient.identifier ?? []).map((i) => ({ ...i, value: `D${rng.digits(8)}` }));
  return { ...rest, identifier };
}

const name = (p: Patient) => p.name?.[0] ?? {};
const given = (p: Patient) => name(p).given?.[0] as string;

function withName(p: Patient, changes: Record<string, unknown>): Patient {
  return { ...p, name: [{ ...name(p), ...changes }] };
}

/** One slip: two adjacent letters swapped, or one letter replaced, dropped or doubled. */
function typo(value: string, rng: Random): string {
  const i = rng.int(1, value.length - 2);
  const slips = [
    () => value.slice(0, i) + value[i + 1] + value[i] + value.slice(i + 2),
    () => value.slice(0, i) + rng.pick([...'aeioulnrst'].filter((c) => c !== value[i])) + value.slice(i + 1),
    () => value.slice(0, i) + value.slice(i + 1),
    () => value.slice(0, i) + value[i] + value.slice(i),
  ];
  return rng.pick(slips)();
}

function swapDayMonth(date: string): string {
  const [year, month, day] = date.split('-');
  return Number(day) <= 12 && day !== month ? `${year}-${day}-${month}` : shiftYear(date, 1);
}

function shiftYear(date: string, years: number): string {
  const [year, month, day] = date.split('-');
  const safeDay = month === '02' && day === '29' ? '28' : day;
  return `${Number(year) + years}-${month}-${safeDay}`;
}

function newAddress(rng: Random): NonNullable<Patient['address']>[number] {
  return {
    use: 'home',
    line: [`${rng.int(1, 9999)} ${rng.pick(['Beacon St', 'Harbor Rd', 'Summit Ave', 'Willow Way'])}`],
    city: 'Quincy',
    state: 'MA',
    postalCode: `021${rng.digits(2)}`,
    country: 'US',
  };
}

function newPhone(rng: Random): NonNullable<Patient['telecom']>[number] {
  return { system: 'phone', value: `(774) 555-${rng.digits(4)}`, use: 'mobile' };
}
