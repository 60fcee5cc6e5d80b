/**
 * Vonage (Nexmo) SMS API over HTTP: `POST /sms/json` form-encoded, always HTTP 200 with a
 * per-part `status`; delivery receipts to the per-message `callback` URL as GET query, POST form
 * or POST JSON. Wire format: shared/reference/carrier-wire-formats.md (b).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { CarrierError, CarrierErrorClass } from '../domain/carrier-error.ts';
import { parseDecimalMicros } from './decimal.ts';
import {
  carrierError,
  carrierUrl,
  classifyHttpStatus,
  formEncode,
  type HttpReply,
  httpCall,
  httpCarrierConfigSchema,
  parseJsonSafe,
  parseRetryAfter,
} from './http.ts';
import { formPairs, inboundAddress, mediaType, messageIdFromUrl, parseUrl, safeEqual } from './inbound.ts';
import {
  type CarrierAdapter,
  type InboundHttp,
  type InboundPart,
  type Receipt,
  ReceiptParseError,
  type ReceiptStatus,
  type SubmitRequest,
  type SubmitResult,
} from './types.ts';

export const vonageConfigSchema = httpCarrierConfigSchema.extend({
  /** API origin. Default `https://rest.nexmo.com`; a simulator URL in tests. */
  baseUrl: httpCarrierConfigSchema.shape.baseUrl.default('https://rest.nexmo.com'),
  apiKey: z.string().min(1),
  apiSecret: z.string().min(1),
  /**
   * Signature secret of a Vonage account with signed webhooks (`md5hash` method). When set,
   * receipts must carry a valid `sig`; when unset, receipts are not authenticated (Vonage DLRs
   * are unsigned by default: restrict the webhook by source address instead).
   */
  signatureSecret: z.string().min(1).optional(),
});
/** Vonage carrier config as stored (defaults not yet applied). */
export type VonageConfig = z.input<typeof vonageConfigSchema>;

/** Vonage's `ttl` range in ms. */
export const VONAGE_MIN_TTL_MS = 20_000;
export const VONAGE_MAX_TTL_MS = 604_800_000;
/** Vonage rejects a longer `client-ref`. */
export const VONAGE_MAX_CLIENT_REF = 40;
/** Back-off when a throttled reply does not say how long to wait (Vonage's limit is per second). */
const DEFAULT_THROTTLE_WAIT_MS = 1_000;

/** Submit `status` codes → class and our code. Unknown codes fail over. */
const SUBMIT_STATUSES: Readonly<Record<string, readonly [CarrierErrorClass, string]>> = {
  '1': ['retry', 'throttled'],
  '2': ['permanent', 'invalid_request'], // missing parameters
  '3': ['permanent', 'invalid_request'], // invalid parameters
  '4': ['failover', 'auth_failed'],
  '5': ['retry', 'carrier_error'],
  '6': ['permanent', 'invalid_message'], // unroutable / unrecognised prefix
  '7': ['permanent', 'number_barred'],
  '8': ['failover', 'account_barred'],
  '9': ['failover', 'insufficient_credit'], // partner quota exceeded
  '10': ['failover', 'too_many_binds'],
  '11': ['failover', 'account_not_enabled'], // HTTP not enabled for the account
  '12': ['permanent', 'body_too_long'],
  '14': ['failover', 'auth_failed'], // invalid request signature
  '15': ['permanent', 'invalid_sender'],
  '22': ['failover', 'route_unsupported'], // invalid network code
  '23': ['failover', 'invalid_callback'],
  '29': ['failover', 'destination_not_whitelisted'], // trial account
  '32': ['failover', 'auth_failed'], // sig and api_secret both sent
  '33': ['permanent', 'number_deactivated'],
};

/** DLR `status` → our receipt status. `failed` happened after the carrier took it (undelivered). */
const DLR_STATUSES: Readonly<Record<string, ReceiptStatus>> = {
  delivered: 'delivered',
  expired: 'expired',
  failed: 'undelivered',
  rejected: 'failed',
  accepted: 'enroute',
  buffered: 'enroute',
  unknown: 'enroute',
};

/** DLR `err-code` texts. */
const DLR_ERRORS: Readonly<Record<string, string>> = {
  '1': 'Unknown',
  '2': 'Absent subscriber - temporary',
  '3': 'Absent subscriber - permanent',
  '4': 'Call barred by user',
  '5': 'Portability error',
  '6': 'Anti-spam rejection',
  '7': 'Handset busy',
  '8': 'Network error',
  '9': 'Illegal number',
  '10': 'Illegal message',
  '11': 'Unroutable',
  '12': 'Destination unreachable',
  '13': 'Subscriber age restriction',
  '14': 'Number blocked by carrier',
  '15': 'Prepaid insufficient funds',
  '99': 'General error',
};

const scalar = z.union([z.string(), z.number()]).transform(String);

const replySchema = z.object({
  'message-count': scalar.optional(),
  messages: z
    .array(
      z.object({
        status: scalar,
        'message-id': z.string().optional(),
        'error-text': z.string().optional(),
        'message-price': scalar.optional(),
      }),
    )
    .min(1),
});

/** Builds the Vonage adapter; `config` is parsed with `vonageConfigSchema` (throws on bad config). */
export function createVonageAdapter(config: VonageConfig): CarrierAdapter {
  const cfg = vonageConfigSchema.parse(config);
  const endpoint = carrierUrl(cfg.baseUrl, '/sms/json');
  const secret = cfg.signatureSecret;
  return {
    kind: 'vonage',
    async submit(req: SubmitRequest): Promise<SubmitResult> {
      const out = await httpCall(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: formEncode({
          api_key: cfg.apiKey,
          api_secret: cfg.apiSecret,
          from: /^\+\d+$/.test(req.from) ? req.from.slice(1) : req.from,
          to: req.to.replace(/^\+/, ''),
          text: req.body,
          type: req.encoding === 'UCS-2' ? 'unicode' : 'text',
          ttl: String(vonageTtl(req.validitySeconds)),
          'status-report-req': '1',
          callback: req.statusCallbackUrl,
          // Receipts are matched by the callback URL's `mid` first, so a cut reference is harmless.
          'client-ref': req.messageId.slice(0, VONAGE_MAX_CLIENT_REF),
        }),
        timeoutMs: cfg.timeoutMs,
      });
      return out.ok ? interpretVonageReply(out.reply) : out;
    },
    parseReceipts: parseVonageReceipts,
    verify: (req) => (secret === undefined ? true : verifyVonageRequest(req, secret)),
    receiptAck: { status: 200, contentType: 'text/plain', body: 'OK' },
    parseInbound: parseVonageInbound,
  };
}

/**
 * An inbound-message webhook (`msisdn`, `to`, `text`, `messageId`; GET, form or JSON) → one
 * message, or one part when `concat` is true (`concat-ref`, `concat-total`, `concat-part`):
 * Vonage posts each part of a long message separately. Throws `ReceiptParseError`.
 */
export function parseVonageInbound(req: InboundHttp): InboundPart[] {
  const p = vonageReceiptParams(req);
  const carrierMessageId = p.get('messageId');
  if (!carrierMessageId) throw new ReceiptParseError('Vonage inbound message without messageId');
  const part: InboundPart = {
    carrierMessageId,
    from: inboundAddress(p.get('msisdn'), 'msisdn'),
    to: inboundAddress(p.get('to'), 'to'),
    text: p.get('text') ?? '',
  };
  if (p.get('concat') !== 'true') return [part];
  const ref = p.get('concat-ref');
  const total = Number(p.get('concat-total'));
  const seq = Number(p.get('concat-part'));
  if (!ref || !Number.isInteger(total) || !Number.isInteger(seq) || total < 1 || seq < 1 || seq > total) {
    throw new ReceiptParseError('Vonage inbound part with a malformed concat-ref/-total/-part');
  }
  return [total === 1 ? part : { ...part, concat: { ref, total, seq } }];
}

/** Our validity (seconds) → Vonage `ttl` (ms) within its range. */
export function vonageTtl(validitySeconds: number): number {
  if (!Number.isFinite(validitySeconds)) return VONAGE_MAX_TTL_MS;
  return Math.min(VONAGE_MAX_TTL_MS, Math.max(VONAGE_MIN_TTL_MS, Math.floor(validitySeconds * 1000)));
}

/**
 * `/sms/json` reply → `SubmitResult`. One entry per part: the first part's id names the message,
 * `segments` is the number of parts, the price is the sum of the parts' prices. If any part
 * failed, the first failing status decides. A 2xx we cannot read is `ambiguous`.
 */
export function interpretVonageReply(reply: HttpReply): SubmitResult {
  if (reply.status < 200 || reply.status >= 300) {
    return {
      ok: false,
      error: classifyHttpStatus(reply.status, parseRetryAfter(reply.headers.get('retry-after'))),
    };
  }
  const parsed = replySchema.safeParse(parseJsonSafe(reply.text));
  const unreadable = (why: string): SubmitResult => ({
    ok: false,
    error: carrierError('ambiguous', 'unparseable_reply', `unreadable reply from Vonage: ${why}`, {
      carrierCode: `HTTP ${reply.status}`,
    }),
  });
  if (!parsed.success) return unreadable('not a message list');
  const parts = parsed.data.messages;
  const failed = parts.find((p) => p.status !== '0');
  if (failed) return { ok: false, error: classifyVonageStatus(failed.status, failed['error-text'] ?? '') };
  const first = parts[0]?.['message-id'];
  if (!first) return unreadable('no message-id');
  let price: bigint | undefined = 0n;
  for (const p of parts) {
    const micros = p['message-price'] !== undefined ? parseDecimalMicros(p['message-price']) : undefined;
    price = price === undefined || micros === undefined ? undefined : price + micros;
  }
  return {
    ok: true,
    carrierMessageId: first,
    segments: parts.length,
    // Vonage posts one receipt per part, each under its own message-id.
    receiptParts: parts.length,
    ...(price !== undefined ? { priceMicros: price } : {}),
  };
}

/** A non-zero submit `status` (with its `error-text`) → `CarrierError`. */
export function classifyVonageStatus(status: string, errorText: string): CarrierError {
  const known = SUBMIT_STATUSES[status];
  const message = errorText || `Vonage status ${status}`;
  if (!known) return carrierError('failover', 'carrier_rejected', message, { carrierCode: status });
  const [cls, code] = known;
  if (status === '1') {
    // "Throughput Rate Exceeded - please wait [ 1000 ] and retry": the bracket holds ms.
    const wait = /\[\s*(\d+)\s*\]/.exec(errorText);
    const retryAfterMs = wait?.[1] !== undefined ? Number(wait[1]) : DEFAULT_THROTTLE_WAIT_MS;
    return carrierError(cls, code, message, { carrierCode: status, retryAfterMs });
  }
  return carrierError(cls, code, message, { carrierCode: status });
}

/**
 * The parameters of a DLR, whatever way it came: GET query, POST JSON (by content type), or POST
 * form. For GET, every query parameter counts (Vonage appends its own to our callback URL).
 */
export function vonageReceiptParams(req: InboundHttp): Map<string, string> {
  const params = new Map<string, string>();
  if (req.method.toUpperCase() === 'GET') {
    for (const [k, v] of parseUrl(req.url).searchParams) if (!params.has(k)) params.set(k, v);
    return params;
  }
  const type = mediaType(req);
  if (type === 'application/json') {
    const body = parseJsonSafe(req.rawBody);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new ReceiptParseError('Vonage DLR: body is not a JSON object');
    }
    for (const [k, v] of Object.entries(body)) {
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') params.set(k, String(v));
    }
    return params;
  }
  if (type !== '' && type !== 'application/x-www-form-urlencoded') {
    throw new ReceiptParseError(`Vonage DLR: unsupported content type ${type}`);
  }
  for (const [k, v] of formPairs(req.rawBody)) if (!params.has(k)) params.set(k, v);
  return params;
}

/** A Vonage DLR → one receipt (Vonage sends one per part). Throws `ReceiptParseError`. */
export function parseVonageReceipts(req: InboundHttp): Receipt[] {
  const p = vonageReceiptParams(req);
  const carrierMessageId = p.get('messageId');
  const carrierStatus = p.get('status')?.toLowerCase();
  if (!carrierMessageId) throw new ReceiptParseError('Vonage DLR without messageId');
  if (!carrierStatus) throw new ReceiptParseError('Vonage DLR without status');
  const messageId = messageIdFromUrl(req.url) ?? (p.get('client-ref') || undefined);
  const rawErr = p.get('err-code');
  const errorCode = rawErr && rawErr !== '0' ? rawErr : undefined;
  const errorMessage = errorCode ? DLR_ERRORS[errorCode] : undefined;
  const at = vonageTime(p.get('message-timestamp')) ?? scts(p.get('scts'));
  return [
    {
      carrierMessageId,
      ...(messageId ? { messageId } : {}),
      status: DLR_STATUSES[carrierStatus] ?? 'enroute',
      carrierStatus,
      ...(errorCode ? { errorCode } : {}),
      ...(errorMessage ? { errorMessage } : {}),
      ...(at ? { at } : {}),
    },
  ];
}

/** "2020-01-01 12:00:00" (UTC) → ISO-8601. */
function vonageTime(raw: string | undefined): string | undefined {
  const m = raw ? /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/.exec(raw) : null;
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** `scts` YYMMDDHHMM (UTC) → ISO-8601. */
function scts(raw: string | undefined): string | undefined {
  const m = raw ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(raw) : null;
  if (!m) return undefined;
  const [, yy, mo, d, h, mi] = m.map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(2000 + yy, mo - 1, d, h, mi));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Vonage's signed-webhook `sig`, `md5hash` method (the method SDKs call legacy): MD5, lowercase
 * hex, of every parameter except `sig`, sorted by name, each written `&name=value` with `&` and
 * `=` in values replaced by `_`, followed by the signature secret. We chose it over the HMAC
 * variants because it is the one Vonage's own SDK tests publish a vector for.
 */
export function vonageSignature(
  params: Iterable<readonly [string, string]> | Readonly<Record<string, string>>,
  secret: string,
): string {
  const pairs: Array<readonly [string, string]> =
    Symbol.iterator in params
      ? [...(params as Iterable<readonly [string, string]>)]
      : Object.entries(params as Readonly<Record<string, string>>);
  const data = pairs
    .filter(([k]) => k !== 'sig')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `&${k}=${v.replace(/[&=]/g, '_')}`)
    .join('');
  return createHash('md5')
    .update(data + secret, 'utf8')
    .digest('hex');
}

/**
 * Checks a DLR's `sig` in constant time, and that the unsigned callback URL names the same
 * message as the signed `client-ref`. False when the sig is missing or the body is unreadable.
 */
export function verifyVonageRequest(req: InboundHttp, secret: string): boolean {
  try {
    const params = vonageReceiptParams(req);
    const sig = params.get('sig');
    if (!sig) return false;
    if (!safeEqual(vonageSignature(params, secret), sig.toLowerCase())) return false;
    // A POST signs its body only: the callback URL's `mid` must agree with the signed client-ref.
    const mid = messageIdFromUrl(req.url);
    const clientRef = params.get('client-ref');
    return mid === undefined || clientRef === undefined || mid.slice(0, VONAGE_MAX_CLIENT_REF) === clientRef;
  } catch {
    return false;
  }
}
