/** A digit's value at `i` of `text`, or NaN. */
function digit(text: string, i: number): number {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Date.toISOString's form (YYYY-MM-DDTHH:MM:SS.sssZ, years 100-9999) as ms since the epoch, without Date.parse's
 * general parser; NaN for anything else (which then goes to Date.parse), including a day the month does not have.
 */
function parseIsoUtc(v: string): number {
  if (v.length !== 24 || v[4] !== '-' || v[7] !== '-' || v[10] !== 'T' || v[13] !== ':' || v[16] !== ':' || v[19] !== '.' || v[23] !== 'Z') return Number.NaN;
  const n = (from: number, digits: number) => {
    let x = 0;
    for (let i = from; i < from + digits; i += 1) x = x * 10 + digit(v, i);
    return x;
  };
  const year = n(0, 4);
  const month = n(5, 2);
  const day = n(8, 2);
  const hour = n(11, 2);
  const minute = n(14, 2);
  const second = n(17, 2);
  // NaN (a non-digit) fails every comparison. Date.UTC reads years 0-99 as 1900-1999 and rolls days over.
  if (!(year >= 100 && isCalendarDay(year, month, day) && hour <= 23 && minute <= 59 && second <= 59)) return Number.NaN;
  return Date.UTC(year, month - 1, day, hour, minute, second, n(20, 3));
}

function isCalendarDay(year: number, month: number, day: number): boolean {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && !leap ? 28 : DAYS_IN_MONTH[month - 1]!);
}

/** The date an ISO 8601 time starts with, when it does: Date.parse rolls a day the month lacks over to the next month. */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})/;

/** Fractional seconds of an ISO 8601 time (the digits after the seconds' point), or ''. */
const FRACTION = /T\d{2}:\d{2}:\d{2}\.(\d+)/;

/**
 * An ISO 8601 time as microseconds since the Unix epoch, keeping up to six fractional digits: Date.toISOString's
 * form without Date.parse's general parser, any other form through it. Throws, naming `column`, for anything that
 * is not a time, including a day the month does not have (which Date.parse would roll over).
 */
export function isoTimeToMicros(value: string, column: string): number {
  if (typeof value !== 'string') throw new Error(`${column} is not a time`);
  let ms = parseIsoUtc(value);
  let extraMicros = 0;
  if (Number.isNaN(ms)) {
    ms = Date.parse(value);
    const date = ISO_DATE.exec(value);
    if (!Number.isFinite(ms) || (date && !isCalendarDay(Number(date[1]), Number(date[2]), Number(date[3])))) throw new Error(`${column} is not a time`);
    extraMicros = Number(`${FRACTION.exec(value)?.[1] ?? ''}000000`.slice(3, 6));
  }
  return ms * 1000 + extraMicros;
}
