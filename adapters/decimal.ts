/**
 * Carrier price strings ↔ micro-units. Local to adapters on purpose: carriers quote with their own
 * precision (Twilio "-0.00790", Vonage "0.03330000"), and we only need the exact integer part of
 * that at six places. Never goes through a float.
 */

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d{1,12}))?$/;

/**
 * Parses a decimal string into micro-units (1 = 0.000001), truncating digits past the sixth
 * place toward zero. Undefined when the text is not a plain decimal (no exponent, no grouping).
 */
export function parseDecimalMicros(text: string): bigint | undefined {
  const m = DECIMAL.exec(text.trim());
  if (!m) return undefined;
  const [, sign, whole = '0', frac = ''] = m;
  const micros = BigInt(whole) * 1_000_000n + BigInt(frac.slice(0, 6).padEnd(6, '0'));
  return sign === '-' ? -micros : micros;
}

/** Formats micro-units with `places` decimals (padding with zeros, truncating beyond six). */
export function formatDecimalMicros(micros: bigint, places: number): string {
  const negative = micros < 0n;
  const abs = negative ? -micros : micros;
  const whole = abs / 1_000_000n;
  const frac = (abs % 1_000_000n).toString().padStart(6, '0');
  const fracOut = places <= 6 ? frac.slice(0, places) : frac.padEnd(places, '0');
  return `${negative ? '-' : ''}${whole}${places > 0 ? `.${fracOut}` : ''}`;
}
