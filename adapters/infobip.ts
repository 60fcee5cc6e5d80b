/**
 * Infobip SMS over HTTP: `POST /sms/3/messages` (JSON, `Authorization: App <key>`), replies with
 * `messages[].status.groupName`, delivery reports as JSON `results[]` to the per-message webhook.
 * Wire format: shared/reference/carrier-wire-formats.md (c) and Infobip's status-code registry.
 *
 * Our message id travels as Infobip's own `messageId` (and as `callbackData`): receipts match
 * without a lookup, and Infobip refuses a second message with the same id
 * (REJECTED_DUPLICATE_MESSAGE_ID), which we read as "already taken" — so a resend after an
 * ambiguous timeout can never go out twice.
 */
import { z } from 'zod';
import type { CarrierError, CarrierErrorClass } from '../domain/carrier-error.ts';
import {
  carrierError,
  carrierUrl,
  classifyHttpStatus,
  type HttpReply,
  httpCall,
  httpCarrierConfigSchema,
  parseJsonSafe,
  parseRetryAfter,
  unreadableReply,
} from './http.ts';
import { inboundAddress, mediaType, messageIdFromUrl } from './inbound.ts';
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
import { verifySharedSecret } from './webhook-auth.ts';

/** `baseUrl` is the account's API origin, e.g. `https://xxxxx.api.infobip.com` (no default). */
export const infobipConfigSchema = httpCarrierConfigSchema.extend({
  /** API key, sent as `Authorization: App <key>`. */
  apiKey: z.string().min(1),
  /**
   * Shared secret Infobip adds to every delivery-report webhook as a custom header (configured on
   * the Infobip side). When set, reports without it are refused; when unset, reports are not
   * authenticated (restrict the webhook by source address instead).
   */
  webhookSecret: z.string().min(16).optional(),
  /** Header carrying `webhookSecret`. Default `x-herald-webhook-secret`. */
  webhookSecretHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/)
    .default('x-herald-webhook-secret'),
});
/** Infobip carrier config as stored (defaults not yet applied). */
export type InfobipConfig = z.input<typeof infobipConfigSchema>;

/** Infobip's validity period range for SMS, seconds (48 hours at most). */
export const INFOBIP_MAX_VALIDITY_SECONDS = 172_800;
export const INFOBIP_MIN_VALIDITY_SECONDS = 60;
/** Infobip's path for sending SMS (API v3). */
export const INFOBIP_SEND_PATH = '/sms/3/messages';

/** Status name of a repeated `messageId`: the first submission holds the message. */
const DUPLICATE_MESSAGE_ID = 'REJECTED_DUPLICATE_MESSAGE_ID';

/** Rejected statuses by name → class and our code; unknown rejections fail over. */
const REJECTIONS: Readonly<Record<string, readonly [CarrierErrorClass, string]>> = {
  REJECTED_DESTINATION: ['permanent', 'invalid_number'],
  REJECTED_PREFIX_MISSING: ['permanent', 'invalid_number'],
  MISSING_TO: ['permanent', 'invalid_number'],
  REJECTED_DND: ['permanent', 'opted_out'],
  REJECTED_DESTINATION_BLOCKLISTED: ['permanent', 'number_barred'],
  REJECTED_MESSAGE_TOO_LONG: ['permanent', 'body_too_long'],
  REJECTED_INVALID_UDH: ['permanent', 'invalid_message'],
  SIGNALS_BLOCKED: ['permanent', 'content_rejected'],
  REJECTED_FLOODING_FILTER: ['permanent', 'flooding_filter'],
  REJECTED_NOT_ENOUGH_CREDITS: ['failover', 'insufficient_credit'],
  REJECTED_PREPAID_PACKAGE_EXPIRED: ['failover', 'insufficient_credit'],
  REJECTED_NETWORK: ['failover', 'route_unsupported'],
  REJECTED_ROUTE_NOT_AVAILABLE: ['failover', 'route_unsupported'],
  REJECTED_SOURCE: ['failover', 'sender_not_allowed'],
  REJECTED_SENDER: ['failover', 'sender_not_allowed'],
  REJECTED_DESTINATION_NOT_REGISTERED: ['failover', 'destination_not_whitelisted'],
  UNDELIVERABLE_REJECTED_PLATFORM: ['failover', 'carrier_rejected'],
  REJECTED_SYSTEM_ERROR: ['retry', 'carrier_error'],
};

/** Report `status.groupName` → our receipt status. */
const REPORT_GROUPS: Readonly<Record<string, ReceiptStatus>> = {
  PENDING: 'enroute',
  DELIVERED: 'delivered',
  UNDELIVERABLE: 'undelivered',
  EXPIRED: 'expired',
  REJECTED: 'failed',
};

const scalar = z.union([z.string(), z.number()]).transform(String);

const statusSchema = z.object({
  groupId: z.number().int().optional(),
  groupName: z.string().min(1),
  id: z.number().int().optional(),
  name: z.string().optional(),
  description: z.string().optional(),
});

const replySchema = z.object({
  bulkId: z.string().optional(),
  messages: z
    .array(
      z.object({
        messageId: scalar.optional(),
        status: statusSchema,
        destination: z.string().optional(),
        details: z.object({ messageCount: z.number().int().positive().optional() }).optional(),
      }),
    )
    .min(1),
});

const errorReplySchema = z.object({
  errorCode: z.string().optional(),
  description: z.string().optional(),
  action: z.string().nullish(),
  violations: z
    .array(z.object({ property: z.string().optional(), violation: z.string().optional() }))
    .optional(),
});

const reportSchema = z.object({
  results: z
    .array(
      z.object({
        messageId: scalar,
        to: z.string().optional(),
        doneAt: z.string().optional(),
        messageCount: z.number().int().optional(),
        callbackData: z.string().optional(),
        status: statusSchema,
        error: z
          .object({
            id: z.number().int().optional(),
            name: z.string().optional(),
            description: z.string().optional(),
            permanent: z.boolean().optional(),
          })
          .nullish(),
      }),
    )
    .min(1),
});

/** Builds the Infobip adapter; `config` is parsed with `infobipConfigSchema` (throws on bad config). */
export function createInfobipAdapter(config: InfobipConfig): CarrierAdapter {
  const cfg = infobipConfigSchema.parse(config);
  const endpoint = carrierUrl(cfg.baseUrl, INFOBIP_SEND_PATH);
  return {
    kind: 'infobip',
    async submit(req: SubmitRequest): Promise<SubmitResult> {
      const out = await httpCall(endpoint, {
        method: 'POST',
        headers: {
          authorization: `App ${cfg.apiKey}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(infobipRequestBody(req)),
        timeoutMs: cfg.timeoutMs,
      });
      return out.ok ? interpretInfobipReply(out.reply) : out;
    },
    parseReceipts: parseInfobipReceipts,
    verify(req) {
      if (cfg.webhookSecret === undefined) return true;
      try {
        return verifySharedSecret(req, cfg.webhookSecretHeader, cfg.webhookSecret) && midAgrees(req);
      } catch {
        return false;
      }
    },
    receiptAck: { status: 200, contentType: 'text/plain', body: '' },
    parseInbound: parseInfobipInbound,
  };
}

/** Infobip's inbound-message webhook body (the shape of `GET /sms/1/inbox/reports`). */
const inboundSchema = z.object({
  results: z
    .array(
      z.object({
        messageId: scalar,
        from: z.string(),
        to: z.string(),
        text: z.string().optional(),
        cleanText: z.string().optional(),
        keyword: z.string().optional(),
        receivedAt: z.string().optional(),
        smsCount: z.number().int().optional(),
      }),
    )
    .min(1),
});

/**
 * An inbound-message webhook → one message per result (Infobip reassembles concatenated messages
 * and batches several in one post). Throws `ReceiptParseError`.
 */
export function parseInfobipInbound(req: InboundHttp): InboundPart[] {
  const type = mediaType(req);
  if (type !== '' && type !== 'application/json') {
    throw new ReceiptParseError(`Infobip inbound messages must be JSON, got ${type}`);
  }
  const parsed = inboundSchema.safeParse(parseJsonSafe(req.rawBody));
  if (!parsed.success) throw new ReceiptParseError('Infobip inbound: not a results list');
  return parsed.data.results.map((r) => ({
    carrierMessageId: r.messageId,
    from: inboundAddress(r.from, 'from'),
    to: inboundAddress(r.to, 'to'),
    // `text` is the whole message; `cleanText` drops a keyword Infobip matched.
    text: r.text ?? r.cleanText ?? '',
  }));
}

/** The `/sms/3/messages` body for one message, in Infobip's documented shape. */
export function infobipRequestBody(req: SubmitRequest): unknown {
  return {
    messages: [
      {
        sender: /^\+\d+$/.test(req.from) ? req.from.slice(1) : req.from,
        destinations: [{ to: req.to.replace(/^\+/, ''), messageId: req.messageId }],
        content: { text: req.body },
        options: { validityPeriod: { amount: infobipValidity(req.validitySeconds), timeUnit: 'SECONDS' } },
        webhooks: {
          delivery: { url: req.statusCallbackUrl, intermediateReport: false },
          contentType: 'application/json',
          callbackData: req.messageId,
        },
      },
    ],
    options: { includeSmsCountInResponse: true },
  };
}

/** Clamps our validity to Infobip's range (whole seconds). */
export function infobipValidity(seconds: number): number {
  if (!Number.isFinite(seconds)) return INFOBIP_MAX_VALIDITY_SECONDS;
  return Math.min(INFOBIP_MAX_VALIDITY_SECONDS, Math.max(INFOBIP_MIN_VALIDITY_SECONDS, Math.floor(seconds)));
}

/** A `/sms/3/messages` reply → `SubmitResult`. A 2xx we cannot read is `ambiguous`. */
export function interpretInfobipReply(reply: HttpReply): SubmitResult {
  if (reply.status < 200 || reply.status >= 300) {
    const retryAfterMs = parseRetryAfter(reply.headers.get('retry-after'));
    const body = errorReplySchema.safeParse(parseJsonSafe(reply.text));
    return {
      ok: false,
      error: classifyInfobipError(reply.status, body.success ? body.data : {}, retryAfterMs),
    };
  }
  const parsed = replySchema.safeParse(parseJsonSafe(reply.text));
  if (!parsed.success)
    return { ok: false, error: unreadableReply(reply.status, 'Infobip', 'not a message list') };
  const [first] = parsed.data.messages;
  if (!first?.messageId)
    return { ok: false, error: unreadableReply(reply.status, 'Infobip', 'no messageId') };
  const { status } = first;
  const name = status.name ?? status.groupName;
  if (status.groupName === 'PENDING' || status.groupName === 'DELIVERED' || name === DUPLICATE_MESSAGE_ID) {
    const segments = first.details?.messageCount;
    return {
      ok: true,
      carrierMessageId: first.messageId,
      ...(segments !== undefined ? { segments } : {}),
    };
  }
  return { ok: false, error: classifyInfobipStatus(status) };
}

/** A REJECTED (or otherwise not pending) message status → `CarrierError`, keeping its name. */
export function classifyInfobipStatus(status: z.infer<typeof statusSchema>): CarrierError {
  const name = status.name ?? status.groupName;
  const message = status.description || `Infobip status ${name}`;
  const known = REJECTIONS[name];
  if (!known) return carrierError('failover', 'carrier_rejected', message, { carrierCode: name });
  const [cls, code] = known;
  return carrierError(cls, code, message, { carrierCode: name });
}

/**
 * A non-2xx reply: 400 whose violations name the destination → permanent; any other 400 means
 * this carrier will not take our request → failover; 401/403, 429 and 5xx by status.
 */
export function classifyInfobipError(
  httpStatus: number,
  body: z.infer<typeof errorReplySchema>,
  retryAfterMs?: number,
): CarrierError {
  const byStatus = classifyHttpStatus(httpStatus, retryAfterMs);
  const carrierCode = body.errorCode ?? byStatus.carrierCode;
  const violations = body.violations ?? [];
  const detail = violations.map((v) => `${v.property ?? '?'}: ${v.violation ?? '?'}`).join('; ');
  const message = [body.description, detail].filter(Boolean).join(' — ') || byStatus.message;
  if (httpStatus === 400 && violations.some((v) => /(^|\.)to$/.test(v.property ?? ''))) {
    return carrierError('permanent', 'invalid_number', message, { carrierCode });
  }
  if (httpStatus === 400) return carrierError('failover', 'invalid_request', message, { carrierCode });
  return { ...byStatus, message, ...(carrierCode !== undefined ? { carrierCode } : {}) };
}

/** The JSON body of a delivery-report webhook, validated. Throws `ReceiptParseError`. */
function readReport(req: InboundHttp): z.infer<typeof reportSchema> {
  const type = mediaType(req);
  if (type !== '' && type !== 'application/json') {
    throw new ReceiptParseError(`Infobip report must be JSON, got ${type}`);
  }
  if (req.rawBody.trim() === '') throw new ReceiptParseError('Infobip report: empty body');
  const parsed = reportSchema.safeParse(parseJsonSafe(req.rawBody));
  if (!parsed.success) throw new ReceiptParseError('Infobip report: not a results list');
  return parsed.data;
}

/**
 * A delivery-report webhook → one receipt per result (Infobip batches several reports in one
 * POST). Our message id comes from `callbackData`, else from the URL's `mid` when the post holds
 * a single result. Throws `ReceiptParseError` on a malformed body.
 */
export function parseInfobipReceipts(req: InboundHttp): Receipt[] {
  const { results } = readReport(req);
  const urlMid = results.length === 1 ? messageIdFromUrl(req.url) : undefined;
  return results.map((r): Receipt => {
    const messageId = r.callbackData || urlMid;
    const err = r.error && (r.error.id ?? 0) !== 0 ? r.error : undefined;
    const errorCode = err ? (err.name ?? String(err.id)) : undefined;
    const errorMessage = err
      ? `${err.description ?? err.name ?? 'error'}${err.permanent ? ' (permanent)' : ''}`
      : undefined;
    const at = infobipTime(r.doneAt);
    return {
      carrierMessageId: r.messageId,
      ...(messageId ? { messageId } : {}),
      status: REPORT_GROUPS[r.status.groupName] ?? 'enroute',
      carrierStatus: r.status.name ?? r.status.groupName,
      ...(errorCode ? { errorCode } : {}),
      ...(errorMessage ? { errorMessage } : {}),
      ...(at ? { at } : {}),
    };
  });
}

/** "2019-11-09T16:00:00.000+0000" → ISO-8601 UTC; undefined when unreadable. */
function infobipTime(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const t = Date.parse(raw.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/**
 * The callback URL's `mid` must name one of the report's messages: a shared secret does not
 * cover the URL, so a report re-addressed to another message is refused.
 */
function midAgrees(req: InboundHttp): boolean {
  const mid = messageIdFromUrl(req.url);
  if (mid === undefined) return true;
  try {
    const ours = readReport(req).results.map((r) => r.callbackData);
    return ours.every((c) => c === undefined) || ours.includes(mid);
  } catch {
    // An unreadable body is refused later by parseReceipts; the secret was right.
    return true;
  }
}
