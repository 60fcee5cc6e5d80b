/** Helpers for carrier webhooks: reading parameters, content types and comparing signatures. */
import { timingSafeEqual } from 'node:crypto';
import { type InboundHttp, type InboundPart, ReceiptParseError } from './types.ts';

/** The media type of a request, lower-cased, without parameters (`charset=…`); '' when absent. */
export function mediaType(req: InboundHttp): string {
  const raw = req.headers['content-type'] ?? '';
  return (raw.split(';')[0] ?? '').trim().toLowerCase();
}

/** The request URL parsed; relative URLs resolve against a placeholder origin. */
export function parseUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    try {
      return new URL(url, 'http://placeholder.invalid');
    } catch {
      throw new ReceiptParseError(`webhook URL is not a URL: ${url.slice(0, 100)}`);
    }
  }
}

/** Form fields in order (repeated keys kept). Throws `ReceiptParseError` on an empty body. */
export function formPairs(body: string): Array<[string, string]> {
  if (body.trim() === '') throw new ReceiptParseError('webhook body is empty');
  return [...new URLSearchParams(body)];
}

/** First value of each key. */
export function firstValues(pairs: Iterable<readonly [string, string]>): Map<string, string> {
  const map = new Map<string, string>();
  for (const [k, v] of pairs) if (!map.has(k)) map.set(k, v);
  return map;
}

/** Constant-time string comparison (length checked first, as `timingSafeEqual` requires). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  if (x.length !== y.length) return false;
  return timingSafeEqual(x, y);
}

/** Our message id from the callback URL's `mid` parameter, when present. */
export function messageIdFromUrl(url: string): string | undefined {
  const mid = parseUrl(url).searchParams.get('mid');
  return mid === null || mid === '' ? undefined : mid;
}

/**
 * An address from an inbound message as Herald stores it: digits (with or without `+`, as
 * carriers write MSISDNs) become E.164 with `+`; anything else (an alphanumeric sender id) stays
 * as written. Throws `ReceiptParseError` when empty.
 */
export function inboundAddress(raw: string | undefined, field: string): string {
  const value = (raw ?? '').trim();
  if (value === '') throw new ReceiptParseError(`inbound message without ${field}`);
  const digits = /^\+?(\d{3,15})$/.exec(value.replace(/[\s-]/g, ''));
  return digits ? `+${digits[1]}` : value;
}

/**
 * Refuses what no carrier sends and the database cannot store: a NUL character in any field of
 * an inbound message. Throws `ReceiptParseError`; answers the parts otherwise.
 */
export function checkInboundPart(part: InboundPart): InboundPart {
  if (
    [part.carrierMessageId, part.from, part.to, part.text, part.concat?.ref ?? ''].some((v) =>
      v.includes('\u0000'),
    )
  ) {
    throw new ReceiptParseError('inbound message holds a NUL character');
  }
  return part;
}
