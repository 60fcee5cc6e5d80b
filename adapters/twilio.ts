/**
 * Twilio Programmable Messaging over HTTP: `POST /2010-04-01/Accounts/{Sid}/Messages.json`
 * (form-encoded, Basic auth), status callbacks signed with `X-Twilio-Signature`.
 * Wire format: shared/reference/carrier-wire-formats.md (a) and twilio.com/docs/api/errors.
 */
import { createHash, createHmac } from 'node:crypto';
import { z } from 'zod';
import type { CarrierError, CarrierErrorClass } from '../domain/carrier-error.ts';
import { parseDecimalMicros } from './decimal.ts';
import {
  basicAuth,
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
import {
  firstValues,
  formPairs,
  inboundAddress,
  mediaType,
  messageIdFromUrl,
  parseUrl,
  safeEqual,
} from './inbound.ts';
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

export const twilioConfigSchema = httpCarrierConfigSchema.extend({
  /** API origin. Default `https://api.twilio.com`; a simulator URL in tests. */
  baseUrl: httpCarrierConfigSchema.shape.baseUrl.default('https://api.twilio.com'),
  accountSid: z.string().min(1),
  authToken: z.string().min(1),
});
/** Twilio carrier config as stored (defaults not yet applied). */
export type TwilioConfig = z.input<typeof twilioConfigSchema>;

/** Twilio's ValidityPeriod range, seconds (error 90007 outside it). */
export const TWILIO_MIN_VALIDITY_SECONDS = 1;
export const TWILIO_MAX_VALIDITY_SECONDS = 36_000;

/** Twilio error code "Validity Period Expired": a `failed` callback carrying it is our `expired`. */
const VALIDITY_EXPIRED = '30036';

/** Synchronous error codes we classify explicitly; anything else falls back on the HTTP status. */
const SUBMIT_ERRORS: Readonly<Record<number, readonly [CarrierErrorClass, string]>> = {
  21211: ['permanent', 'invalid_number'], // invalid To
  21614: ['permanent', 'invalid_number'], // To is not a mobile number
  21612: ['permanent', 'unreachable_number'], // To not reachable via SMS
  21610: ['permanent', 'opted_out'], // recipient replied STOP
  21602: ['permanent', 'invalid_request'], // Body missing
  21604: ['permanent', 'invalid_request'], // To missing
  21617: ['permanent', 'body_too_long'], // over 1600 characters
  21408: ['failover', 'route_unsupported'], // geo permission (region) not enabled
  21603: ['failover', 'sender_not_allowed'], // From missing
  21606: ['failover', 'sender_not_allowed'], // From not SMS-capable
  21659: ['failover', 'sender_not_allowed'], // From is not a Twilio number
  21609: ['failover', 'invalid_callback'], // StatusCallback rejected
  21624: ['failover', 'invalid_request'], // ValidityPeriod rejected (we clamp, so config drift)
  90007: ['failover', 'invalid_request'], // ValidityPeriod rejected (newer code)
  20003: ['failover', 'auth_failed'], // HTTP 401 "Authenticate"
  20404: ['failover', 'carrier_misconfigured'], // unknown account SID in the URL
  20429: ['retry', 'throttled'], // HTTP 429
  20500: ['retry', 'carrier_error'],
  20503: ['retry', 'carrier_error'],
};

/** Texts of the asynchronous error codes (ErrorCode on failed / undelivered callbacks). */
const CALLBACK_ERRORS: Readonly<Record<string, string>> = {
  '30001': 'Queue overflow',
  '30002': 'Account suspended',
  '30003': 'Unreachable destination handset',
  '30004': 'Message blocked',
  '30005': 'Unknown destination handset',
  '30006': 'Landline or unreachable carrier',
  '30007': 'Message filtered',
  '30008': 'Unknown error',
  '30009': 'Missing inbound segment',
  '30036': 'Validity period expired',
};

const CALLBACK_STATUSES: Readonly<Record<string, ReceiptStatus>> = {
  delivered: 'delivered',
  read: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  canceled: 'failed',
  queued: 'enroute',
  accepted: 'enroute',
  scheduled: 'enroute',
  sending: 'enroute',
  sent: 'enroute',
};

const messageReplySchema = z.object({
  sid: z.string().min(1),
  status: z.string(),
  num_segments: z.string().regex(/^\d+$/).nullish(),
  price: z.string().nullish(),
});

const errorReplySchema = z.object({
  code: z.number().int(),
  message: z.string(),
  more_info: z.string().nullish(),
  status: z.number().int().nullish(),
});

/** Builds the Twilio adapter; `config` is parsed with `twilioConfigSchema` (throws on bad config). */
export function createTwilioAdapter(config: TwilioConfig): CarrierAdapter {
  const cfg = twilioConfigSchema.parse(config);
  const endpoint = carrierUrl(
    cfg.baseUrl,
    `/2010-04-01/Accounts/${encodeURIComponent(cfg.accountSid)}/Messages.json`,
  );
  const authorization = basicAuth(cfg.accountSid, cfg.authToken);
  return {
    kind: 'twilio',
    async submit(req: SubmitRequest): Promise<SubmitResult> {
      const out = await httpCall(endpoint, {
        method: 'POST',
        headers: {
          authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: formEncode({
          To: req.to,
          From: req.from,
          Body: req.body,
          StatusCallback: req.statusCallbackUrl,
          ValidityPeriod: String(twilioValidity(req.validitySeconds)),
        }),
        timeoutMs: cfg.timeoutMs,
      });
      return out.ok ? interpretTwilioReply(out.reply) : out;
    },
    parseReceipts: parseTwilioReceipts,
    verify: (req) => verifyTwilioRequest(req, cfg.authToken),
    // Twilio only needs a 2xx; an empty text/plain body keeps its debugger quiet.
    receiptAck: { status: 200, contentType: 'text/plain', body: '' },
    parseInbound: parseTwilioInbound,
    // An empty TwiML document: "received, no reply" (replies are sent as messages).
    inboundAck: { status: 200, contentType: 'text/xml', body: EMPTY_TWIML },
  };
}

/** TwiML that does nothing. */
export const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>';

/** The form fields of a webhook Twilio posted (or a GET's query). Throws `ReceiptParseError`. */
function twilioWebhookParams(req: InboundHttp, what: string): Map<string, string> {
  if (req.method.toUpperCase() === 'GET') return firstValues(parseUrl(req.url).searchParams);
  const type = mediaType(req);
  if (type !== '' && type !== 'application/x-www-form-urlencoded') {
    throw new ReceiptParseError(`Twilio ${what} must be form-encoded, got ${type}`);
  }
  return firstValues(formPairs(req.rawBody));
}

/**
 * An incoming-message webhook (`From`, `To`, `Body`, `MessageSid`) → one message: Twilio
 * reassembles concatenated messages before it posts. Throws `ReceiptParseError`.
 */
export function parseTwilioInbound(req: InboundHttp): InboundPart[] {
  const p = twilioWebhookParams(req, 'incoming message');
  const sid = p.get('MessageSid') || p.get('SmsMessageSid') || p.get('SmsSid');
  if (!sid) throw new ReceiptParseError('Twilio incoming message without MessageSid');
  return [
    {
      carrierMessageId: sid,
      from: inboundAddress(p.get('From'), 'From'),
      to: inboundAddress(p.get('To'), 'To'),
      text: p.get('Body') ?? '',
    },
  ];
}

/** Clamps our validity to Twilio's ValidityPeriod range (whole seconds). */
export function twilioValidity(seconds: number): number {
  if (!Number.isFinite(seconds)) return TWILIO_MAX_VALIDITY_SECONDS;
  return Math.min(TWILIO_MAX_VALIDITY_SECONDS, Math.max(TWILIO_MIN_VALIDITY_SECONDS, Math.floor(seconds)));
}

/** A Messages.json reply → `SubmitResult`. A 2xx we cannot read is `ambiguous`: Twilio may have it. */
export function interpretTwilioReply(reply: HttpReply): SubmitResult {
  if (reply.status >= 200 && reply.status < 300) {
    const parsed = messageReplySchema.safeParse(parseJsonSafe(reply.text));
    if (!parsed.success) {
      return {
        ok: false,
        error: carrierError(
          'ambiguous',
          'unparseable_reply',
          `unreadable ${reply.status} reply from Twilio`,
          {
            carrierCode: `HTTP ${reply.status}`,
          },
        ),
      };
    }
    const { sid, num_segments, price } = parsed.data;
    const segments = num_segments ? Number(num_segments) : undefined;
    // Twilio quotes charges as negative amounts ("-0.00790"): the total for all segments.
    const micros = price ? parseDecimalMicros(price) : undefined;
    return {
      ok: true,
      carrierMessageId: sid,
      ...(segments !== undefined && segments > 0 ? { segments } : {}),
      ...(micros !== undefined ? { priceMicros: micros < 0n ? -micros : micros } : {}),
    };
  }
  const retryAfterMs = parseRetryAfter(reply.headers.get('retry-after'));
  const body = errorReplySchema.safeParse(parseJsonSafe(reply.text));
  return {
    ok: false,
    error: classifyTwilioError(reply.status, body.success ? body.data : undefined, retryAfterMs),
  };
}

/** Twilio error reply (HTTP status + `{code, message}` when readable) → `CarrierError`. */
export function classifyTwilioError(
  httpStatus: number,
  body: { readonly code: number; readonly message: string } | undefined,
  retryAfterMs?: number,
): CarrierError {
  if (!body) return classifyHttpStatus(httpStatus, retryAfterMs);
  const known = SUBMIT_ERRORS[body.code];
  const carrierCode = String(body.code);
  if (known) {
    const [cls, code] = known;
    return carrierError(cls, code, body.message, {
      carrierCode,
      ...(cls === 'retry' ? { retryAfterMs } : {}),
    });
  }
  const byStatus = classifyHttpStatus(httpStatus, retryAfterMs);
  return { ...byStatus, message: body.message, carrierCode };
}

/**
 * A status callback (form-encoded POST) → one receipt. Our message id is the `mid` parameter of
 * the callback URL we gave Twilio. Throws `ReceiptParseError` on anything else.
 */
export function parseTwilioReceipts(req: InboundHttp): Receipt[] {
  const p = twilioWebhookParams(req, 'status callback');
  const sid = p.get('MessageSid') || p.get('SmsSid');
  const carrierStatus = (p.get('MessageStatus') || p.get('SmsStatus') || '').toLowerCase();
  if (!sid) throw new ReceiptParseError('Twilio status callback without MessageSid');
  if (!carrierStatus) throw new ReceiptParseError('Twilio status callback without MessageStatus');
  const errorCode = p.get('ErrorCode') || undefined;
  let status = CALLBACK_STATUSES[carrierStatus] ?? 'enroute';
  if (errorCode === VALIDITY_EXPIRED && (status === 'failed' || status === 'undelivered')) status = 'expired';
  const messageId = messageIdFromUrl(req.url);
  const at = rawDlrDoneDate(p.get('RawDlrDoneDate'));
  const errorMessage = errorCode ? (CALLBACK_ERRORS[errorCode] ?? p.get('ErrorMessage')) : undefined;
  return [
    {
      carrierMessageId: sid,
      ...(messageId ? { messageId } : {}),
      status,
      carrierStatus,
      ...(errorCode ? { errorCode } : {}),
      ...(errorMessage ? { errorMessage } : {}),
      ...(at ? { at } : {}),
    },
  ];
}

/** `RawDlrDoneDate` is YYMMDDhhmm with no zone (the handset network's clock); read as UTC. */
function rawDlrDoneDate(raw: string | undefined): string | undefined {
  const m = raw ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(raw) : null;
  if (!m) return undefined;
  const [, yy, mo, dd, hh, mi] = m;
  const date = new Date(Date.UTC(2000 + Number(yy), Number(mo) - 1, Number(dd), Number(hh), Number(mi)));
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/**
 * Twilio's request signature: Base64(HMAC-SHA1(authToken, url + key1 + value1 + key2 + value2 …))
 * over ALL posted parameters sorted by key (values of a repeated key sorted too).
 */
export function twilioSignature(
  url: string,
  params: Iterable<readonly [string, string]> | Readonly<Record<string, string>>,
  authToken: string,
): string {
  const pairs: Array<readonly [string, string]> =
    Symbol.iterator in params
      ? [...(params as Iterable<readonly [string, string]>)]
      : Object.entries(params as Readonly<Record<string, string>>);
  // A key repeated with the same value counts once, as Twilio's own validators sign it.
  const unique = [...new Map(pairs.map(([k, v]) => [`${k}\u0000${v}`, [k, v] as const])).values()];
  const sorted = unique.sort(([ka, va], [kb, vb]) => cmp(ka, kb) || cmp(va, vb));
  let data = url;
  for (const [k, v] of sorted) data += k + v;
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64');
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Checks `X-Twilio-Signature` in constant time. Form posts are signed over URL + params; JSON
 * posts carry `bodySHA256` in the URL and are signed over the URL alone. As Twilio's own helpers
 * do, the URL is also tried without its port, or with the scheme's default one (proxies differ).
 */
export function verifyTwilioRequest(req: InboundHttp, authToken: string): boolean {
  const given = req.headers['x-twilio-signature'];
  if (!given) return false;
  try {
    const url = parseUrl(req.url);
    let params: Array<[string, string]> = [];
    const bodyHash = url.searchParams.get('bodySHA256');
    if (bodyHash !== null) {
      const actual = createHash('sha256').update(req.rawBody, 'utf8').digest('hex');
      if (!safeEqual(actual, bodyHash.toLowerCase())) return false;
    } else if (req.method.toUpperCase() !== 'GET') {
      params = [...new URLSearchParams(req.rawBody)];
    }
    return urlVariants(req.url).some((u) => safeEqual(twilioSignature(u, params, authToken), given));
  } catch {
    return false;
  }
}

/**
 * The URL as given, plus the variants Twilio's own validators accept: without its port (any port:
 * Twilio may sign the URL a proxy in front of us shows, without our non-default port) and, when it
 * has none, with the scheme's default port.
 */
function urlVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/?#:]+|\[[^\]]*\])(?::(\d+))?(.*)$/is.exec(url);
  if (!m) return [url];
  const [, scheme = '', host = '', port, rest = ''] = m;
  const defaultPort = scheme.toLowerCase() === 'https' ? '443' : '80';
  if (port === undefined) return [url, `${scheme}://${host}:${defaultPort}${rest}`];
  return [url, `${scheme}://${host}${rest}`];
}
