/**
 * SMS encoding and segmentation (3GPP TS 23.038 / GSM 03.38). A body that fits the GSM 7-bit
 * default alphabet (with its extension table) is sent as GSM-7; any other character switches the
 * whole message to UCS-2. Long messages are split into concatenated parts whose user-data header
 * (UDH) takes 6 octets, leaving 153 septets or 67 UCS-2 units per part.
 */

export type Encoding = 'GSM-7' | 'UCS-2';

/**
 * Longest body the API accepts, in Unicode code points (`[...body].length`), as Twilio does:
 * 10 GSM-7 parts or about 24 UCS-2 parts.
 */
export const MAX_BODY_CHARS = 1600;

/** Septets in a single GSM-7 message, and per part of a concatenated one. */
export const GSM7_SINGLE_SEPTETS = 160;
export const GSM7_PART_SEPTETS = 153;
/** UTF-16 code units in a single UCS-2 message, and per part of a concatenated one. */
export const UCS2_SINGLE_UNITS = 70;
export const UCS2_PART_UNITS = 67;

/**
 * The GSM 03.38 basic character set, in table order. ESC (0x1B) is left out: it only introduces
 * an extension character, so a literal U+001B in a body cannot be sent as GSM-7.
 */
const GSM7_BASIC_CHARS =
  '@£$¥èéùìòÇ\nØø\rÅå\u0394_\u03A6\u0393\u039B\u03A9\u03A0\u03A8\u03A3\u0398\u039E' +
  'ÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§' +
  '¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** The extension table: each costs two septets (ESC + the character). */
const GSM7_EXTENSION_CHARS = '\f^{}\\[~]|€';

export const GSM7_BASIC: ReadonlySet<string> = new Set(GSM7_BASIC_CHARS);
export const GSM7_EXTENSION: ReadonlySet<string> = new Set(GSM7_EXTENSION_CHARS);

/** What {@link analyzeBody} finds out about a body. */
export interface BodyAnalysis {
  readonly encoding: Encoding;
  /** Parts on the wire. An empty body counts as one part: an empty SMS still takes one PDU. */
  readonly segments: number;
  /** Septets for GSM-7 (extension characters count two), UTF-16 code units for UCS-2. */
  readonly units: number;
}

/** True when every character of `body` is in the GSM-7 basic or extension table. */
export function isGsm7(body: string): boolean {
  for (const ch of body) {
    if (!GSM7_BASIC.has(ch) && !GSM7_EXTENSION.has(ch)) return false;
  }
  return true;
}

/** Encoding, part count and size of a message body; the count agrees with {@link splitSegments}. */
export function analyzeBody(body: string): BodyAnalysis {
  const encoding = encodingOf(body);
  const parts = pack(body, encoding);
  const units = encoding === 'GSM-7' ? septets(body) : body.length;
  return { encoding, segments: parts.length, units };
}

/**
 * Splits a body into the text of each part as it goes on the wire (for SMPP UDH concatenation).
 * Parts are packed greedily and never split an extension character (ESC + char) or a UTF-16
 * surrogate pair. Joining the parts gives the body back; an empty body is one empty part.
 */
export function splitSegments(body: string): string[] {
  return pack(body, encodingOf(body));
}

function encodingOf(body: string): Encoding {
  return isGsm7(body) ? 'GSM-7' : 'UCS-2';
}

function septets(body: string): number {
  let n = 0;
  for (const ch of body) n += GSM7_EXTENSION.has(ch) ? 2 : 1;
  return n;
}

/** Cost of one code point in its encoding's units. */
function weight(ch: string, encoding: Encoding): number {
  if (encoding === 'UCS-2') return ch.length; // 2 for a surrogate pair
  return GSM7_EXTENSION.has(ch) ? 2 : 1;
}

function pack(body: string, encoding: Encoding): string[] {
  const single = encoding === 'GSM-7' ? GSM7_SINGLE_SEPTETS : UCS2_SINGLE_UNITS;
  const perPart = encoding === 'GSM-7' ? GSM7_PART_SEPTETS : UCS2_PART_UNITS;
  const total = encoding === 'GSM-7' ? septets(body) : body.length;
  if (total <= single) return [body];

  const parts: string[] = [];
  let current = '';
  let used = 0;
  // Iterating a string yields code points, so a surrogate pair is never cut in two.
  for (const ch of body) {
    const w = weight(ch, encoding);
    if (used + w > perPart) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += ch;
    used += w;
  }
  parts.push(current);
  return parts;
}
