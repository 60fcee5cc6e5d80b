/**
 * Signatures of Herald's status callbacks (Stripe-style). The header
 *
 *     Herald-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 *
 * carries one `v1=` per valid secret (two during a rotation's grace period). A receiver
 * recomputes the HMAC over the timestamp, a dot and the raw body bytes with its secret, compares
 * in constant time with any `v1`, and rejects timestamps too far from now (replays).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header names, as sent (HTTP header names are case-insensitive). */
export const SIGNATURE_HEADER = 'Herald-Signature';
export const EVENT_ID_HEADER = 'Herald-Event-Id';

/** Default accepted distance between the signature's timestamp and now. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Hex HMAC-SHA256 of `"<timestamp>.<body>"` with `secret`. */
export function computeHeraldSignature(secret: string, timestampSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`, 'utf8').digest('hex');
}

/**
 * The `Herald-Signature` value for `body`: `t=<timestampSeconds>` and one `v1=` per secret.
 *
 * @param secrets - current secret first; a previous one still in its grace period after it.
 */
export function heraldSignatureHeader(
  body: string,
  secrets: readonly string[],
  timestampSeconds: number,
): string {
  const t = Math.floor(timestampSeconds);
  return [`t=${t}`, ...secrets.map((s) => `v1=${computeHeraldSignature(s, t, body)}`)].join(',');
}

/** Options of {@link verifyHeraldSignature}. */
export interface VerifyOptions {
  /** Largest accepted |now − t| in seconds. Default 300. */
  readonly toleranceSeconds?: number;
  /** Current time in milliseconds since the epoch. Default `Date.now()`. */
  readonly now?: number;
}

/**
 * Checks a `Herald-Signature` header against the raw request body (exactly the bytes received,
 * before any JSON parsing) and the account's webhook secret.
 *
 * @returns true when the header is well formed, its timestamp lies within the tolerance, and one
 *   of its `v1` signatures matches.
 */
export function verifyHeraldSignature(
  header: string | undefined | null,
  body: string,
  secret: string,
  opts: VerifyOptions = {},
): boolean {
  if (!header) return false;
  let t: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) candidates.push(value);
  }
  if (t === undefined || candidates.length === 0) return false;
  const nowSeconds = Math.floor((opts.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - t) > (opts.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS)) return false;
  const expected = Buffer.from(computeHeraldSignature(secret, t, body), 'hex');
  return candidates.some((c) => timingSafeEqual(Buffer.from(c, 'hex'), expected));
}
