/**
 * Webhook authentication schemes that carriers configure rather than invent: a shared secret in
 * a header, and an HMAC-SHA256 of the raw body in a header. Comparisons run in constant time.
 */
import { createHmac } from 'node:crypto';
import { safeEqual } from './inbound.ts';
import type { InboundHttp } from './types.ts';

/** How an HMAC signature is written in its header. */
export type SignatureEncoding = 'hex' | 'base64';

/** HMAC-SHA256 of `body` (UTF-8) under `secret`, hex (lower-case) or base64. */
export function hmacSha256(secret: string, body: string, encoding: SignatureEncoding = 'hex'): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest(encoding);
}

/**
 * True when header `header` (any case) carries exactly `secret`. False when it is missing.
 */
export function verifySharedSecret(req: InboundHttp, header: string, secret: string): boolean {
  const given = req.headers[header.toLowerCase()];
  return given !== undefined && safeEqual(given, secret);
}

/** Options of {@link verifyHmacSignature}. */
export interface HmacCheck {
  /** Header holding the signature (any case). */
  readonly header: string;
  readonly secret: string;
  /** Default 'hex' (compared case-insensitively). */
  readonly encoding?: SignatureEncoding;
  /** Text before the signature in the header, e.g. `sha256=`. Default ''. */
  readonly prefix?: string;
}

/**
 * True when the header holds the HMAC-SHA256 of the raw body. False when it is missing, lacks
 * the prefix or does not match.
 */
export function verifyHmacSignature(req: InboundHttp, check: HmacCheck): boolean {
  const raw = req.headers[check.header.toLowerCase()];
  const prefix = check.prefix ?? '';
  if (raw === undefined || !raw.startsWith(prefix)) return false;
  const encoding = check.encoding ?? 'hex';
  let given = raw.slice(prefix.length).trim();
  if (encoding === 'hex') given = given.toLowerCase();
  return safeEqual(hmacSha256(check.secret, req.rawBody, encoding), given);
}
