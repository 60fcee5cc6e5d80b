/**
 * zod schemas for every request body, query and header the API reads. They are the one source of
 * truth for validation and, later, for the OpenAPI document (`z.toJSONSchema(schema, { io: 'input' })`).
 */
import { z } from 'zod';
import { MoneyParseError, parseMoney } from '../domain/money.ts';
import { isPhoneCountry, PHONE_COUNTRIES } from '../domain/phone.ts';
import { DEFAULT_PRIORITY, PRIORITIES } from '../domain/priority.ts';
import { DEFAULT_SENDER } from '../domain/senders.ts';
import { MESSAGE_STATUSES } from '../domain/status.ts';
import {
  CODE_LENGTH,
  TTL_SECONDS,
  VERIFICATION_LOCALES,
  VERIFICATION_STATUSES,
} from '../domain/verification.ts';

/** Longest validity period a client may ask for: 72 hours, the common carrier maximum. */
export const MAX_VALIDITY_SECONDS = 259_200;
/** Validity period when the client gives none: 4 hours. */
export const DEFAULT_VALIDITY_SECONDS = 14_400;
/** Sender when the client gives none. */
export { DEFAULT_SENDER };
/** Page size bounds for `GET /v1/messages`. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** Alphanumeric sender id (1–11 letters, digits or inner spaces) or an E.164 number. */
const SENDER_PATTERN = /^(?:[A-Za-z0-9](?:[A-Za-z0-9 ]{0,9}[A-Za-z0-9])?|\+[1-9]\d{6,14})$/;
/** PostgreSQL text cannot hold U+0000: every string that is stored or looked up refuses it. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what this refuses.
const NO_NUL = /^[^\u0000]*$/;
const NO_NUL_MESSAGE = 'must not contain NUL (U+0000) characters';

/** What a number may look like before it is checked for real: `+`, then digits and separators. */
const PHONE_PATTERN = /^\s*\+[\d\s().\-/]{4,40}$/;
/** Printable ASCII, 1–255 characters. */
const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7e]{1,255}$/;

/**
 * A positive plain decimal with at most 12 integer digits and six places, as a JSON Schema pattern
 * can say it (no lookahead): a non-zero integer part, or a zero one with a non-zero fraction.
 */
const POSITIVE_AMOUNT_PATTERN =
  /^(?:0*[1-9]\d{0,11}(?:\.\d{1,6})?|0+\.(?:[1-9]\d{0,5}|0[1-9]\d{0,4}|00[1-9]\d{0,3}|000[1-9]\d{0,2}|0000[1-9]\d?|00000[1-9]))$/;

/** A positive decimal amount string (`"10.00"`), parsed to micro-units. */
export const positiveAmount = z
  .string()
  .regex(
    POSITIVE_AMOUNT_PATTERN,
    'amount must be a positive plain decimal like "10.50" (at most 12 digits before the point and 6 after)',
  )
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
  name: z
    .string()
    .regex(NO_NUL, `name ${NO_NUL_MESSAGE}`)
    .trim()
    .min(1)
    .max(200)
    .meta({ description: 'Display name of the account' }),
});

/** `POST /v1/accounts/:id/credits` (admin). */
export const addCreditBody = z.strictObject({
  amount: positiveAmount,
  reference: z
    .string()
    .min(1)
    .max(255)
    .regex(NO_NUL, `reference ${NO_NUL_MESSAGE}`)
    .optional()
    .meta({ description: "Caller's reference; unique per account, so a retried top-up is applied once" }),
});

/** `POST /v1/messages`. Body length and the number are checked after parsing, each with its own code. */
export const createMessageBody = z.strictObject({
  // The pattern is documented, not enforced here: checkMessageInput refuses a bad number with its
  // own code (`invalid_phone_number`), which clients match on.
  to: z.string().meta({
    pattern: PHONE_PATTERN.source,
    description:
      'Destination in E.164 (`+14155550100`); spaces, dots, dashes, slashes and parentheses between digits are ignored',
  }),
  body: z
    .string()
    .regex(/\S/, 'body must not be empty')
    .regex(NO_NUL, `body ${NO_NUL_MESSAGE}`)
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

/** An opaque page cursor: a previous page's `nextCursor`, as is. */
const cursorParam = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,512}$/, 'cursor must be a nextCursor from a previous page')
  .optional()
  .meta({
    description:
      'Opaque: the `nextCursor` of the previous page, passed back unchanged. Anything else answers 400 `invalid_cursor`.',
  });

/** `GET /v1/messages` query. */
export const listMessagesQuery = z.strictObject({
  status: z.enum(MESSAGE_STATUSES).optional(),
  priority: z.enum(PRIORITIES).optional().meta({ description: 'Only messages of this lane' }),
  to: z
    .string()
    .min(1)
    .regex(NO_NUL, `to ${NO_NUL_MESSAGE}`)
    .optional()
    .meta({ description: 'Destination number (E.164)' }),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: cursorParam,
});
export type ListMessagesQuery = z.output<typeof listMessagesQuery>;

/** `POST /v1/messages/quote`: what a send would cost, without sending. */
export const quoteMessageBody = createMessageBody.pick({ to: true, body: true });
export type QuoteMessageBody = z.output<typeof quoteMessageBody>;

/** `GET /v1/ledger` and `GET /v1/accounts/:id/ledger` query. */
export const listLedgerQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: cursorParam,
});

/** `POST /v1/accounts/:id/refunds` (admin). */
export const refundBody = z.strictObject({
  messageId: z
    .string()
    .min(1)
    .max(64)
    .regex(NO_NUL, `messageId ${NO_NUL_MESSAGE}`)
    .meta({ description: 'The charged message' }),
  amount: positiveAmount.meta({
    description: 'At most what the message was charged; one refund per message',
    example: '0.007900',
  }),
});

/** A country a price applies to: ISO 3166-1 alpha-2, uppercase, one that has phone numbers. */
export const countryCode = z
  .string()
  .refine(isPhoneCountry, 'country must be an uppercase ISO 3166-1 alpha-2 code (e.g. "US")')
  // The document lists them (a refine says nothing to a client generated from it).
  .meta({ enum: [...PHONE_COUNTRIES] })
  .meta({ description: 'ISO 3166-1 alpha-2, uppercase', example: 'US' });

/** A carrier id in a body or query: 1–100 characters, no U+0000. */
const carrierIdText = z.string().min(1).max(100).regex(NO_NUL, `carrierId ${NO_NUL_MESSAGE}`);

/** `GET /v1/prices` query (admin). */
export const listPricesQuery = z.strictObject({
  carrierId: carrierIdText.optional().meta({ description: 'Only this carrier' }),
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

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this refuses.
const APP_NAME_PATTERN = /^[^\u0000-\u001f{}]{1,30}$/;
/** Somewhere a `{{code}}`, and no U+0000. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what this refuses.
const TEMPLATE_PATTERN = /^[^\u0000]*\{\{code\}\}[^\u0000]*$/;

/** Longest verification template (three GSM-7 segments). */
export const MAX_TEMPLATE_CHARS = 459;

/** `POST /v1/verifications`. The number is checked after parsing, with its own code, as for sending. */
export const createVerificationBody = z.strictObject({
  to: createMessageBody.shape.to,
  codeLength: z
    .int()
    .min(CODE_LENGTH.min)
    .max(CODE_LENGTH.max)
    .optional()
    .meta({ description: `Digits of the code; default ${CODE_LENGTH.default}` }),
  ttlSeconds: z
    .int()
    .min(TTL_SECONDS.min)
    .max(TTL_SECONDS.max)
    .optional()
    .meta({ description: `Seconds the code stays valid; default ${TTL_SECONDS.default}` }),
  locale: z
    .enum(VERIFICATION_LOCALES)
    .optional()
    .meta({ description: 'Language of the built-in template; default "en"' }),
  appName: z
    .string()
    .regex(APP_NAME_PATTERN, 'appName must be 1-30 characters without control characters or braces')
    .optional()
    .meta({ description: 'Named in the built-in template, and {{appName}} in your own' }),
  template: z
    .string()
    .max(MAX_TEMPLATE_CHARS)
    .regex(TEMPLATE_PATTERN, 'template must contain {{code}} (and no NUL characters)')
    .optional()
    .meta({
      description:
        'Your own text instead of the built-in one: `{{code}}` (its first occurrence) becomes the code, `{{appName}}` the app name',
    }),
});
export type CreateVerificationBody = z.output<typeof createVerificationBody>;

/** `POST /v1/verifications/:id/check`. The length must be the verification's own (else 400, not a check). */
export const checkVerificationBody = z.strictObject({
  code: z
    .string()
    .regex(/^[0-9]{4,10}$/, 'code must be 4-10 digits')
    .meta({ description: 'The code the user typed: digits only, as many as the verification has' }),
});

/** `GET /v1/verifications` query. */
export const listVerificationsQuery = z.strictObject({
  status: z.enum(VERIFICATION_STATUSES).optional(),
  to: listMessagesQuery.shape.to,
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: cursorParam,
});

/** `GET /v1/fraud/blocks` query (admin). */
export const listFraudBlocksQuery = z.strictObject({
  includeLifted: z
    .enum(['true', 'false'])
    .optional()
    .meta({ description: 'Also lifted blocks; default "false" (active ones only)' }),
});

/** `PUT /v1/accounts/:id/verification-settings` (admin): the account's geo permissions. */
export const verificationSettingsBody = z.strictObject({
  allowedCountries: z.array(countryCode).max(250).meta({
    description: 'Countries the account may send verification codes to (replaces the list); [] allows none',
  }),
});

/** `POST /v1/opt-outs`. The number is checked after parsing, with its own code, as for sending. */
export const createOptOutBody = z.strictObject({
  number: createMessageBody.shape.to,
});

/** `GET /v1/opt-outs` query. */
export const listOptOutsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: cursorParam,
});

/** `POST /v1/numbers` (admin): a sender number or id for an account. */
export const assignNumberBody = z.strictObject({
  sender: z
    .string()
    .regex(
      SENDER_PATTERN,
      'sender must be an E.164 number or an alphanumeric sender id (1-11 letters, digits, spaces)',
    )
    .meta({ description: 'E.164 number (`+14155550100`) or alphanumeric sender id (`Acme`)' }),
  accountId: z
    .string()
    .regex(/^acc_[0-9a-z]{1,60}$/, 'accountId must be an account id (acc_…)')
    .meta({ description: 'The account that may send from it (and receives its inbound messages)' }),
  carrierId: carrierIdText.optional().meta({ description: 'The carrier it is provisioned on; default any' }),
});

/** `GET /v1/numbers` query (admin). */
export const listNumbersQuery = z.strictObject({
  accountId: z.string().min(1).max(64).regex(NO_NUL, `accountId ${NO_NUL_MESSAGE}`).optional(),
});

/** An http(s) URL a signed callback may go to (checked against SSRF rules by the route). */
const webhookUrl = (field: string) =>
  z.url({ protocol: /^https?$/, message: `${field} must be an http(s) URL` }).max(2048);

/** A keyword reply: null restores the default text, "" sends none. */
const keywordReplyText = z.string().max(640).regex(NO_NUL, NO_NUL_MESSAGE).nullable().optional();

/** `PUT /v1/settings`: the fields given replace the current ones; null clears a URL. */
export const accountSettingsBody = z.strictObject({
  inboundUrl: webhookUrl('inboundUrl')
    .nullable()
    .optional()
    .meta({ description: 'Where inbound messages are forwarded (signed); null: stored only' }),
  callbackUrl: webhookUrl('callbackUrl')
    .nullable()
    .optional()
    .meta({ description: 'Status callback URL of a send that names none' }),
  inboundFormat: z.enum(['herald', 'twilio']).optional().meta({
    description: '`herald`: JSON with Herald-Signature; `twilio`: Twilio’s form post with X-Twilio-Signature',
  }),
  stopReply: keywordReplyText.meta({ description: 'Reply to STOP; null: the default text, "": none' }),
  startReply: keywordReplyText.meta({ description: 'Reply to START; null: the default text, "": none' }),
  helpReply: keywordReplyText.meta({ description: 'Reply to HELP; null: the default text, "": none' }),
});

/** `GET /v1/inbound` query. */
export const listInboundQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: cursorParam,
  from: z
    .string()
    .max(64)
    .regex(NO_NUL, `from ${NO_NUL_MESSAGE}`)
    .optional()
    .meta({ description: 'Only from this number (E.164)' }),
  to: z
    .string()
    .max(64)
    .regex(NO_NUL, `to ${NO_NUL_MESSAGE}`)
    .optional()
    .meta({ description: 'Only to this number or sender id' }),
});

/** `POST /2010-04-01/Accounts/{AccountSid}/Messages.json` (form-encoded), as Twilio documents it. */
export const twilioCreateMessageBody = z.looseObject({
  To: z.string().meta({ description: 'E.164 recipient' }),
  From: z.string().meta({ description: 'One of your numbers or sender ids, or "Herald"' }),
  Body: z.string(),
  StatusCallback: z.string().optional().meta({ description: 'Receives Twilio-format status callbacks' }),
  ValidityPeriod: z.string().optional().meta({ description: 'Seconds, 1-36000' }),
});

/** `GET /2010-04-01/Accounts/{AccountSid}/Messages.json` query. */
export const twilioListMessagesQuery = z.looseObject({
  To: z.string().optional(),
  From: z.string().optional(),
  PageSize: z.string().optional().meta({ description: 'Default 50; pages hold at most 100' }),
  Page: z.string().optional(),
  PageToken: z.string().optional().meta({ description: 'From next_page_uri' }),
});
