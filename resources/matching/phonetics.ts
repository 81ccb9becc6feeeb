// NYSIIS (New York State Identification and Intelligence System) phonetic code of a name, so that names which
// sound alike compare equal: "Smith"/"Smyth", "Katherine"/"Catherine", "Macdonald"/"McDonald". Two common
// modifications: no truncation to six letters, and Y after the first letter counts as a vowel.

const FIRST_LETTERS: [RegExp, string][] = [
  [/^MAC/, 'MCC'],
  [/^KN/, 'NN'],
  [/^K/, 'C'],
  [/^(PH|PF)/, 'FF'],
  [/^SCH/, 'SSS'],
];
const LAST_LETTERS: [RegExp, string][] = [
  [/(EE|IE)$/, 'Y'],
  [/(DT|RT|RD|NT|ND)$/, 'D'],
];
const VOWELS = new Set(['A', 'E', 'I', 'O', 'U', 'Y']);
/** Letters always replaced, whatever surrounds them. */
const SIMPLE: Record<string, string> = { Q: 'G', Z: 'S', M: 'N', K: 'C' };

/** The NYSIIS code of a name; '' when it has no letters A-Z. */
export function nysiis(name: string): string {
  let word = name.toUpperCase().replace(/[^A-Z]/g, '');
  if (word === '') return '';
  for (const [pattern, replacement] of FIRST_LETTERS) word = word.replace(pattern, replacement);
  for (const [pattern, replacement] of LAST_LETTERS) word = word.replace(pattern, replacement);
  const letters = word.split('');
  let key = letters[0];
  for (let i = 1; i < letters.length; i++) {
    const translated = translate(letters, i);
    // A translation may cover several letters (SCH, PH): they are written back so later letters see them.
    letters.splice(i, translated.length, ...translated);
    if (translated[0] !== key[key.length - 1]) key += translated[0];
  }
  return finish(key);
}

/** The translation of the letters at position i (one or more letters, the same number as replaced). */
function translate(letters: string[], i: number): string[] {
  const letter = letters[i];
  const next = letters[i + 1];
  if (letter === 'E' && next === 'V') return ['A', 'F'];
  if (VOWELS.has(letter)) return ['A'];
  if (letter === 'K' && next === 'N') return ['N'];
  if (letter in SIMPLE) return [SIMPLE[letter]];
  if (letter === 'S' && next === 'C' && letters[i + 2] === 'H') return ['S', 'S', 'S'];
  if (letter === 'P' && next === 'H') return ['F', 'F'];
  const previous = letters[i - 1];
  if (letter === 'H' && (!VOWELS.has(previous) || (next !== undefined && !VOWELS.has(next)))) return [previous];
  if (letter === 'W' && VOWELS.has(previous)) return [previous];
  return [letter];
}

function finish(key: string): string {
  let result = key;
  if (result.length > 1 && result.endsWith('S')) result = result.slice(0, -1);
  if (result.endsWith('AY')) result = `${result.slice(0, -2)}Y`;
  if (result.length > 1 && result.endsWith('A')) result = result.slice(0, -1);
  return result;
}
