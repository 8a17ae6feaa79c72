// The one reader of the timestamp form Keplars sends: validation accepts it without the `validator`
// package's ISO 8601 pattern, and normalisation reads it without `Date`'s general parser.

/**
 * The time of a date in the form Keplars sends, `2025-06-15T14:23:01.123Z` (one to nine fraction
 * digits, or none; an offset such as `+02:00` for `Z`), exactly as `new Date(value)` reads it (a day past
 * the month's end rolls over; digits past milliseconds are dropped), without its general parser.
 * NaN for any other form, which `Date` then reads itself (years before 100 included: `Date.UTC`
 * would read 0099 as 1999). Every form it reads is also valid ISO 8601 to the `validator` package
 * (`@IsISO8601()`).
 */
export function plainIsoTime(value: string): number {
  return readPlainIso(value, true);
}

/** Whether the value is in the form {@link plainIsoTime} reads (validation needs no time: `Date.UTC` is most of the cost). */
export function isPlainIsoDate(value: string): boolean {
  return !Number.isNaN(readPlainIso(value, false));
}

/** The time the value spells (0 when `time` is false), or NaN if it is not in the plain form. */
function readPlainIso(value: string, time: boolean): number {
  const length = value.length;
  if (length < 20 || value.charCodeAt(4) !== DASH || value.charCodeAt(7) !== DASH || value.charCodeAt(10) !== LETTER_T || value.charCodeAt(13) !== COLON || value.charCodeAt(16) !== COLON) {
    return Number.NaN;
  }
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  // A comparison with NaN (a character that is not a digit) is false.
  if (!(year >= 100 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 59)) return Number.NaN;
  let at = 19;
  let milliseconds = 0;
  if (value.charCodeAt(at) === DOT) {
    const first = ++at;
    for (let scale = 100; at < length; at++, scale /= 10) {
      const digit = value.charCodeAt(at) - ZERO;
      if (digit < 0 || digit > 9) break;
      if (scale >= 1) milliseconds += digit * scale;
    }
    // Past nine digits, V8's own reading of the fraction is not the digits' value (it read 0007000000 as 7 ms).
    if (at === first || at - first > 9) return Number.NaN;
  }
  let offsetMinutes = 0;
  const zone = value.charCodeAt(at);
  if (zone === PLUS || zone === DASH) {
    if (at + 6 !== length || value.charCodeAt(at + 3) !== COLON) return Number.NaN;
    const hours = digitsAt(value, at + 1, 2);
    const minutes = digitsAt(value, at + 4, 2);
    if (!(hours <= 23 && minutes <= 59)) return Number.NaN;
    offsetMinutes = (zone === PLUS ? 1 : -1) * (hours * 60 + minutes);
  } else if (zone !== LETTER_Z || at + 1 !== length) {
    return Number.NaN;
  }
  return time ? Date.UTC(year, month - 1, day, hour, minute, second, milliseconds) - offsetMinutes * 60_000 : 0;
}

const ZERO = 48;
const DASH = 45;
const PLUS = 43;
const DOT = 46;
const COLON = 58;
const LETTER_T = 84;
const LETTER_Z = 90;

/** The number `count` decimal digits at `at` spell, or NaN if one is not a digit. */
function digitsAt(value: string, at: number, count: number): number {
  let number = 0;
  for (let end = at + count; at < end; at++) {
    const digit = value.charCodeAt(at) - ZERO;
    if (!(digit >= 0 && digit <= 9)) return Number.NaN;
    number = number * 10 + digit;
  }
  return number;
}
