/**
 * zod schemas for every request body, query and header the API reads. They are the one source of
 * truth for validation and, later, for the OpenAPI document (`z.toJSONSchema(schema, { io: 'input' })`).
 */
import { z } from 'zod';
import { MoneyParseError, parseMoney } from '../domain/money.ts';
import { isPhoneCountry } from '../domain/phone.ts';
import { DEFAULT_PRIORITY, PRIORITIES } from '../domain/priority.ts';
import { MESSAGE_STATUSES } from '../domain/status.ts';

/** Longest validity period a client may ask for: 72 hours, the common carrier maximum. */
export const MAX_VALIDITY_SECONDS = 259_200;
/** Validity period when the client gives none: 4 hours. */
export const DEFAULT_VALIDITY_SECONDS = 14_400;
/** Sender when the client gives none. */
export const DEFAULT_SENDER = 'Herald';
/** Page size bounds for `GET /v1/messages`. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** Alphanumeric sender id (1–11 letters, digits or inner spaces) or an E.164 number. */
const SENDER_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9 ]{0,9}[A-Za-z0-9])?|\+[1-9]\d{6,14})$/;
/** Printable ASCII, 1–255 characters. */
const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/** A positive decimal amount string (`"10.00"`), parsed to micro-units. */
export const positiveAmount = z
  .string()
  .meta({ description: 'Positive decimal amount with at most six places', example: '10.00' })
  .transform((s, ctx) => {
    try {
      const micros = parseMoney(s);
      if (micros > 0n) return micros;
      ctx.addIssue({ code: 'custom', message: 'amount must be greater than zero' });
    } catch (err) {
      if (!(err instanceof MoneyParseError)) throw err;
      ctx.addIssue({ code: 'custom', message: err.message });
    }
    return z.NEVER;
  });

/** `POST /v1/accounts` (admin). */
export const createAccountBody = z.strictObject({
  name: z.string().trim().min(1).max(200).meta({ description: 'Display name of the account' }),
});

/** `POST /v1/accounts/:id/credits` (admin). */
export const addCreditBody = z.strictObject({
  amount: positiveAmount,
  reference: z
    .string()
    .min(1)
    .max(255)
    .optional()
    .meta({ description: "Caller's reference; unique per account, so a retried top-up is applied once" }),
});

/** `POST /v1/messages`. Body length and the number are checked after parsing, each with its own code. */
export const createMessageBody = z.strictObject({
  to: z.string().meta({ description: 'Destination in E.164 (`+14155550100`)' }),
  body: z
    .string()
    .refine((s) => s.trim() !== '', 'body must not be empty')
    .meta({ description: 'Text, at most 1600 characters (code points)' }),
  from: z
    .string()
    .regex(
      SENDER_PATTERN,
      'from must be an alphanumeric sender id (1-11 letters, digits, spaces) or an E.164 number',
    )
    .optional()
    .meta({ description: `Sender id; default "${DEFAULT_SENDER}"` }),
  callbackUrl: z
    .url({ protocol: /^https?$/, message: 'callbackUrl must be an http(s) URL' })
    .max(2048)
    .optional()
    .meta({ description: 'Where signed status callbacks go' }),
  validitySeconds: z
    .int()
    .min(1)
    .max(MAX_VALIDITY_SECONDS)
    .optional()
    .meta({ description: `Seconds the message may wait for delivery; default ${DEFAULT_VALIDITY_SECONDS}` }),
  priority: z
    .enum(PRIORITIES, { message: 'priority must be "high", "normal" or "low"' })
    .optional()
    .meta({
      description: `Lane: \`high\` (verification codes, alerts) goes before \`normal\`, \`normal\` before \`low\` (campaigns), on every queue the message waits in; default "${DEFAULT_PRIORITY}"`,
    }),
});
export type CreateMessageBody = z.output<typeof createMessageBody>;

/** The `Idempotency-Key` header of `POST /v1/messages`, when present. */
export const idempotencyKeyHeader = z
  .string()
  .regex(IDEMPOTENCY_KEY_PATTERN, 'Idempotency-Key must be 1-255 printable ASCII characters');

/** `GET /v1/messages` query. */
export const listMessagesQuery = z.strictObject({
  status: z.enum(MESSAGE_STATUSES).optional(),
  priority: z.enum(PRIORITIES).optional().meta({ description: 'Only messages of this lane' }),
  to: z.string().min(1).optional().meta({ description: 'Destination number (E.164)' }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1).max(512).optional().meta({ description: 'nextCursor of the previous page' }),
});
export type ListMessagesQuery = z.output<typeof listMessagesQuery>;

/** `POST /v1/messages/quote`: what a send would cost, without sending. */
export const quoteMessageBody = createMessageBody.pick({ to: true, body: true });
export type QuoteMessageBody = z.output<typeof quoteMessageBody>;

/** `GET /v1/ledger` and `GET /v1/accounts/:id/ledger` query. */
export const listLedgerQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1).max(512).optional().meta({ description: 'nextCursor of the previous page' }),
});

/** `POST /v1/accounts/:id/refunds` (admin). */
export const refundBody = z.strictObject({
  messageId: z.string().min(1).max(64).meta({ description: 'The charged message' }),
  amount: positiveAmount.meta({
    description: 'At most what the message was charged; one refund per message',
    example: '0.007900',
  }),
});

/** A country a price applies to: ISO 3166-1 alpha-2, uppercase, one that has phone numbers. */
export const countryCode = z
  .string()
  .refine(isPhoneCountry, 'country must be an uppercase ISO 3166-1 alpha-2 code (e.g. "US")')
  .meta({ description: 'ISO 3166-1 alpha-2, uppercase', example: 'US' });

/** `GET /v1/prices` query (admin). */
export const listPricesQuery = z.strictObject({
  carrierId: z.string().min(1).max(100).optional().meta({ description: 'Only this carrier' }),
  country: countryCode.optional(),
});

/** `PUT /v1/prices/:carrierId/:country` (admin). */
export const upsertPriceBody = z.strictObject({
  price: positiveAmount.meta({ description: 'Per segment, at most six decimal places', example: '0.007900' }),
  enabled: z.boolean().default(true).meta({ description: 'Default true' }),
});

/** Longest grace period of a rotated webhook secret: 7 days. */
export const MAX_SECRET_GRACE_SECONDS = 604_800;
/** Grace period when the client gives none: 24 hours. */
export const DEFAULT_SECRET_GRACE_SECONDS = 86_400;

/** `POST /v1/webhook-secret/rotate` (body optional). */
export const rotateWebhookSecretBody = z.strictObject({
  gracePeriodSeconds: z
    .int()
    .min(0)
    .max(MAX_SECRET_GRACE_SECONDS)
    .default(DEFAULT_SECRET_GRACE_SECONDS)
    .meta({
      description: `Seconds the previous secret keeps signing callbacks next to the new one (a second v1=); 0 stops it at once. Default ${DEFAULT_SECRET_GRACE_SECONDS}`,
    }),
});
