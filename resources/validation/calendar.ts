// "Dates SHALL be valid dates" (R4 date, dateTime, instant): the R4 patterns bound months to 01-12, days to 01-31
// and hours to 00-23, but cannot tell that 2023-02-29 or 2024-04-31 never happened.
const YEAR_MONTH_DAY = /^(\d{4})-(\d{2})-(\d{2})/;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Gregorian leap years: every fourth year, except centuries not divisible by 400 (1900 is not, 2000 is). */
function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/**
 * False when the value names a day its month does not have. Values without a day, or of another shape, are the
 * pattern's to judge and pass here.
 */
export function calendarDateExists(value: string): boolean {
  const m = YEAR_MONTH_DAY.exec(value);
  if (!m) {
    return true;
  }
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  if (month < 1 || month > 12) {
    return true;
  }
  const days = month === 2 && isLeapYear(year) ? 29 : DAYS_IN_MONTH[month - 1];
  return day <= days;
}
