/**
 * Outbound HTTP for carrier adapters: one call with a hard timeout, and the mapping of transport
 * failures onto the error taxonomy (DESIGN §5). Shared by every HTTP carrier so that "was the
 * request sent?" is decided in one place.
 */
import { z } from 'zod';
import type { CarrierError, CarrierErrorClass } from '../domain/carrier-error.ts';

/**
 * The config every HTTP carrier adapter shares; each adapter `.extend`s it with its credentials
 * (and may give `baseUrl` a default by overriding it with `.default(…)`).
 */
export const httpCarrierConfigSchema = z.object({
  /** The carrier's API origin; a simulator URL in tests. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Whole-call budget per submit, ms. Default 10 000. */
  timeoutMs: z.number().int().positive().default(10_000),
});

/** `baseUrl` with its trailing slashes dropped, then `path` (e.g. `/sms/json`) as it is. */
export function carrierUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}

/** A carrier's answer, read in full (or as far as the connection allowed). */
export interface HttpReply {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** True when the connection broke while the body was being read: `text` is what arrived. */
  readonly incomplete: boolean;
}

export type HttpOutcome =
  | { readonly ok: true; readonly reply: HttpReply }
  | { readonly ok: false; readonly error: CarrierError };

export interface HttpCallOptions {
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Whole-call budget (connect, send, wait, read the body), in ms. */
  readonly timeoutMs: number;
}

/** Builds a `CarrierError`, leaving out the optional fields that are undefined. */
export function carrierError(
  cls: CarrierErrorClass,
  code: string,
  message: string,
  extra: { carrierCode?: string | undefined; retryAfterMs?: number | undefined } = {},
): CarrierError {
  return {
    class: cls,
    code,
    message,
    ...(extra.carrierCode !== undefined ? { carrierCode: extra.carrierCode } : {}),
    ...(extra.retryAfterMs !== undefined ? { retryAfterMs: extra.retryAfterMs } : {}),
  };
}

/**
 * Calls a carrier with global `fetch` under `AbortSignal.timeout(timeoutMs)`. Never throws: a
 * transport failure comes back as a classified `CarrierError` (see `classifyTransportError`).
 */
export async function httpCall(url: string, opts: HttpCallOptions): Promise<HttpOutcome> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method,
      ...(opts.headers ? { headers: opts.headers } : {}),
      ...(opts.body !== undefined ? { body: opts.body } : {}),
      // A carrier API never redirects a submit; following one would turn a POST into a GET.
      redirect: 'manual',
      signal,
    });
  } catch (err) {
    return { ok: false, error: classifyTransportError(err, opts.timeoutMs) };
  }
  try {
    const text = await res.text();
    return { ok: true, reply: { status: res.status, headers: res.headers, text, incomplete: false } };
  } catch (err) {
    // The status line arrived, so the carrier has the request; the adapter decides from the status.
    if (res.status >= 200 && res.status < 300) {
      const cause = classifyTransportError(err, opts.timeoutMs);
      return {
        ok: false,
        error: carrierError('ambiguous', 'reply_incomplete', `reply body lost: ${cause.message}`, {
          carrierCode: `HTTP ${res.status}`,
        }),
      };
    }
    return { ok: true, reply: { status: res.status, headers: res.headers, text: '', incomplete: true } };
  }
}

/** Error codes that mean no connection was made, so the carrier cannot have seen the request. */
const NEVER_CONNECTED = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_INVALID_URL',
]);

/** Error codes of a connection that broke after it was made. */
const CONNECTION_LOST = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED', 'UND_ERR_CLOSED']);

/**
 * Maps a `fetch` failure onto the taxonomy:
 * - our timeout → `ambiguous` (the carrier may have taken the message and not answered yet);
 * - refused / DNS / unreachable / TLS → `failover` (carrier down, nothing was sent);
 * - a connection that broke: `failover` when undici reports no request byte written, else
 *   `ambiguous` (the carrier may have read the request before the line dropped).
 */
export function classifyTransportError(err: unknown, timeoutMs?: number): CarrierError {
  if (isTimeout(err)) {
    const after = timeoutMs !== undefined ? ` within ${timeoutMs} ms` : '';
    return carrierError(
      'ambiguous',
      'timeout',
      `no reply${after}; the carrier may have accepted the message`,
    );
  }
  const codes = errorCodes(err);
  const text = errorText(err);
  const never = codes.find((c) => NEVER_CONNECTED.has(c));
  if (never !== undefined) {
    return carrierError('failover', 'carrier_unavailable', `cannot reach carrier: ${text}`, {
      carrierCode: never,
    });
  }
  const lost = codes.find((c) => CONNECTION_LOST.has(c));
  const written = bytesWritten(err);
  if (written === 0) {
    return carrierError(
      'failover',
      'carrier_unavailable',
      `connection closed before the request was sent: ${text}`,
      {
        carrierCode: lost ?? codes[0],
      },
    );
  }
  return carrierError('ambiguous', 'connection_lost', `connection lost after the request was sent: ${text}`, {
    carrierCode: lost ?? codes[0],
  });
}

function isTimeout(err: unknown): boolean {
  for (const e of causeChain(err)) {
    if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return true;
  }
  return false;
}

/** The error, its `cause`s, and the members of any AggregateError (happy-eyeballs connects). */
function causeChain(err: unknown): unknown[] {
  const out: unknown[] = [];
  const queue: unknown[] = [err];
  while (queue.length > 0 && out.length < 16) {
    const e = queue.shift();
    if (e === undefined || e === null || out.includes(e)) continue;
    out.push(e);
    if (typeof e === 'object') {
      const { cause, errors } = e as { cause?: unknown; errors?: unknown };
      if (cause !== undefined) queue.push(cause);
      if (Array.isArray(errors)) queue.push(...errors);
    }
  }
  return out;
}

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  for (const e of causeChain(err)) {
    const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    if (typeof code === 'string' && !codes.includes(code)) codes.push(code);
  }
  return codes;
}

function errorText(err: unknown): string {
  const chain = causeChain(err).filter((e): e is Error => e instanceof Error);
  const deepest = chain[chain.length - 1];
  return deepest?.message || String(err);
}

/** undici's SocketError carries `socket.bytesWritten`; undefined when no error says. */
function bytesWritten(err: unknown): number | undefined {
  for (const e of causeChain(err)) {
    const socket = typeof e === 'object' && e !== null ? (e as { socket?: unknown }).socket : undefined;
    const n =
      typeof socket === 'object' && socket !== null
        ? (socket as { bytesWritten?: unknown }).bytesWritten
        : undefined;
    if (typeof n === 'number') return n;
  }
  return undefined;
}

/**
 * `Retry-After` in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Undefined when absent
 * or unreadable; never negative.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/**
 * The class of a non-2xx reply whose body told us nothing more: 429 and 5xx are transient,
 * 401/403 and other 4xx mean this carrier will not take it (try the next one).
 */
export function classifyHttpStatus(status: number, retryAfterMs?: number): CarrierError {
  const carrierCode = `HTTP ${status}`;
  if (status === 429)
    return carrierError('retry', 'throttled', 'carrier rate limit', { carrierCode, retryAfterMs });
  if (status >= 500)
    return carrierError('retry', 'carrier_error', `carrier answered ${status}`, {
      carrierCode,
      retryAfterMs,
    });
  if (status === 401 || status === 403)
    return carrierError('failover', 'auth_failed', 'carrier refused our credentials', { carrierCode });
  return carrierError('failover', 'carrier_rejected', `carrier answered ${status}`, { carrierCode });
}

/** `application/x-www-form-urlencoded`, leaving out undefined fields. */
export function formEncode(fields: Readonly<Record<string, string | undefined>>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) params.append(k, v);
  return params.toString();
}

/** `JSON.parse` that answers `undefined` instead of throwing. */
export function parseJsonSafe(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `Authorization: Basic …` for a user and password. */
export function basicAuth(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** A 2xx reply we cannot read: the carrier may have taken the message, so the error is `ambiguous`. */
export function unreadableReply(status: number, carrier: string, why: string): CarrierError {
  return carrierError(
    'ambiguous',
    'unparseable_reply',
    `unreadable ${status} reply from ${carrier}: ${why}`,
    {
      carrierCode: `HTTP ${status}`,
    },
  );
}
