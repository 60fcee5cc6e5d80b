import { randomBytes } from 'node:crypto';

const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

/** `length` random characters from the RFC 4648 base32 alphabet (lowercase), 5 bits each. */
export function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // 256 is a multiple of 32, so taking the low 5 bits of a uniform byte stays uniform.
  for (const byte of bytes) out += BASE32_ALPHABET[byte & 31];
  return out;
}

/** A prefixed random id, e.g. `newId('acc')` → `acc_` + 20 base32 characters (100 bits). */
export function newId(prefix: string, length = 20): string {
  return `${prefix}_${randomBase32(length)}`;
}
