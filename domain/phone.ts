/**
 * Phone numbers: normalization to E.164 with the destination country, and masking for logs.
 * Uses libphonenumber-js with its full (`max`) metadata so validity is checked per number range,
 * not only by length.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { getCountries, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/** Result of {@link normalizePhone}. `country` is ISO 3166-1 alpha-2 (`US`, `GB`, `DE`). */
export type NormalizedPhone =
  | { readonly ok: true; readonly e164: string; readonly country: string }
  | { readonly ok: false; readonly reason: string };

/** Longest input we try to parse; anything longer is not a phone number. */
const MAX_INPUT_LENGTH = 64;

/**
 * Characters a dialled number may be written with: digits, one leading `+`, spaces, dashes, dots,
 * slashes and parentheses. Stricter than libphonenumber, which would find a number inside any text.
 */
const DIALLABLE = /^\+?[\d\s().\-/]+$/;

/**
 * Normalizes a destination number to E.164 and finds its country.
 *
 * The input must be international (leading `+`), unless `defaultCountry` is given: then national
 * formats and that country's international prefix (`00…` in most of Europe, `011…` in North
 * America) are accepted too. The number must be valid for its range (libphonenumber's `isValid()`),
 * belong to a country (non-geographic `+800`-style numbers are rejected), and carry no extension.
 *
 * @param input - what the client sent, e.g. `+1 (415) 555-0100`.
 * @param defaultCountry - ISO alpha-2 country for numbers written without `+` (case-insensitive).
 *   Default: none, so such numbers are rejected.
 */
export function normalizePhone(input: string, defaultCountry?: string): NormalizedPhone {
  if (typeof input !== 'string') return fail('phone number must be a string');
  const text = input.trim();
  if (text === '') return fail('phone number is empty');
  if (text.length > MAX_INPUT_LENGTH) return fail('phone number is too long');
  if (!DIALLABLE.test(text)) {
    return fail('phone number may only contain digits, a leading "+", spaces, "-", ".", "/" and parentheses');
  }

  let country: CountryCode | undefined;
  if (defaultCountry !== undefined) {
    const upper = defaultCountry.toUpperCase();
    if (!isSupportedCountry(upper)) return fail(`unknown default country "${defaultCountry}"`);
    country = upper;
  } else if (!text.startsWith('+')) {
    return fail('phone number must be in international format with a leading "+" (E.164)');
  }

  const parsed = parsePhoneNumberFromString(
    text,
    country === undefined ? undefined : { defaultCountry: country },
  );
  if (!parsed) return fail('not a phone number');
  if (parsed.ext) return fail('phone numbers with an extension cannot receive SMS');
  if (!parsed.isValid()) return fail(`${maskPhone(parsed.number)} is not a valid phone number`);
  if (!parsed.country) return fail('non-geographic numbers are not supported');
  return { ok: true, e164: parsed.number, country: parsed.country };
}

/**
 * True for an uppercase ISO 3166-1 alpha-2 code of a country that has phone numbers (in
 * libphonenumber's metadata): exactly the codes {@link normalizePhone} can return, so the only
 * ones a price can ever apply to.
 */
/** Every country {@link isPhoneCountry} accepts, sorted (for enums in the API document). */
export const PHONE_COUNTRIES: readonly string[] = [...getCountries()].sort();

export function isPhoneCountry(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && isSupportedCountry(code);
}

/**
 * Masks an E.164 number for logs: the country code and the next digits stay readable, the tail
 * keeps four digits (two for short numbers), and at least three digits in between become `•••`:
 * `+14155550100` → `+1415•••0100`, `+4930123456` → `+4930•••56`.
 */
export function maskPhone(e164: string): string {
  const digits = e164.replace(/\D/g, '');
  const tail = digits.length >= 11 ? 4 : digits.length > 4 ? 2 : 0;
  const head = Math.max(0, Math.min(4, digits.length - tail - 3));
  return `+${digits.slice(0, head)}•••${tail > 0 ? digits.slice(-tail) : ''}`;
}

function fail(reason: string): NormalizedPhone {
  return { ok: false, reason };
}

/** An address as Herald stores it: a phone number in E.164, anything else (a sender id) as written. */
export function storedAddress(input: string): string {
  const phone = normalizePhone(input);
  return phone.ok ? phone.e164 : input;
}
