/**
 * From a message to its `submit_sm` PDUs: the body split into parts by `domain/segments`, each
 * encoded (GSM 03.38 default alphabet, one septet per octet as SMPP carries it, data_coding 0;
 * or UCS-2 big-endian, data_coding 8) and, for a long message, prefixed with the 6-octet
 * concatenation UDH (IEI 0x00: reference, total, sequence) under esm_class 0x40.
 */
import smpp from 'smpp';
import type { Encoding } from '../domain/segments.ts';
import { splitSegments } from '../domain/segments.ts';

export const DATA_CODING_GSM7 = 0x00;
export const DATA_CODING_UCS2 = 0x08;
export const ESM_CLASS_UDHI = 0x40;
/** registered_delivery: a receipt on final success or failure. */
export const REGISTERED_DELIVERY_FINAL = 0x01;

/** The body of one part on the wire, UDH included. */
export interface EncodedPart {
  readonly esmClass: number;
  readonly dataCoding: number;
  readonly shortMessage: Buffer;
}

/** GSM 03.38 octets of a GSM-7 text (the package's encoder; verified by unit tests). */
export function encodeGsm7(text: string): Buffer {
  return smpp.encodings.ASCII.encode(text);
}

/** UTF-16 big-endian, which is what SMPP's UCS-2 data_coding carries. */
export function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/** The 6-octet concatenation user-data header (8-bit reference). */
export function concatUdh(ref: number, total: number, seq: number): Buffer {
  return Buffer.from([0x05, 0x00, 0x03, ref & 0xff, total, seq]);
}

/** Reads a concatenation UDH (IEI 0x00 or 0x08) at the start of a short_message, if any. */
export function readConcatUdh(
  shortMessage: Buffer,
):
  | { readonly ref: number; readonly total: number; readonly seq: number; readonly headerLength: number }
  | undefined {
  const udhl = shortMessage[0];
  if (udhl === undefined || shortMessage.length < udhl + 1) return undefined;
  let i = 1;
  while (i + 1 < udhl + 1) {
    const iei = shortMessage[i] ?? 0;
    const len = shortMessage[i + 1] ?? 0;
    if (iei === 0x00 && len === 3) {
      return {
        ref: shortMessage[i + 2] ?? 0,
        total: shortMessage[i + 3] ?? 0,
        seq: shortMessage[i + 4] ?? 0,
        headerLength: udhl + 1,
      };
    }
    if (iei === 0x08 && len === 4) {
      const ref = ((shortMessage[i + 2] ?? 0) << 8) | (shortMessage[i + 3] ?? 0);
      return { ref, total: shortMessage[i + 4] ?? 0, seq: shortMessage[i + 5] ?? 0, headerLength: udhl + 1 };
    }
    i += 2 + len;
  }
  return undefined;
}

/**
 * The parts of a message as they go on the wire. One part: no UDH, esm_class 0. Several: each
 * carries the UDH with `ref` (0–255, the same for all parts of this message), the total and its
 * 1-based sequence number.
 */
export function encodeParts(body: string, encoding: Encoding, ref: number): EncodedPart[] {
  const texts = splitSegments(body);
  const dataCoding = encoding === 'UCS-2' ? DATA_CODING_UCS2 : DATA_CODING_GSM7;
  const encode = encoding === 'UCS-2' ? encodeUcs2 : encodeGsm7;
  if (texts.length === 1) return [{ esmClass: 0, dataCoding, shortMessage: encode(texts[0] ?? '') }];
  return texts.map((text, i) => ({
    esmClass: ESM_CLASS_UDHI,
    dataCoding,
    shortMessage: Buffer.concat([concatUdh(ref, texts.length, i + 1), encode(text)]),
  }));
}

/** Source address TON/NPI: alphanumeric sender → 5/0, E.164 → 1/1 (international, ISDN). */
export function sourceAddress(from: string): {
  readonly ton: number;
  readonly npi: number;
  readonly addr: string;
} {
  if (/^\+?[0-9]{3,15}$/.test(from)) return { ton: 1, npi: 1, addr: from.replace(/^\+/, '') };
  return { ton: 5, npi: 0, addr: from };
}

/** An E.164 destination as SMPP wants it: international TON, ISDN NPI, no `+`. */
export function destinationAddress(to: string): {
  readonly ton: number;
  readonly npi: number;
  readonly addr: string;
} {
  return { ton: 1, npi: 1, addr: to.replace(/^\+/, '') };
}

/**
 * SMPP relative validity period (`YYMMDDhhmmss000R`, §7.1.1) for a number of seconds; the
 * days field holds up to 99 days.
 */
export function relativeValidity(seconds: number): string {
  const s = Math.max(0, Math.min(Math.floor(seconds), 99 * 86_400 + 86_399));
  const p = (n: number): string => String(n).padStart(2, '0');
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3_600);
  const minutes = Math.floor((s % 3_600) / 60);
  return `0000${p(days)}${p(hours)}${p(minutes)}${p(s % 60)}000R`;
}

/** The part's octets as sent, its text (UDH removed, decoded) and its concatenation header. */
export function decodeShortMessage(pdu: {
  readonly short_message?: unknown;
  readonly [field: string]: unknown;
}): {
  octets: Buffer;
  text: string;
  udhConcat?: { ref: number; total: number; seq: number };
} {
  const sm = pdu.short_message;
  if (sm !== null && typeof sm === 'object' && 'message' in sm) {
    const { message, udh } = sm as { message: unknown; udh?: Buffer[] };
    const text =
      typeof message === 'string' ? message : Buffer.isBuffer(message) ? message.toString('latin1') : '';
    const header =
      udh && udh.length > 0
        ? Buffer.concat([Buffer.from([udh.reduce((n, u) => n + u.length, 0)]), ...udh])
        : undefined;
    const concat = header ? readConcatUdh(header) : undefined;
    const octets = Buffer.concat([header ?? Buffer.alloc(0), Buffer.from(text, 'utf8')]);
    return {
      octets,
      text,
      ...(concat ? { udhConcat: { ref: concat.ref, total: concat.total, seq: concat.seq } } : {}),
    };
  }
  const text = typeof sm === 'string' ? sm : Buffer.isBuffer(sm) ? sm.toString('latin1') : '';
  return { octets: Buffer.from(text, 'utf8'), text };
}
