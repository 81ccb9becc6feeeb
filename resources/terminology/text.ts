// Text folding for terminology typeahead: lower case, accents removed, punctuation to single spaces, so that
// "Hémoglobine A1c" is found by "hemoglobine a1" and the folded words can be matched by prefix.
const COMBINING_MARKS = /\p{M}/gu;
const SEPARATORS = /[\p{P}\p{S}\p{Z}\p{C}\s]+/gu;

export function foldText(value: string): string {
  return value.toLowerCase().normalize('NFKD').replace(COMBINING_MARKS, '').replace(SEPARATORS, ' ').trim();
}

/** The folded words of a text behind a leading space: `' word1 word2'`, so `includes(' ' + prefix)` is a word-prefix test. */
export function searchableText(value: string | undefined): string {
  return value ? ` ${foldText(value)}` : '';
}
