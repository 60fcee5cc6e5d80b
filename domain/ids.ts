/**
 * Id formats: a prefix and 26 characters of lowercase Crockford base32 (130 bits; no i, l, o, u,
 * so ids survive being read aloud or copied by hand). Random ids take their randomness from the
 * caller, and idempotent ids are a hash, so workflows (which may not use `node:crypto`) and the
 * API derive the same ids.
 */
import { sha256, utf8Encode } from './sha256.ts';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const ID_CHARS = 26;
/** Bytes of randomness a new id needs: 128 bits (the last two of the 130 encoded bits are zero). */
export const ID_RANDOM_BYTES = 16;

export const MESSAGE_ID_PREFIX = 'msg_';
export const ACCOUNT_ID_PREFIX = 'acc_';
export const VERIFICATION_ID_PREFIX = 'ver_';
export const FRAUD_BLOCK_ID_PREFIX = 'blk_';

const BODY = `[${ALPHABET}]{${ID_CHARS}}`;
const MESSAGE_ID_PATTERN = new RegExp(`^${MESSAGE_ID_PREFIX}${BODY}$`);
const ACCOUNT_ID_PATTERN = new RegExp(`^${ACCOUNT_ID_PREFIX}${BODY}$`);

/**
 * The message id for an account's `Idempotency-Key`: the same pair always gives the same id, so a
 * retried request starts (or finds) the same workflow. Inputs are length-prefixed before hashing
 * so no two different pairs share a preimage.
 */
export function messageIdFromIdempotencyKey(accountId: string, key: string): string {
  const digest = sha256(utf8Encode(`herald:message-id:v1:${accountId.length}:${accountId}:${key}`));
  return MESSAGE_ID_PREFIX + base32(digest);
}

/** A new random message id; `randomBytes` needs at least {@link ID_RANDOM_BYTES} bytes. */
export function newMessageId(randomBytes: Uint8Array): string {
  return MESSAGE_ID_PREFIX + base32(checkRandom(randomBytes));
}

/** A new random account id; `randomBytes` needs at least {@link ID_RANDOM_BYTES} bytes. */
export function newAccountId(randomBytes: Uint8Array): string {
  return ACCOUNT_ID_PREFIX + base32(checkRandom(randomBytes));
}

/** A new random verification id; `randomBytes` needs at least {@link ID_RANDOM_BYTES} bytes. */
export function newVerificationId(randomBytes: Uint8Array): string {
  return VERIFICATION_ID_PREFIX + base32(checkRandom(randomBytes));
}

/** A new random fraud-block id; `randomBytes` needs at least {@link ID_RANDOM_BYTES} bytes. */
export function newFraudBlockId(randomBytes: Uint8Array): string {
  return FRAUD_BLOCK_ID_PREFIX + base32(checkRandom(randomBytes));
}

/** The id of a verification's `send`-th message (1-based): the same pair always gives the same id. */
export function verificationMessageId(verificationId: string, send: number): string {
  const digest = sha256(utf8Encode(`herald:verification-message:v1:${verificationId}:${send}`));
  return MESSAGE_ID_PREFIX + base32(digest);
}

/** True for a well-formed message id (`msg_` + 26 base32 characters). */
export function isMessageId(s: string): boolean {
  return MESSAGE_ID_PATTERN.test(s);
}

/** True for a well-formed account id (`acc_` + 26 base32 characters). */
export function isAccountId(s: string): boolean {
  return ACCOUNT_ID_PATTERN.test(s);
}

function checkRandom(bytes: Uint8Array): Uint8Array {
  if (bytes.length < ID_RANDOM_BYTES) {
    throw new RangeError(`an id needs at least ${ID_RANDOM_BYTES} random bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** The first 130 bits of `bytes` as 26 base32 characters, zero-padded when `bytes` is shorter. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  let index = 0;
  while (out.length < ID_CHARS) {
    if (bits < 5) {
      buffer = ((buffer << 8) | (bytes[index] ?? 0)) & 0xfff;
      index++;
      bits += 8;
    }
    bits -= 5;
    out += ALPHABET[(buffer >> bits) & 31];
  }
  return out;
}
