/**
 * zod schemas of what the API answers (api/serialize.ts builds these shapes). They document the
 * responses in `/openapi.json` and check its examples in tests; the API does not parse its own
 * output with them. Objects are loose: a field added later does not break a client.
 */

import { z } from 'zod';
import { TWILIO_STATUSES } from '../adapters/twilio-format.ts';
import { PRIORITIES } from '../domain/priority.ts';
import { MESSAGE_STATUSES } from '../domain/status.ts';
import { VERIFICATION_STATUSES } from '../domain/verification.ts';

/** Six-place decimal amount string. */
const money = z
  .string()
  .regex(/^-?\d+\.\d{6}$/)
  .meta({ description: 'Decimal amount, six places', example: '0.008500' });
const isoTime = z.iso.datetime().meta({ description: 'ISO-8601 UTC' });

/** `{ "error": { "code", "message", "details"? } }`, the one error shape. */
export const errorResponse = z.looseObject({
  error: z.looseObject({
    code: z
      .string()
      .regex(/^[a-z_]+$/)
      .meta({ description: 'snake_case error code' }),
    message: z.string(),
    details: z.unknown().optional().meta({ description: 'Per-field problems for invalid_request' }),
  }),
});

export const balanceResponse = z.looseObject({
  available: money,
  reserved: money,
  currency: z.string().length(3),
});

export const accountCreatedResponse = z.looseObject({
  id: z.string().startsWith('acc_'),
  name: z.string(),
  apiKey: z.string().meta({ description: 'Shown once; only its hash is stored' }),
});

const attempt = z.looseObject({
  carrier: z.string(),
  outcome: z.enum(['accepted', 'retry', 'failover', 'permanent', 'ambiguous']).nullable(),
  errorCode: z.string().nullable(),
  carrierCost: money.nullable().meta({
    description: 'What the carrier reported it billed (its account currency); null if it did not say',
  }),
  at: isoTime,
});

const event = z.looseObject({ status: z.enum(MESSAGE_STATUSES), at: isoTime });

export const messageResponse = z.looseObject({
  id: z.string().startsWith('msg_'),
  status: z.enum(MESSAGE_STATUSES),
  to: z.string(),
  from: z.string(),
  body: z.string(),
  country: z.string().length(2),
  encoding: z.enum(['GSM-7', 'UCS-2']),
  segments: z.int().min(1),
  priority: z
    .enum(PRIORITIES)
    .meta({ description: 'Lane: `high` is dispatched before `normal`, `normal` before `low`' }),
  quote: money,
  price: money.nullable(),
  carrierCost: money.nullable().optional().meta({
    description: 'Single-message view only: what the carriers reported they billed, next to `price`',
  }),
  carrier: z.string().nullable(),
  carrierMessageId: z.string().nullable(),
  error: z
    .looseObject({ code: z.string(), message: z.string(), carrierCode: z.string().optional() })
    .nullable(),
  attempts: z.array(attempt).optional().meta({ description: 'Single-message view only' }),
  charges: z
    .array(z.looseObject({ leg: z.enum(['first', 'failover']), captured: money, refunded: money }))
    .optional()
    .meta({
      description:
        'Single-message view only: what each submission was charged (a failover after a negative receipt is a second leg) and refunded',
    }),
  events: z.array(event).optional().meta({ description: 'Single-message view only' }),
  callbacks: z
    .array(
      z.looseObject({
        eventId: z.string(),
        status: z.enum(MESSAGE_STATUSES),
        attempt: z.int().nullable(),
        outcome: z.string(),
        httpStatus: z.int().nullable(),
        error: z.string().nullable(),
        at: isoTime,
      }),
    )
    .optional()
    .meta({ description: 'Single-message view only: status callback delivery attempts' }),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const messageListResponse = z.looseObject({
  data: z.array(messageResponse),
  nextCursor: z.string().nullable(),
});

export const healthResponse = z.looseObject({ status: z.literal('ok') });

export const readinessResponse = z.looseObject({
  status: z.enum(['ok', 'unavailable']),
  checks: z.looseObject({ database: z.enum(['ok', 'failed']), temporal: z.enum(['ok', 'failed']) }),
});

/** `GET /v1/webhook-secret` and its rotation. */
export const webhookSecretResponse = z.looseObject({
  secret: z.string().min(16),
  previousSecretExpiresAt: isoTime
    .nullable()
    .meta({ description: 'Until when the previous secret also signs' }),
});

/** `GET /v1/carriers` (admin): carriers with their routes' live scores and breaker state. */
export const carrierListResponse = z.looseObject({
  weights: z.record(z.string(), z.number()),
  data: z.array(
    z.looseObject({
      id: z.string(),
      kind: z.string(),
      enabled: z.boolean(),
      segmentsPerSecond: z.number(),
      routes: z.array(
        z.looseObject({
          country: z.string().length(2),
          price: money,
          score: z.number(),
          rank: z.int().nullable(),
          consecutiveFailures: z.int().min(0),
          circuit: z.looseObject({
            state: z.enum(['closed', 'open', 'half_open']),
            openedAt: isoTime.nullable(),
            probeStartedAt: isoTime.nullable(),
          }),
          billing: z
            .looseObject({
              attempts: z.int().min(1),
              billedPerSegment: money,
              configuredPerSegment: money,
              drift: z.string().regex(/^-?\d+\.\d{6}$/),
            })
            .nullable()
            .meta({
              description:
                'Last 7 days: what the carrier reported billing per segment (its account currency) against the configured price; null if it reported none',
            }),
        }),
      ),
    }),
  ),
});

/** `GET /v1/ledger`: entries newest first, each with the running balance after it. */
export const ledgerListResponse = z.looseObject({
  data: z.array(
    z.looseObject({
      id: z.string().regex(/^\d+$/).meta({ description: '64-bit integer as a string' }),
      kind: z.enum(['credit', 'reserve', 'capture', 'release', 'refund']),
      amount: money,
      messageId: z.string().nullable(),
      leg: z
        .enum(['first', 'failover'])
        .nullable()
        .meta({ description: 'Which submission of the message the entry is for; null for credits' }),
      available: money.meta({ description: 'Available balance right after this entry' }),
      reserved: money.meta({ description: 'Reserved balance right after this entry' }),
      reference: z.string().nullable(),
      createdAt: isoTime,
    }),
  ),
  nextCursor: z.string().nullable(),
});

/** A route's price per segment (admin). */
export const priceResponse = z.looseObject({
  carrierId: z.string(),
  country: z.string().length(2),
  price: money,
  enabled: z.boolean(),
  updatedAt: isoTime,
});

export const priceListResponse = z.looseObject({ data: z.array(priceResponse) });

/** `POST /v1/messages/quote`. */
export const quoteResponse = z.looseObject({
  to: z.string().meta({ description: 'E.164' }),
  country: z.string().length(2),
  encoding: z.enum(['GSM-7', 'UCS-2']),
  segments: z.int().min(1),
  units: z.int().min(0).meta({ description: 'GSM-7 septets or UCS-2 code units' }),
  price: z
    .looseObject({ min: money, max: money })
    .meta({ description: 'Per message over the eligible routes; a send reserves max' }),
  currency: z.string().length(3),
  routes: z.int().min(1).meta({ description: 'Eligible routes' }),
});

/** A carrier's receipt: its own format (Twilio form fields, Vonage JSON …), checked by its adapter. */
export const carrierReceiptBody = z.record(z.string(), z.unknown());

export const verificationResponse = z.looseObject({
  id: z.string().startsWith('ver_'),
  to: z.string(),
  country: z.string().length(2),
  status: z.enum(VERIFICATION_STATUSES),
  locale: z.string(),
  expiresAt: isoTime,
  checksLeft: z.int().min(0),
  sendsLeft: z.int().min(0),
  messageId: z.string().startsWith('msg_').nullable().meta({ description: 'The latest message sent for it' }),
  createdAt: isoTime,
  decidedAt: isoTime.nullable().meta({ description: 'When it left `pending`' }),
});

export const verificationListResponse = z.looseObject({
  data: z.array(verificationResponse),
  nextCursor: z.string().nullable(),
});

export const checkVerificationResponse = z.looseObject({
  status: z.enum(VERIFICATION_STATUSES),
  checksLeft: z.int().min(0),
});

export const fraudBlockResponse = z.looseObject({
  id: z.string().startsWith('blk_'),
  scope: z.enum(['prefix', 'country']),
  value: z
    .string()
    .meta({ description: 'The number prefix (E.164 without its last 3 digits) or the country' }),
  reason: z.string(),
  attempts: z.int().min(0).meta({ description: 'Requests in the spike window when it was blocked' }),
  verifications: z.int().min(0),
  approved: z.int().min(0),
  createdAt: isoTime,
  liftedAt: isoTime.nullable(),
});

export const fraudBlockListResponse = z.looseObject({ data: z.array(fraudBlockResponse) });

export const verificationSettingsResponse = z.looseObject({
  allowedCountries: z.array(z.string().length(2)),
});

export const optOutResponse = z.looseObject({
  number: z.string().meta({ description: 'E.164' }),
  source: z
    .enum(['api', 'keyword'])
    .meta({ description: '`api`: recorded by you; `keyword`: the owner texted STOP' }),
  createdAt: isoTime,
});

export const optOutListResponse = z.looseObject({
  data: z.array(optOutResponse),
  nextCursor: z.string().nullable(),
});

export const numberResponse = z.looseObject({
  sender: z.string(),
  accountId: z.string().startsWith('acc_'),
  kind: z.enum(['number', 'alphanumeric']),
  carrierId: z.string().nullable(),
  createdAt: isoTime,
});

export const numberListResponse = z.looseObject({ data: z.array(numberResponse) });

export const settingsResponse = z.looseObject({
  accountId: z
    .string()
    .startsWith('acc_')
    .meta({ description: 'Your account (an admin assigns numbers to it)' }),
  inboundUrl: z.string().nullable(),
  callbackUrl: z.string().nullable(),
  inboundFormat: z.enum(['herald', 'twilio']),
  stopReply: z.string().nullable().meta({ description: 'null: the default text' }),
  startReply: z.string().nullable(),
  helpReply: z.string().nullable(),
});

export const inboundResponse = z.looseObject({
  id: z.string().startsWith('inb_'),
  from: z.string().meta({ description: 'The mobile number that sent it, E.164' }),
  to: z.string().meta({ description: 'Your number (or sender id) it was sent to' }),
  body: z.string(),
  parts: z.int().min(1),
  keyword: z.enum(['stop', 'start', 'help']).nullable(),
  carrier: z.string(),
  replyMessageId: z.string().nullable().meta({ description: 'The keyword’s confirmation message' }),
  forward: z.looseObject({
    outcome: z
      .enum(['delivered', 'refused', 'gone', 'abandoned', 'none'])
      .nullable()
      .meta({ description: 'null while pending; `none`: no inboundUrl was set' }),
    attempts: z.int().min(0),
    at: isoTime.nullable(),
  }),
  receivedAt: isoTime,
});

export const inboundListResponse = z.looseObject({
  data: z.array(inboundResponse),
  nextCursor: z.string().nullable(),
});

export const twilioCredentialsResponse = z.looseObject({
  accountSid: z.string().regex(/^AC[0-9a-f]{32}$/),
  authToken: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .meta({ description: 'Shown once; keep it secret' }),
  rotated: z.boolean().meta({ description: 'true when this call replaced an earlier token' }),
});

/** Twilio's Message resource, as the Twilio-compatible API answers it. */
export const twilioMessageResponse = z.looseObject({
  sid: z.string().regex(/^SM[0-9a-f]{32}$/),
  account_sid: z.string().regex(/^AC[0-9a-f]{32}$/),
  api_version: z.literal('2010-04-01'),
  body: z.string(),
  from: z.string(),
  to: z.string(),
  status: z.enum(TWILIO_STATUSES),
  direction: z.literal('outbound-api'),
  num_segments: z.string(),
  num_media: z.string(),
  price: z.string().nullable(),
  price_unit: z.string(),
  error_code: z.int().nullable(),
  error_message: z.string().nullable(),
  date_created: z.string().meta({ description: 'RFC 2822' }),
  date_updated: z.string(),
  date_sent: z.string().nullable(),
  messaging_service_sid: z.null(),
  uri: z.string(),
  subresource_uris: z.record(z.string(), z.string()),
});

export const twilioMessageListResponse = z.looseObject({
  messages: z.array(twilioMessageResponse),
  uri: z.string(),
  first_page_uri: z.string(),
  next_page_uri: z.string().nullable(),
  previous_page_uri: z.string().nullable(),
  page: z.int().min(0),
  page_size: z.int().min(1),
  start: z.int().min(0),
  end: z.int().min(0),
});

/** Twilio's error answer. */
export const twilioErrorResponse = z.looseObject({
  code: z.int(),
  message: z.string(),
  more_info: z.string(),
  status: z.int(),
});
