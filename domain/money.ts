/**
 * Money as `bigint` micro-units (1n = 0.000001 of the deployment's currency). Floats never touch
 * an amount. Across JSON boundaries an amount is a decimal string with six places (`"0.007900"`);
 * this module is the only place that converts between the two (DESIGN §4).
 */

/** Micro-units in one unit of currency. */
export const MICROS_PER_UNIT = 1_000_000n;

/** Fractional digits an amount may carry; more is an error, never a silent rounding. */
export const MONEY_DECIMALS = 6;

/** Largest amount in micro-units: the PostgreSQL `bigint` maximum, where amounts are stored. */
export const MAX_MICROS = 9_223_372_036_854_775_807n;

/** Integer digits accepted before the range check (9_223_372_036_854 units fits in 13). */
const MAX_INTEGER_DIGITS = 13;

const MONEY_PATTERN = /^(-?)(\d+)(?:\.(\d+))?$/;

/** Thrown by {@link parseMoney}; the message says what was wrong with the input. */
export class MoneyParseError extends Error {
  override readonly name = 'MoneyParseError';
}

/** Options for {@link parseMoney}. */
export interface ParseMoneyOptions {
  /** Accept a leading `-`. Default `false`: prices, top-ups and balances are never negative. */
  readonly allowNegative?: boolean;
}

/**
 * Parses a plain decimal string (`"10"`, `"10.5"`, `"0.007900"`, `"-1.25"` with
 * `allowNegative`) into micro-units.
 *
 * Rejected: empty strings, spaces, a leading `+`, exponents, thousands separators, a bare `.`
 * (`"1."`, `".5"`), more than six fractional digits, negatives unless allowed, and amounts
 * outside the PostgreSQL `bigint` range.
 *
 * @throws {MoneyParseError} naming what was wrong.
 */
export function parseMoney(s: string, options: ParseMoneyOptions = {}): bigint {
  if (typeof s !== 'string') throw new MoneyParseError('amount must be a string');
  if (s === '') throw new MoneyParseError('amount is empty');
  const match = MONEY_PATTERN.exec(s);
  if (!match) {
    throw new MoneyParseError(
      `amount ${quote(s)} is not a plain decimal like "10.50" (no spaces, "+", exponent or separators)`,
    );
  }
  const [, sign = '', whole = '', fraction = ''] = match;
  if (sign === '-' && options.allowNegative !== true) {
    throw new MoneyParseError(`amount ${quote(s)} is negative; negative amounts are not allowed here`);
  }
  if (fraction.length > MONEY_DECIMALS) {
    throw new MoneyParseError(
      `amount ${quote(s)} has ${fraction.length} decimal places; at most ${MONEY_DECIMALS} are allowed`,
    );
  }
  if (whole.replace(/^0+(?=\d)/, '').length > MAX_INTEGER_DIGITS) {
    throw new MoneyParseError(`amount ${quote(s)} is out of range`);
  }
  const magnitude = BigInt(whole) * MICROS_PER_UNIT + BigInt(fraction.padEnd(MONEY_DECIMALS, '0'));
  if (magnitude > MAX_MICROS) throw new MoneyParseError(`amount ${quote(s)} is out of range`);
  return sign === '-' ? -magnitude : magnitude;
}

/** Formats micro-units as a decimal string with exactly six places: `7900n` → `"0.007900"`. */
export function formatMoney(m: bigint): string {
  const negative = m < 0n;
  const magnitude = negative ? -m : m;
  const whole = magnitude / MICROS_PER_UNIT;
  const fraction = (magnitude % MICROS_PER_UNIT).toString().padStart(MONEY_DECIMALS, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

/** True when {@link parseMoney} would accept `s` with the same options. */
export function isMoneyString(s: unknown, options: ParseMoneyOptions = {}): s is string {
  if (typeof s !== 'string') return false;
  try {
    parseMoney(s, options);
    return true;
  } catch {
    return false;
  }
}

/** Quotes user input for an error message, cut short so a huge input cannot flood logs. */
function quote(s: string): string {
  return JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s);
}
