/**
 * zod schemas of what the API answers (api/serialize.ts builds these shapes). They document the
 * responses in `/openapi.json` and check its examples in tests; the API does not parse its own
 * output with them. Objects are loose: a field added later does not break a client.
 */
import { z } from 'zod';
import { MESSAGE_STATUSES } from '../domain/status.ts';

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
  quote: money,
  price: money.nullable(),
  carrier: z.string().nullable(),
  carrierMessageId: z.string().nullable(),
  error: z
    .looseObject({ code: z.string(), message: z.string(), carrierCode: z.string().optional() })
    .nullable(),
  attempts: z.array(attempt).optional().meta({ description: 'Single-message view only' }),
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

/** A carrier's receipt: its own format (Twilio form fields, Vonage JSON …), checked by its adapter. */
export const carrierReceiptBody = z.record(z.string(), z.unknown());
