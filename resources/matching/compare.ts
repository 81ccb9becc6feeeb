// Field-by-field comparison of two patients' features: each field the two records both have gets an agreement
// level (weights.ts); the name pair compared is the one of their names that agrees best.
import type { BirthDateFeatures, NameFeatures, PatientFeatures } from './features';
import { areNicknames } from './nicknames';
import { nysiis } from './phonetics';
import { editDistance, jaroWinkler } from './similarity';
import { comparison, type FieldComparison, type FieldLevel } from './weights';

/** Every comparable field of the two patients, in a fixed order. */
export function comparePatients(query: PatientFeatures, candidate: PatientFeatures): FieldComparison[] {
  return withSexedGivenNames(
    [
      compareIdentifiers(query, candidate),
      ...compareNames(query.names, candidate.names),
      compareBirthDates(query.birthDate, candidate.birthDate),
      query.gender && candidate.gender
        ? comparison('gender', query.gender === candidate.gender ? 'agree' : 'disagree')
        : undefined,
      anyEqual('postalCode', query.postalCodes, candidate.postalCodes),
      compareLines(query.lines, candidate.lines),
      anyEqual('phone', query.phones, candidate.phones),
      anyEqual('email', query.emails, candidate.emails),
    ].filter((c): c is FieldComparison => c !== undefined),
  );
}

/**
 * Given names only alike ("John" and "Joan", "Carol" and "Carlos") on records of different sexes are two
 * people's names, as with opposite-sex twins: the given name then disagrees.
 */
function withSexedGivenNames(comparisons: FieldComparison[]): FieldComparison[] {
  const gender = comparisons.find((c) => c.field === 'gender');
  if (gender?.level !== 'disagree') return comparisons;
  const alikeOnly = new Set(['phonetic', 'fuzzy', 'initial']);
  return comparisons.map((c) => (c.field === 'given' && alikeOnly.has(c.level) ? comparison('given', 'disagree') : c));
}

function compareIdentifiers(query: PatientFeatures, candidate: PatientFeatures): FieldComparison | undefined {
  const same = (a: { system: string }, b: { system: string }) => a.system === b.system || !a.system || !b.system;
  const shared = query.identifiers.flatMap((q) => candidate.identifiers.filter((c) => same(q, c)).map((c) => [q, c]));
  if (shared.length === 0) return undefined;
  return comparison('identifier', shared.some(([q, c]) => q.value === c.value) ? 'agree' : 'disagree');
}

function compareNames(query: NameFeatures[], candidate: NameFeatures[]): FieldComparison[] {
  let best: FieldComparison[] = [];
  let bestWeight = -Infinity;
  for (const q of query) {
    for (const c of candidate) {
      const found = compareName(q, c);
      const weight = found.reduce((sum, f) => sum + f.weight, 0);
      if (found.length > 0 && weight > bestWeight) [best, bestWeight] = [found, weight];
    }
  }
  return best;
}

function compareName(query: NameFeatures, candidate: NameFeatures): FieldComparison[] {
  const family = query.family && candidate.family ? familyLevel(query.family, candidate.family) : undefined;
  const given = query.given.length && candidate.given.length ? givenLevel(query.given, candidate.given) : undefined;
  const suffix =
    query.suffix.length && candidate.suffix.length
      ? query.suffix.some((s) => candidate.suffix.includes(s))
        ? 'agree'
        : 'disagree'
      : undefined;
  return [
    family && comparison('family', family),
    given && comparison('given', given),
    suffix && comparison('suffix', suffix),
  ].filter((c): c is FieldComparison => Boolean(c));
}

/** Names typed with one slip ("Jonhson") or a few letters apart in a long name count as the same name. */
function isTypo(a: string, b: string): boolean {
  return (Math.min(a.length, b.length) >= 4 && editDistance(a, b) <= 1) || jaroWinkler(a, b) >= 0.93;
}

function familyLevel(query: string, candidate: string): FieldLevel<'family'> {
  const [q, c] = [query.replace(/ /g, ''), candidate.replace(/ /g, '')];
  if (q === c) return 'exact';
  if (nysiis(q) === nysiis(c)) return 'phonetic';
  // A double-barrelled name registered by one of its parts ("Garcia Lopez" and "Garcia").
  const shared = query.split(' ').some((word) => word.length > 1 && candidate.split(' ').includes(word));
  return shared || isTypo(q, c) ? 'fuzzy' : 'disagree';
}

function givenLevel(query: string[], candidate: string[]): FieldLevel<'given'> {
  const [q, c] = [query[0], candidate[0]];
  if (q === c) return 'exact';
  if (areNicknames(q, c)) return 'nickname';
  if (q.length === 1 || c.length === 1) return q[0] === c[0] ? 'initial' : 'disagree';
  if (nysiis(q) === nysiis(c)) return 'phonetic';
  if (isTypo(q, c)) return 'fuzzy';
  // First and middle names swapped, or the middle name used as the first.
  return candidate.slice(1).includes(q) || query.slice(1).includes(c) ? 'fuzzy' : 'disagree';
}

function compareBirthDates(
  query: BirthDateFeatures | undefined,
  candidate: BirthDateFeatures | undefined,
): FieldComparison | undefined {
  if (!query || !candidate) return undefined;
  return comparison('birthDate', birthDateLevel(query, candidate));
}

function birthDateLevel(q: BirthDateFeatures, c: BirthDateFeatures): FieldLevel<'birthDate'> {
  if (q.day === undefined || c.day === undefined) return q.year === c.year ? 'year' : 'disagree';
  if (q.text === c.text) return 'exact';
  if (q.year === c.year && q.month === c.day && q.day === c.month) return 'swapped';
  const sameMonthDay = q.month === c.month && q.day === c.day;
  if (sameMonthDay) return Math.abs(q.year - c.year) === 1 ? 'near' : 'disagree';
  // One mistyped digit of the month or day (03-12 for 08-12); a year typed wrong is another generation.
  const [qMonthDay, cMonthDay] = [q.text.slice(5), c.text.slice(5)];
  const slips = [...qMonthDay].filter((ch, i) => ch !== cMonthDay[i]).length;
  return q.year === c.year && slips === 1 ? 'near' : 'disagree';
}

function anyEqual(field: 'postalCode' | 'phone' | 'email', query: string[], candidate: string[]) {
  if (query.length === 0 || candidate.length === 0) return undefined;
  return comparison(field, query.some((v) => candidate.includes(v)) ? 'agree' : 'disagree');
}

function compareLines(query: string[], candidate: string[]): FieldComparison | undefined {
  if (query.length === 0 || candidate.length === 0) return undefined;
  if (query.some((line) => candidate.includes(line))) return comparison('addressLine', 'exact');
  const close = query.some((q) => candidate.some((c) => isSameAddressTypo(q, c)));
  return comparison('addressLine', close ? 'fuzzy' : 'disagree');
}

/** The same house number on a street spelt a little differently; a neighbour's number is another address. */
function isSameAddressTypo(query: string, candidate: string): boolean {
  const [qNumber, ...qStreet] = query.split(' ');
  const [cNumber, ...cStreet] = candidate.split(' ');
  return qNumber === cNumber && editDistance(qStreet.join(' '), cStreet.join(' ')) <= 2;
}
