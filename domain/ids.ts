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
export const INBOUND_ID_PREFIX = 'inb_';

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

/**
 * The id of an inbound message: a hash of the carrier and the carrier's id, so a carrier's
 * redelivery (and the workflow that handles it) has the same id.
 */
export function inboundMessageId(carrierId: string, carrierMessageId: string): string {
  const digest = sha256(utf8Encode(`herald:inbound:v1:${carrierId.length}:${carrierId}:${carrierMessageId}`));
  return INBOUND_ID_PREFIX + base32(digest);
}

/** The id of the message that answers an inbound keyword (STOP, START, HELP): one per inbound message. */
export function inboundReplyMessageId(inboundId: string): string {
  return MESSAGE_ID_PREFIX + base32(sha256(utf8Encode(`herald:inbound-reply:v1:${inboundId}`)));
}

/**
 * The Twilio-style sid of one of our ids (`SM` + 32 hex, the pattern Twilio's SDKs expect): the
 * first 128 of the id's 130 bits. Random message ids (whose last two bits are zero) map back
 * exactly; see {@link messageIdsOfTwilioSid}.
 */
export function twilioSid(id: string): string {
  const bits = base32Bits(id.slice(id.indexOf('_') + 1));
  let hex = '';
  for (let i = 0; i < 128; i += 4) hex += Number.parseInt(bits.slice(i, i + 4), 2).toString(16);
  return `SM${hex}`;
}

/**
 * The message ids a Twilio-style sid can stand for: the four values of the two bits the sid
 * leaves out (a hashed id, made from an Idempotency-Key, may use them). Empty for a malformed sid.
 */
export function messageIdsOfTwilioSid(sid: string): string[] {
  if (!/^SM[0-9a-f]{32}$/.test(sid)) return [];
  let bits = '';
  for (const c of sid.slice(2)) bits += Number.parseInt(c, 16).toString(2).padStart(4, '0');
  return ['00', '01', '10', '11'].map((tail) => {
    const all = bits + tail;
    let out = '';
    for (let i = 0; i < 130; i += 5) out += ALPHABET[Number.parseInt(all.slice(i, i + 5), 2)];
    return MESSAGE_ID_PREFIX + out;
  });
}

/** The 130 bits of a 26-character base32 id body, as a string of 0 and 1. */
function base32Bits(body: string): string {
  let bits = '';
  for (const c of body) bits += Math.max(0, ALPHABET.indexOf(c)).toString(2).padStart(5, '0');
  return bits;
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
