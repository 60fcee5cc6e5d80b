/**
 * SMSC message ids, normalized. The same message comes back in different spellings: hex in
 * `submit_sm_resp` but decimal in the receipt text (Jasmin `dlr_msg_id_bases`, Kannel
 * `msg-id-type`), upper or lower case, with or without leading zeros. Every id Herald stores or
 * compares goes through {@link normalizeSmppId} first, so one message has one spelling.
 */

/**
 * How a carrier writes an id: `hex` and `decimal` are numbers in that base; `opaque` is any
 * other token (compared case-insensitively, leading zeros kept).
 */
export type SmppIdBase = 'hex' | 'decimal' | 'opaque';

export const SMPP_ID_BASES = ['hex', 'decimal', 'opaque'] as const;

const HEX = /^[0-9a-f]+$/i;
const DECIMAL = /^[0-9]+$/;

/**
 * The canonical form of an id written in `base`: a number in either base becomes lowercase hex
 * without leading zeros (`"000A1F"` hex and `"2591"` decimal are both `"a1f"`); an id that does
 * not parse in its declared base, or an `opaque` one, is trimmed and lower-cased.
 */
export function normalizeSmppId(raw: string, base: SmppIdBase): string {
  const id = raw.trim();
  if (base === 'hex' && HEX.test(id)) return BigInt(`0x${id}`).toString(16);
  if (base === 'decimal' && DECIMAL.test(id)) return BigInt(id).toString(16);
  return id.toLowerCase();
}

/** True when two ids, each in its own base, name the same message. */
export function sameSmppId(a: string, aBase: SmppIdBase, b: string, bBase: SmppIdBase): boolean {
  return normalizeSmppId(a, aBase) === normalizeSmppId(b, bBase);
}
