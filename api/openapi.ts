/**
 * The API reference (`GET /openapi.json`, OpenAPI 3.1) generated from the same zod schemas that
 * validate requests (api/schemas.ts) plus the response schemas (api/response-schemas.ts). Each
 * route is described once in {@link ROUTE_DOCS}; tests check that every Express route is listed
 * and that every example parses with its schema.
 */
import { z } from 'zod';
import {
  accountCreatedResponse,
  balanceResponse,
  carrierListResponse,
  carrierReceiptBody,
  checkVerificationResponse,
  errorResponse,
  fraudBlockListResponse,
  fraudBlockResponse,
  healthResponse,
  inboundListResponse,
  inboundResponse,
  ledgerListResponse,
  messageListResponse,
  messageResponse,
  numberListResponse,
  numberResponse,
  optOutListResponse,
  optOutResponse,
  priceListResponse,
  priceResponse,
  quoteResponse,
  readinessResponse,
  settingsResponse,
  twilioCredentialsResponse,
  twilioErrorResponse,
  twilioMessageListResponse,
  twilioMessageResponse,
  verificationListResponse,
  verificationResponse,
  verificationSettingsResponse,
  webhookSecretResponse,
} from './response-schemas.ts';
import {
  accountSettingsBody,
  addCreditBody,
  assignNumberBody,
  checkVerificationBody,
  countryCode,
  createAccountBody,
  createMessageBody,
  createOptOutBody,
  createVerificationBody,
  idempotencyKeyHeader,
  listFraudBlocksQuery,
  listInboundQuery,
  listLedgerQuery,
  listMessagesQuery,
  listNumbersQuery,
  listOptOutsQuery,
  listPricesQuery,
  listVerificationsQuery,
  quoteMessageBody,
  refundBody,
  rotateWebhookSecretBody,
  twilioCreateMessageBody,
  twilioListMessagesQuery,
  upsertPriceBody,
  verificationSettingsBody,
} from './schemas.ts';

/** Who may call a route: an account key, the admin key, or anyone (carriers sign their own requests). */
/** `twilio`: HTTP Basic with the account's Twilio-compatible sid and token. */
export type RouteAuth = 'account' | 'admin' | 'twilio' | 'none';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One response of a route. */
export interface ResponseDoc {
  readonly description: string;
  /** JSON body schema; none for bodies that are not JSON (see `contentType`). */
  readonly schema?: z.ZodType;
  /** Default `application/json` when a schema is given. */
  readonly contentType?: string;
  readonly example?: unknown;
}

/** One route as the reference shows it. */
export interface RouteDoc {
  readonly method: HttpMethod;
  /** Express syntax (`/v1/messages/:id`); converted to `{id}` in the document. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly auth: RouteAuth;
  /** Path parameters' schemas by name; a parameter not listed is a plain string. */
  readonly params?: Readonly<Record<string, z.ZodType>>;
  readonly body?: {
    readonly schema: z.ZodType;
    readonly example: unknown;
    /** The body may be left out (no body at all). Default false. */
    readonly optional?: boolean;
    /** Default `['application/json']`. */
    readonly contentTypes?: readonly string[];
  };
  readonly query?: z.ZodObject;
  readonly headers?: ReadonlyArray<{
    readonly name: string;
    readonly schema: z.ZodType;
    readonly description: string;
    readonly example?: string;
  }>;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
}

const TIME = '2026-11-26T10:00:00.000Z';
const MESSAGE_ID = 'msg_0h4z7x2m9k3q8r5t1v6w0y4b2c';
const ACCOUNT_ID = 'acc_5n8p2r4t6v8x0z2b4d6f8h0j2k';

const acceptedMessage = {
  id: MESSAGE_ID,
  status: 'accepted',
  to: '+14155552671',
  from: 'Herald',
  body: 'Your code is 123456',
  country: 'US',
  encoding: 'GSM-7',
  segments: 1,
  priority: 'high',
  quote: '0.008500',
  price: null,
  carrier: null,
  carrierMessageId: null,
  error: null,
  createdAt: TIME,
  updatedAt: TIME,
};

const deliveredMessage = {
  ...acceptedMessage,
  status: 'delivered',
  price: '0.007900',
  carrierCost: '0.007900',
  carrier: 'twilio-sim',
  carrierMessageId: 'SM0123456789abcdef0123456789abcdef',
  attempts: [
    { carrier: 'twilio-sim', outcome: 'accepted', errorCode: null, carrierCost: '0.007900', at: TIME },
  ],
  charges: [{ leg: 'first', captured: '0.007900', refunded: '0.000000' }],
  events: [
    { status: 'accepted', at: TIME },
    { status: 'queued', at: TIME },
    { status: 'sending', at: TIME },
    { status: 'sent', at: TIME },
    { status: 'delivered', at: TIME },
  ],
};

const webhookSecret = { secret: 'whsec_8f2b6c0e4a9d1f3b5c7e9a1d3f5b7c9e', previousSecretExpiresAt: null };

const carrierList = {
  weights: { acceptance: 0.25, delivery: 0.4, submitLatency: 0.05, receiptLatency: 0.05, price: 0.25 },
  data: [
    {
      id: 'twilio-sim',
      kind: 'twilio',
      enabled: true,
      segmentsPerSecond: 100,
      routes: [
        {
          country: 'US',
          price: '0.007900',
          score: 0.9731,
          rank: 1,
          consecutiveFailures: 0,
          circuit: { state: 'closed', openedAt: null, probeStartedAt: null },
          billing: {
            attempts: 1200,
            billedPerSegment: '0.008100',
            configuredPerSegment: '0.007900',
            drift: '0.000200',
          },
        },
      ],
    },
  ],
};

const balance = { available: '9.991500', reserved: '0.008500', currency: 'USD' };

const ledgerPage = {
  data: [
    {
      id: '3',
      kind: 'reserve',
      amount: '0.008500',
      messageId: MESSAGE_ID,
      leg: 'first',
      available: '9.991500',
      reserved: '0.008500',
      reference: null,
      createdAt: TIME,
    },
    {
      id: '1',
      kind: 'credit',
      amount: '10.000000',
      messageId: null,
      leg: null,
      available: '10.000000',
      reserved: '0.000000',
      reference: 'invoice-42',
      createdAt: TIME,
    },
  ],
  nextCursor: null,
};

const price = { carrierId: 'twilio-sim', country: 'US', price: '0.007900', enabled: true, updatedAt: TIME };

const quote = {
  to: '+14155552671',
  country: 'US',
  encoding: 'GSM-7',
  segments: 1,
  units: 19,
  price: { min: '0.007900', max: '0.008500' },
  currency: 'USD',
  routes: 2,
};

function error(description: string, code: string, message: string, details?: unknown): ResponseDoc {
  return {
    description,
    schema: errorResponse,
    example: { error: { code, message, ...(details === undefined ? {} : { details }) } },
  };
}

const unauthorized = error(
  'Missing or invalid key',
  'unauthorized',
  'missing or invalid API key (Authorization: Bearer <key>)',
);
const invalid = (message: string, field: string): ResponseDoc =>
  error('Invalid input', 'invalid_request', message, [{ field, message: message.split(': ').pop() }]);
const forbidden = error('An account key, not the admin key', 'forbidden', 'this call needs the admin key');
const messageNotFound = error('Unknown message, or another account’s', 'not_found', 'message not found');

const VERIFICATION_ID = 'ver_3k9m2p5r8t1v4x7z0b3d6f9h2j';
const pendingVerification = {
  id: VERIFICATION_ID,
  to: '+14155552671',
  country: 'US',
  status: 'pending',
  locale: 'en',
  expiresAt: '2026-11-26T10:10:00.000Z',
  checksLeft: 5,
  sendsLeft: 4,
  messageId: null,
  createdAt: TIME,
  decidedAt: null,
};
const verificationNotFound = error(
  'Unknown verification, or another account’s',
  'not_found',
  'verification not found',
);
const verificationsUnavailable = error(
  'Temporal unreachable, or the server has no VERIFY_SECRET',
  'service_unavailable',
  'could not reach the verification workflow; retry later',
);
const verificationDecided = error('Already decided', 'invalid_state', 'the verification is approved');

const fraudBlock = {
  id: 'blk_7h2k9m4p6r8t0v2x4z6b8d0f2h',
  scope: 'prefix',
  value: '+1415555',
  reason: 'low_conversion_spike',
  attempts: 30,
  verifications: 20,
  approved: 0,
  createdAt: TIME,
  liftedAt: null,
};

const assignedNumber = {
  sender: '+14155550100',
  accountId: ACCOUNT_ID,
  kind: 'number',
  carrierId: null,
  createdAt: TIME,
};

/** A carrier id in a path. */
const carrierIdParam = z.string().min(1).max(100).meta({ description: 'Carrier id, e.g. twilio-sim' });

/** Every route of the API. Add a route here when you add one to the app (a test insists). */

const accountSettings = {
  accountId: ACCOUNT_ID,
  inboundUrl: 'https://example.com/inbound',
  callbackUrl: null,
  inboundFormat: 'herald',
  stopReply: null,
  startReply: null,
  helpReply: 'Acme: reply STOP to opt out.',
};
const inboundMessage = {
  id: 'inb_7c2k9m4p6r8t0v2x4z6b8d0f2h',
  from: '+14155552671',
  to: '+14155550100',
  body: 'STOP',
  parts: 1,
  keyword: 'stop',
  carrier: 'twilio-sim',
  replyMessageId: MESSAGE_ID,
  forward: { outcome: 'delivered', attempts: 0, at: TIME },
  receivedAt: TIME,
};
const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
const twilioCredentials = (rotated: boolean) => ({
  accountSid: TWILIO_SID,
  authToken: '9f86d081884c7d659a2feaa0c55ad015',
  rotated,
});
const twilioMessage = {
  account_sid: TWILIO_SID,
  api_version: '2010-04-01',
  body: 'Hello',
  date_created: 'Thu, 26 Nov 2026 10:00:00 +0000',
  date_sent: null,
  date_updated: 'Thu, 26 Nov 2026 10:00:00 +0000',
  direction: 'outbound-api',
  error_code: null,
  error_message: null,
  from: '+14155550100',
  messaging_service_sid: null,
  num_media: '0',
  num_segments: '1',
  price: null,
  price_unit: 'USD',
  sid: 'SM0123456789abcdef0123456789abcdef',
  status: 'queued',
  subresource_uris: {
    media: `/2010-04-01/Accounts/${TWILIO_SID}/Messages/SM0123456789abcdef0123456789abcdef/Media.json`,
  },
  to: '+14155552671',
  uri: `/2010-04-01/Accounts/${TWILIO_SID}/Messages/SM0123456789abcdef0123456789abcdef.json`,
};
function twilioErr(status: number, code: number, message: string): ResponseDoc {
  return {
    description: 'Twilio’s error shape',
    schema: twilioErrorResponse,
    example: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
  };
}

export const ROUTE_DOCS: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/accounts',
    summary: 'Create an account',
    description: 'The account’s API key is in the answer, this once; only its hash is stored.',
    tag: 'Admin',
    auth: 'admin',
    body: { schema: createAccountBody, example: { name: 'Acme' } },
    responses: {
      201: {
        description: 'Created',
        schema: accountCreatedResponse,
        example: { id: ACCOUNT_ID, name: 'Acme', apiKey: 'hk_live_3f9a…' },
      },
      400: invalid('body field "name": Too small: expected string to have >=1 characters', 'name'),
      401: unauthorized,
      403: error('An account key, not the admin key', 'forbidden', 'this call needs the admin key'),
    },
  },
  {
    method: 'post',
    path: '/v1/accounts/:id/credits',
    summary: 'Add credit to an account',
    description: 'A `reference` makes the top-up idempotent: the same reference is applied once.',
    tag: 'Admin',
    auth: 'admin',
    body: { schema: addCreditBody, example: { amount: '10.00', reference: 'invoice-42' } },
    responses: {
      200: { description: 'The new balance', schema: balanceResponse, example: balance },
      400: invalid('body field "amount": amount must be greater than zero', 'amount'),
      401: unauthorized,
      403: error('An account key, not the admin key', 'forbidden', 'this call needs the admin key'),
      404: error('Unknown account', 'not_found', 'account not found'),
    },
  },
  {
    method: 'get',
    path: '/v1/carriers',
    summary: 'Carriers and their live route scores',
    description:
      'Per carrier and country: price, score and rank as the workers rank routes, the score’s inputs and terms, and the circuit breaker’s state.',
    tag: 'Admin',
    auth: 'admin',
    responses: {
      200: { description: 'Every carrier', schema: carrierListResponse, example: carrierList },
      401: unauthorized,
      403: error('An account key, not the admin key', 'forbidden', 'this call needs the admin key'),
    },
  },
  {
    method: 'get',
    path: '/v1/balance',
    summary: 'The caller’s balance',
    tag: 'Account',
    auth: 'account',
    responses: {
      200: { description: 'Available and reserved balance', schema: balanceResponse, example: balance },
      401: unauthorized,
    },
  },
  {
    method: 'get',
    path: '/v1/ledger',
    summary: 'The caller’s ledger, newest first',
    description:
      'Every balance change (credit, reserve, capture, release, refund) with the running balance after it.',
    tag: 'Account',
    auth: 'account',
    query: listLedgerQuery,
    responses: {
      200: { description: 'One page', schema: ledgerListResponse, example: ledgerPage },
      400: invalid('query field "limit": Too big: expected number to be <=100', 'limit'),
      401: unauthorized,
    },
  },
  {
    method: 'get',
    path: '/v1/accounts/:id/ledger',
    summary: 'An account’s ledger, newest first',
    tag: 'Admin',
    auth: 'admin',
    query: listLedgerQuery,
    responses: {
      200: { description: 'One page', schema: ledgerListResponse, example: ledgerPage },
      400: invalid('query field "limit": Too big: expected number to be <=100', 'limit'),
      401: unauthorized,
      403: forbidden,
      404: error('Unknown account', 'not_found', 'account not found'),
    },
  },
  {
    method: 'post',
    path: '/v1/accounts/:id/refunds',
    summary: 'Refund (part of) a message’s charge',
    description:
      'One refund per message, at most what it was charged; repeating the same refund changes nothing.',
    tag: 'Admin',
    auth: 'admin',
    body: { schema: refundBody, example: { messageId: MESSAGE_ID, amount: '0.007900' } },
    responses: {
      200: { description: 'The new balance', schema: balanceResponse, example: balance },
      400: error(
        'More than the charge',
        'refund_exceeds_charge',
        'the refund is more than the message was charged',
      ),
      401: unauthorized,
      403: forbidden,
      404: error('Unknown account', 'not_found', 'account not found'),
      409: error(
        'Not charged, or refunded with another amount',
        'already_refunded',
        'the message was refunded before, with another amount',
      ),
      422: error(
        'The body names a message the account does not have',
        'unknown_message',
        'messageId: this account has no such message',
      ),
    },
  },
  {
    method: 'get',
    path: '/v1/prices',
    summary: 'Route prices per segment',
    tag: 'Admin',
    auth: 'admin',
    query: listPricesQuery,
    responses: {
      200: {
        description: 'Matching prices, enabled or not',
        schema: priceListResponse,
        example: { data: [price] },
      },
      400: invalid(
        'query field "country": country must be an uppercase ISO 3166-1 alpha-2 code (e.g. "US")',
        'country',
      ),
      401: unauthorized,
      403: forbidden,
    },
  },
  {
    method: 'put',
    path: '/v1/prices/:carrierId/:country',
    params: { carrierId: carrierIdParam, country: countryCode },
    summary: 'Set a route’s price per segment',
    description: 'Creates or replaces the price; the next message admitted uses it.',
    tag: 'Admin',
    auth: 'admin',
    body: { schema: upsertPriceBody, example: { price: '0.007900', enabled: true } },
    responses: {
      200: { description: 'The price', schema: priceResponse, example: price },
      400: invalid(
        'body field "price": amount "0.0079001" has 7 decimal places; at most 6 are allowed',
        'price',
      ),
      401: unauthorized,
      403: forbidden,
      404: error('Unknown carrier', 'not_found', 'carrier not found'),
    },
  },
  {
    method: 'post',
    path: '/v1/prices/:carrierId/:country/disable',
    params: { carrierId: carrierIdParam, country: countryCode },
    summary: 'Disable a route’s price',
    description: 'The route leaves ranking and the worst-case reservation; `PUT` enables it again.',
    tag: 'Admin',
    auth: 'admin',
    responses: {
      200: {
        description: 'The disabled price',
        schema: priceResponse,
        example: { ...price, enabled: false },
      },
      400: invalid('country must be an uppercase ISO 3166-1 alpha-2 code (e.g. "US")', 'country'),
      401: unauthorized,
      403: forbidden,
      404: error('Unknown carrier, or no price for the route', 'not_found', 'price not found'),
    },
  },
  {
    method: 'post',
    path: '/v1/messages',
    summary: 'Send a message',
    description:
      'Accepted at once (202); delivery follows in a durable workflow. Once stored the message is ' +
      'answered 202 even if Temporal is down: the worker starts its workflow later. Same ' +
      '`Idempotency-Key` and body → the same message; same key, different body → 409.',
    tag: 'Messages',
    auth: 'account',
    headers: [
      {
        name: 'Idempotency-Key',
        schema: idempotencyKeyHeader,
        description: '1–255 printable ASCII characters; retries with it never send twice',
        example: 'otp-7781',
      },
    ],
    body: {
      schema: createMessageBody,
      example: { to: '+14155552671', body: 'Your code is 123456', validitySeconds: 600, priority: 'high' },
    },
    responses: {
      202: { description: 'Accepted', schema: messageResponse, example: acceptedMessage },
      400: error('Bad input', 'invalid_phone_number', 'to: not a valid phone number'),
      401: unauthorized,
      402: error('Balance too low', 'insufficient_funds', 'balance too low for this message'),
      409: error(
        'Key reused with another body',
        'idempotency_conflict',
        'Idempotency-Key was used with another body',
      ),
      422: error(
        'No carrier serves the destination, the recipient opted out (`recipient_opted_out`), or `from` is not one of the account’s senders (`sender_not_allowed`); nothing stored or charged',
        'no_route',
        'no carrier serves this destination',
      ),
      503: error(
        'The message could not be stored; nothing was sent',
        'service_unavailable',
        'the message could not be stored; retry (an Idempotency-Key makes retries safe)',
      ),
    },
  },
  {
    method: 'post',
    path: '/v1/messages/quote',
    summary: 'What a message would cost, without sending',
    description:
      'The send path’s checks and segmenting; `price.max` is what a send reserves (the dearest eligible route). Changes nothing.',
    tag: 'Messages',
    auth: 'account',
    body: { schema: quoteMessageBody, example: { to: '+14155552671', body: 'Your code is 123456' } },
    responses: {
      200: { description: 'The quote', schema: quoteResponse, example: quote },
      400: error('Bad input', 'invalid_phone_number', 'to: not a valid phone number'),
      401: unauthorized,
      422: error('No carrier serves the destination', 'no_route', 'no carrier serves this destination'),
    },
  },
  {
    method: 'get',
    path: '/v1/messages',
    summary: 'List messages, newest first',
    tag: 'Messages',
    auth: 'account',
    query: listMessagesQuery,
    responses: {
      200: {
        description: 'One page',
        schema: messageListResponse,
        example: { data: [acceptedMessage], nextCursor: null },
      },
      400: invalid('query field "limit": Too big: expected number to be <=100', 'limit'),
      401: unauthorized,
    },
  },
  {
    method: 'get',
    path: '/v1/messages/:id',
    summary: 'One message, with its attempts and events',
    tag: 'Messages',
    auth: 'account',
    responses: {
      200: { description: 'The message', schema: messageResponse, example: deliveredMessage },
      401: unauthorized,
      404: messageNotFound,
    },
  },
  {
    method: 'post',
    path: '/v1/messages/:id/cancel',
    summary: 'Cancel a message before any carrier has it',
    tag: 'Messages',
    auth: 'account',
    responses: {
      200: {
        description: 'Canceled',
        schema: messageResponse,
        example: { ...acceptedMessage, status: 'canceled', quote: '0.008500' },
      },
      401: unauthorized,
      404: messageNotFound,
      409: error('Already submitted or finished', 'invalid_state', 'message can no longer be canceled'),
    },
  },
  {
    method: 'get',
    path: '/v1/webhook-secret',
    summary: 'The secret that signs your status callbacks',
    description: 'Verify `Herald-Signature` with it: HMAC-SHA256 over `<timestamp>.<body>`.',
    tag: 'Callbacks',
    auth: 'account',
    responses: {
      200: { description: 'The current secret', schema: webhookSecretResponse, example: webhookSecret },
      401: unauthorized,
    },
  },
  {
    method: 'post',
    path: '/v1/webhook-secret/rotate',
    summary: 'Rotate the callback signing secret',
    description:
      'The previous secret keeps signing (a second `v1=`) for the grace period, so receivers can switch without rejecting a callback.',
    tag: 'Callbacks',
    auth: 'account',
    body: { schema: rotateWebhookSecretBody, example: { gracePeriodSeconds: 86_400 }, optional: true },
    responses: {
      200: {
        description: 'The new secret',
        schema: webhookSecretResponse,
        example: { ...webhookSecret, previousSecretExpiresAt: TIME },
      },
      400: invalid(
        'body field "gracePeriodSeconds": Too small: expected number to be >=0',
        'gracePeriodSeconds',
      ),
      401: unauthorized,
    },
  },
  {
    method: 'post',
    path: '/webhooks/carriers/:carrierId',
    summary: 'Delivery receipts from a carrier',
    description:
      'In the carrier’s own format and signature scheme (Twilio form posts signed with ' +
      '`X-Twilio-Signature`, Vonage JSON …); answered the way that carrier expects.',
    tag: 'Carriers',
    auth: 'none',
    body: {
      schema: carrierReceiptBody,
      example: { MessageSid: 'SM0123456789abcdef0123456789abcdef', MessageStatus: 'delivered' },
      contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
    },
    responses: {
      200: { description: 'Receipt stored', contentType: 'text/plain', example: 'OK' },
      400: error('Unparseable receipt', 'invalid_request', 'receipt has no message id'),
      403: error('Bad signature', 'forbidden', 'receipt signature is invalid'),
      404: error('Unknown carrier', 'not_found', 'carrier not found'),
      503: error('Temporal unreachable; the carrier retries', 'service_unavailable', 'try again later'),
    },
  },
  {
    method: 'get',
    path: '/healthz',
    summary: 'Liveness',
    tag: 'Operations',
    auth: 'none',
    responses: {
      200: { description: 'The process answers', schema: healthResponse, example: { status: 'ok' } },
    },
  },
  {
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the database and Temporal answer',
    tag: 'Operations',
    auth: 'none',
    responses: {
      200: {
        description: 'Ready',
        schema: readinessResponse,
        example: { status: 'ok', checks: { database: 'ok', temporal: 'ok' } },
      },
      503: {
        description: 'A dependency is down',
        schema: readinessResponse,
        example: { status: 'unavailable', checks: { database: 'ok', temporal: 'failed' } },
      },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics',
    description:
      'Deployment-wide message, route, ledger and callback metrics read from the database, plus process metrics.',
    tag: 'Operations',
    auth: 'none',
    responses: {
      200: {
        description: 'Prometheus text exposition format 0.0.4',
        contentType: 'text/plain',
        example:
          '# HELP herald_messages Messages by current status and carrier\n# TYPE herald_messages gauge\nherald_messages{status="delivered",carrier="twilio-sim"} 42\n',
      },
    },
  },
  {
    method: 'post',
    path: '/v1/verifications',
    summary: 'Send a verification code',
    description:
      'A code of `codeLength` digits, derived on the server and stored nowhere, goes out as a `high` message (charged as any message; its stored body shows the code masked). Check it within `ttlSeconds`, at most 5 times.',
    tag: 'Verifications',
    auth: 'account',
    body: {
      schema: createVerificationBody,
      example: { to: '+14155552671', codeLength: 6, ttlSeconds: 600, locale: 'en', appName: 'Acme' },
    },
    responses: {
      201: {
        description: 'Pending; the code is on its way',
        schema: verificationResponse,
        example: pendingVerification,
      },
      400: error('Bad input', 'invalid_phone_number', 'to: not a valid phone number'),
      401: unauthorized,
      402: error(
        'Balance too low',
        'insufficient_funds',
        'the balance does not cover the verification message',
      ),
      403: error(
        'The destination country is not in the account’s geo permissions',
        'geo_blocked',
        'verifications to CU are not enabled for this account',
      ),
      422: error(
        'No carrier serves the destination, or the recipient opted out (`recipient_opted_out`: nothing stored or charged)',
        'no_route',
        'no carrier serves US',
      ),
      429: error(
        'A velocity limit (`rate_limited`, per number, prefix or account) or a fraud block (`fraud_suspected`); `Retry-After` says when to try again',
        'rate_limited',
        'too many verifications for this prefix; retry later',
      ),
      503: verificationsUnavailable,
    },
  },
  {
    method: 'post',
    path: '/v1/verifications/:id/check',
    summary: 'Check a code',
    description:
      'Decided by the verification’s workflow: `approved` once and for good; the fifth wrong code fails it. A code that is not the verification’s number of digits is 400 and not counted. After a decision every check answers it (200).',
    tag: 'Verifications',
    auth: 'account',
    body: { schema: checkVerificationBody, example: { code: '123456' } },
    responses: {
      200: {
        description: 'The verification’s state after this check',
        schema: checkVerificationResponse,
        example: { status: 'approved', checksLeft: 4 },
      },
      400: invalid('code must be 6 digits', 'code'),
      401: unauthorized,
      404: verificationNotFound,
      503: verificationsUnavailable,
    },
  },
  {
    method: 'post',
    path: '/v1/verifications/:id/resend',
    summary: 'Send the same code again',
    description: 'At least 30 s after the last send, at most 5 sends in all; a new message, charged as any.',
    tag: 'Verifications',
    auth: 'account',
    responses: {
      200: {
        description: 'Sent again',
        schema: verificationResponse,
        example: { ...pendingVerification, sendsLeft: 3 },
      },
      401: unauthorized,
      404: verificationNotFound,
      409: verificationDecided,
      429: error(
        'Too soon after the last send (`Retry-After` says how long)',
        'resend_too_soon',
        'wait before sending the code again',
      ),
      503: verificationsUnavailable,
    },
  },
  {
    method: 'post',
    path: '/v1/verifications/:id/cancel',
    summary: 'Cancel a pending verification',
    tag: 'Verifications',
    auth: 'account',
    responses: {
      200: {
        description: 'Canceled',
        schema: verificationResponse,
        example: { ...pendingVerification, status: 'canceled', decidedAt: TIME },
      },
      401: unauthorized,
      404: verificationNotFound,
      409: verificationDecided,
      503: verificationsUnavailable,
    },
  },
  {
    method: 'get',
    path: '/v1/verifications/:id',
    summary: 'One verification',
    tag: 'Verifications',
    auth: 'account',
    responses: {
      200: {
        description: 'The verification (never its code)',
        schema: verificationResponse,
        example: pendingVerification,
      },
      401: unauthorized,
      404: verificationNotFound,
    },
  },
  {
    method: 'get',
    path: '/v1/verifications',
    summary: 'List verifications, newest first',
    tag: 'Verifications',
    auth: 'account',
    query: listVerificationsQuery,
    responses: {
      200: {
        description: 'One page',
        schema: verificationListResponse,
        example: { data: [pendingVerification], nextCursor: null },
      },
      400: invalid('query field "limit": Too big: expected number to be <=100', 'limit'),
      401: unauthorized,
    },
  },
  {
    method: 'get',
    path: '/v1/fraud/blocks',
    summary: 'Fraud blocks: number prefixes and countries refused for suspected SMS pumping',
    description:
      'A prefix (or country) is blocked when many verification requests reach it and almost none are approved (README: thresholds). Active blocks by default.',
    tag: 'Admin',
    auth: 'admin',
    query: listFraudBlocksQuery,
    responses: {
      200: {
        description: 'The blocks, newest first',
        schema: fraudBlockListResponse,
        example: { data: [fraudBlock] },
      },
      400: invalid(
        'query field "includeLifted": Invalid option: expected one of "true"|"false"',
        'includeLifted',
      ),
      401: unauthorized,
      403: forbidden,
    },
  },
  {
    method: 'delete',
    path: '/v1/fraud/blocks/:id',
    summary: 'Lift a fraud block',
    description: 'The prefix or country takes verifications again; a prefix’s velocity count starts afresh.',
    tag: 'Admin',
    auth: 'admin',
    responses: {
      200: { description: 'Lifted', schema: fraudBlockResponse, example: { ...fraudBlock, liftedAt: TIME } },
      401: unauthorized,
      403: forbidden,
      404: error('No active block with that id', 'not_found', 'block not found'),
    },
  },
  {
    method: 'get',
    path: '/v1/accounts/:id/verification-settings',
    summary: 'An account’s verification geo permissions',
    tag: 'Admin',
    auth: 'admin',
    responses: {
      200: {
        description: 'The countries it may verify',
        schema: verificationSettingsResponse,
        example: { allowedCountries: ['GB', 'US'] },
      },
      401: unauthorized,
      403: forbidden,
      404: error('Unknown account', 'not_found', 'account not found'),
    },
  },
  {
    method: 'put',
    path: '/v1/accounts/:id/verification-settings',
    summary: 'Set an account’s verification geo permissions',
    tag: 'Admin',
    auth: 'admin',
    body: { schema: verificationSettingsBody, example: { allowedCountries: ['US', 'GB', 'BR'] } },
    responses: {
      200: {
        description: 'The new list (sorted, without repeats)',
        schema: verificationSettingsResponse,
        example: { allowedCountries: ['BR', 'GB', 'US'] },
      },
      400: invalid(
        'body field "allowedCountries.0": country must be an uppercase ISO 3166-1 alpha-2 code (e.g. "US")',
        'allowedCountries.0',
      ),
      401: unauthorized,
      403: forbidden,
      404: error('Unknown account', 'not_found', 'account not found'),
    },
  },
  {
    method: 'get',
    path: '/v1/opt-outs',
    summary: 'Numbers you may not send to, by number',
    description: 'A send or verification to one of them answers 422 `recipient_opted_out` and costs nothing.',
    tag: 'Opt-outs',
    auth: 'account',
    query: listOptOutsQuery,
    responses: {
      200: {
        description: 'One page',
        schema: optOutListResponse,
        example: { data: [{ number: '+14155552671', source: 'api', createdAt: TIME }], nextCursor: null },
      },
      400: invalid('query field "limit": Too big: expected number to be <=100', 'limit'),
      401: unauthorized,
    },
  },
  {
    method: 'post',
    path: '/v1/opt-outs',
    summary: 'Opt a number out of your messages',
    tag: 'Opt-outs',
    auth: 'account',
    body: { schema: createOptOutBody, example: { number: '+14155552671' } },
    responses: {
      201: {
        description: 'Opted out',
        schema: optOutResponse,
        example: { number: '+14155552671', source: 'api', createdAt: TIME },
      },
      200: {
        description: 'Already opted out (the first record is kept)',
        schema: optOutResponse,
        example: { number: '+14155552671', source: 'keyword', createdAt: TIME },
      },
      400: error('Bad input', 'invalid_phone_number', 'number: not a valid phone number'),
      401: unauthorized,
    },
  },
  {
    method: 'delete',
    path: '/v1/opt-outs/:number',
    summary: 'Let a number receive your messages again',
    description: 'The number in E.164, URL-encoded (`%2B14155552671`).',
    tag: 'Opt-outs',
    auth: 'account',
    responses: {
      204: { description: 'Removed' },
      401: unauthorized,
      404: error('The number is not opted out', 'not_found', 'opt-out not found'),
    },
  },
  {
    method: 'post',
    path: '/v1/numbers',
    summary: 'Assign a sender number or id to an account',
    description:
      'The account may then send `from` it; `Herald` (the default sender) needs no assignment. ' +
      'With `carrierId`, its messages go out through that carrier only (a number lives on one ' +
      'carrier’s network); a country that carrier does not serve answers 422 `no_route`.',
    tag: 'Admin',
    auth: 'admin',
    body: { schema: assignNumberBody, example: { sender: '+14155550100', accountId: ACCOUNT_ID } },
    responses: {
      201: { description: 'Assigned', schema: numberResponse, example: assignedNumber },
      200: { description: 'Already this account’s', schema: numberResponse, example: assignedNumber },
      400: invalid(
        'body field "sender": sender must be an E.164 number or an alphanumeric sender id (1-11 letters, digits, spaces)',
        'sender',
      ),
      401: unauthorized,
      403: forbidden,
      404: error('Unknown account or carrier', 'not_found', 'account not found'),
      409: error(
        'Another account’s sender',
        'number_taken',
        'this sender belongs to another account; release it first',
      ),
    },
  },
  {
    method: 'get',
    path: '/v1/numbers',
    summary: 'Assigned senders, by sender',
    tag: 'Admin',
    auth: 'admin',
    query: listNumbersQuery,
    responses: {
      200: {
        description: 'Every assigned sender (of one account with `accountId`)',
        schema: numberListResponse,
        example: { data: [assignedNumber] },
      },
      400: invalid('query field "accountId": Too small: expected string to have >=1 characters', 'accountId'),
      401: unauthorized,
      403: forbidden,
    },
  },
  {
    method: 'delete',
    path: '/v1/numbers/:sender',
    summary: 'Release a sender',
    description: 'The sender, URL-encoded (`%2B14155550100`).',
    tag: 'Admin',
    auth: 'admin',
    responses: {
      204: { description: 'Released' },
      401: unauthorized,
      403: forbidden,
      404: error('Not assigned', 'not_found', 'number not found'),
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    tag: 'Operations',
    auth: 'none',
    responses: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } },
  },
  {
    method: 'get',
    path: '/docs',
    summary: 'Interactive API reference (Swagger UI)',
    tag: 'Operations',
    auth: 'none',
    responses: {
      200: { description: 'HTML page', contentType: 'text/html' },
      301: { description: 'To /docs/' },
    },
  },
  {
    method: 'post',
    path: '/webhooks/carriers/:carrierId/inbound',
    summary: 'Inbound messages from a carrier',
    description:
      'Mobile-originated messages in the carrier’s own format, authenticated as its receipts are ' +
      '(Twilio `From`/`To`/`Body` form posts, Vonage `msisdn`/`text` with concat parts, Infobip ' +
      '`results[]`, a configured carrier’s `inbound` section). Stored once per carrier id, parts ' +
      'reassembled, keywords applied, forwarded to the account’s inboundUrl.',
    tag: 'Carriers',
    auth: 'none',
    body: {
      schema: carrierReceiptBody,
      example: {
        MessageSid: 'SM0123456789abcdef0123456789abcdef',
        From: '+14155552671',
        To: '+14155550100',
        Body: 'STOP',
      },
      contentTypes: ['application/x-www-form-urlencoded', 'application/json'],
    },
    responses: {
      200: { description: 'Stored (or a redelivery)', contentType: 'text/plain', example: 'OK' },
      400: error('Unreadable message', 'invalid_request', 'inbound message without From'),
      403: error('Bad signature', 'forbidden', 'webhook signature is invalid'),
      404: error('Unknown carrier, or one without inbound over HTTP', 'not_found', 'carrier not found'),
      503: error('Temporal unreachable; the carrier retries', 'service_unavailable', 'try again later'),
    },
  },
  {
    method: 'get',
    path: '/webhooks/carriers/:carrierId/inbound',
    summary: 'Inbound messages from a carrier (query parameters)',
    description: 'As the POST, for carriers that deliver inbound messages as GET (Vonage’s default).',
    tag: 'Carriers',
    auth: 'none',
    responses: {
      200: { description: 'Stored (or a redelivery)', contentType: 'text/plain', example: 'OK' },
      400: error('Unreadable message', 'invalid_request', 'inbound message without msisdn'),
      403: error('Bad signature', 'forbidden', 'webhook signature is invalid'),
      404: error('Unknown carrier, or one without inbound over HTTP', 'not_found', 'carrier not found'),
      503: error('Temporal unreachable; the carrier retries', 'service_unavailable', 'try again later'),
    },
  },
  {
    method: 'get',
    path: '/v1/settings',
    summary: 'Your account’s settings',
    tag: 'Two-way',
    auth: 'account',
    responses: {
      200: { description: 'The settings', schema: settingsResponse, example: accountSettings },
      401: unauthorized,
    },
  },
  {
    method: 'put',
    path: '/v1/settings',
    summary: 'Change your account’s settings',
    description:
      'Fields given replace the current ones. URLs are checked as callback URLs (no private ' +
      'addresses). Keyword replies: null restores the default text, "" sends none.',
    tag: 'Two-way',
    auth: 'account',
    body: {
      schema: accountSettingsBody,
      example: { inboundUrl: 'https://example.com/inbound', helpReply: 'Acme: reply STOP to opt out.' },
    },
    responses: {
      200: { description: 'The settings now', schema: settingsResponse, example: accountSettings },
      400: error(
        'Bad input, or a private URL',
        'invalid_callback_url',
        'inboundUrl: host resolves to a private address',
      ),
      401: unauthorized,
    },
  },
  {
    method: 'get',
    path: '/v1/inbound',
    summary: 'Messages people sent to your numbers, newest first',
    tag: 'Two-way',
    auth: 'account',
    query: listInboundQuery,
    responses: {
      200: {
        description: 'One page',
        schema: inboundListResponse,
        example: { data: [inboundMessage], nextCursor: null },
      },
      400: invalid('query field "limit": Too big: expected number to be <=100', 'limit'),
      401: unauthorized,
    },
  },
  {
    method: 'get',
    path: '/v1/inbound/:id',
    summary: 'One inbound message',
    tag: 'Two-way',
    auth: 'account',
    responses: {
      200: { description: 'The message', schema: inboundResponse, example: inboundMessage },
      401: unauthorized,
      404: error('Unknown, or another account’s', 'not_found', 'inbound message not found'),
    },
  },
  {
    method: 'post',
    path: '/v1/twilio-credentials',
    summary: 'Your Twilio-compatible credentials',
    description:
      'An `AC…` account sid and an auth token for the Twilio-compatible API (HTTP Basic) and its ' +
      'signed callbacks. The token is shown once; calling again rotates it (the sid stays).',
    tag: 'Twilio-compatible',
    auth: 'account',
    responses: {
      201: { description: 'Issued', schema: twilioCredentialsResponse, example: twilioCredentials(false) },
      200: {
        description: 'Token rotated',
        schema: twilioCredentialsResponse,
        example: twilioCredentials(true),
      },
      401: unauthorized,
    },
  },
  {
    method: 'post',
    path: '/2010-04-01/Accounts/:accountSid/Messages.json',
    summary: 'Send a message (Twilio’s Messages API)',
    description:
      'Twilio’s request, resource and error shapes (codes 21211, 21602, 21610, 21617, 20003 …); ' +
      'the same rules as POST /v1/messages. MessagingServiceSid, MediaUrl and ContentSid are refused.',
    tag: 'Twilio-compatible',
    auth: 'twilio',
    body: {
      schema: twilioCreateMessageBody,
      example: { To: '+14155552671', From: '+14155550100', Body: 'Hello' },
      contentTypes: ['application/x-www-form-urlencoded'],
    },
    responses: {
      201: { description: 'Accepted', schema: twilioMessageResponse, example: twilioMessage },
      400: twilioErr(400, 21211, "Invalid 'To' Phone Number: +1415"),
      401: twilioErr(401, 20003, 'Authenticate'),
      404: twilioErr(404, 20404, 'The requested resource was not found'),
      429: twilioErr(429, 20429, 'Too Many Requests'),
      503: twilioErr(503, 20503, 'the message could not be stored; retry'),
    },
  },
  {
    method: 'get',
    path: '/2010-04-01/Accounts/:accountSid/Messages.json',
    summary: 'List messages (Twilio’s Messages API)',
    tag: 'Twilio-compatible',
    auth: 'twilio',
    query: twilioListMessagesQuery,
    responses: {
      200: {
        description: 'One page, with Twilio’s paging fields',
        schema: twilioMessageListResponse,
        example: {
          messages: [twilioMessage],
          uri: `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json?PageSize=50&Page=0`,
          first_page_uri: `/2010-04-01/Accounts/${TWILIO_SID}/Messages.json?PageSize=50&Page=0`,
          next_page_uri: null,
          previous_page_uri: null,
          page: 0,
          page_size: 50,
          start: 0,
          end: 0,
        },
      },
      400: twilioErr(400, 20001, 'PageToken is invalid'),
      401: twilioErr(401, 20003, 'Authenticate'),
      404: twilioErr(404, 20404, 'The requested resource was not found'),
    },
  },
  {
    method: 'get',
    path: '/2010-04-01/Accounts/:accountSid/Messages/:sid.json',
    summary: 'Fetch a message (Twilio’s Messages API)',
    tag: 'Twilio-compatible',
    auth: 'twilio',
    responses: {
      200: { description: 'The message', schema: twilioMessageResponse, example: twilioMessage },
      401: twilioErr(401, 20003, 'Authenticate'),
      404: twilioErr(404, 20404, 'The requested resource was not found'),
    },
  },
];
/** A JSON value, as the document is made of. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

export interface OpenApiOptions {
  /** `info.version`. Default `0.1.0`. */
  readonly version?: string;
  /** A `servers` entry; default none (the document's own origin). */
  readonly serverUrl?: string;
}

/** Express `:param` → OpenAPI `{param}`. */
export function toOpenApiPath(expressPath: string): string {
  return expressPath.replace(/:(\w+)/g, '{$1}');
}

/** The OpenAPI 3.1 document for {@link ROUTE_DOCS}. */
export function buildOpenApiDocument(opts: OpenApiOptions = {}): { [key: string]: Json } {
  const paths: { [path: string]: { [method: string]: Json } } = {};
  for (const route of ROUTE_DOCS) {
    const path = toOpenApiPath(route.path);
    paths[path] ??= {};
    paths[path][route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    info: {
      title: 'Herald SMS gateway',
      version: opts.version ?? '0.1.0',
      description:
        'Every message is a durable Temporal workflow. JSON in and out; errors are ' +
        '`{ "error": { "code", "message", "details"? } }`. Amounts are decimal strings with six places.',
    },
    ...(opts.serverUrl ? { servers: [{ url: opts.serverUrl }] } : {}),
    tags: [...new Set(ROUTE_DOCS.map((r) => r.tag))].map((name) => ({ name })),
    components: {
      securitySchemes: {
        accountKey: { type: 'http', scheme: 'bearer', description: 'An account API key (`hk_…`)' },
        adminKey: { type: 'http', scheme: 'bearer', description: 'The deployment’s ADMIN_API_KEY' },
        twilioBasic: {
          type: 'http',
          scheme: 'basic',
          description: 'Your `AC…` sid and auth token from POST /v1/twilio-credentials',
        },
      },
      schemas: { Error: jsonSchema(errorResponse, 'output') },
    },
    paths,
  };
}

function operation(route: RouteDoc): Json {
  const parameters: Json[] = [
    ...[...route.path.matchAll(/:(\w+)/g)].map(([, name]): Json => {
      const schema = name ? route.params?.[name] : undefined;
      return {
        name: name ?? '',
        in: 'path',
        required: true,
        schema: schema ? jsonSchema(schema, 'input') : { type: 'string' },
      };
    }),
    ...(route.headers ?? []).map(
      (h): Json => ({
        name: h.name,
        in: 'header',
        required: false,
        description: h.description,
        schema: jsonSchema(h.schema, 'input'),
        ...(h.example ? { example: h.example } : {}),
      }),
    ),
    ...(route.query ? queryParameters(route.query) : []),
  ];
  const responses: { [status: string]: Json } = {};
  for (const [status, r] of Object.entries(route.responses)) {
    const contentType = r.contentType ?? (r.schema ? 'application/json' : undefined);
    const schema: Json = r.schema
      ? r.schema === errorResponse
        ? { $ref: '#/components/schemas/Error' }
        : jsonSchema(r.schema, 'output')
      : { type: 'string' };
    responses[status] = {
      description: r.description,
      ...(contentType ? { content: { [contentType]: { schema, ...withExample(r.example) } } } : {}),
    };
  }
  return {
    operationId: operationId(route),
    summary: route.summary,
    ...(route.description ? { description: route.description } : {}),
    tags: [route.tag],
    security:
      route.auth === 'account'
        ? [{ accountKey: [] }]
        : route.auth === 'admin'
          ? [{ adminKey: [] }]
          : route.auth === 'twilio'
            ? [{ twilioBasic: [] }]
            : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(route.body
      ? {
          requestBody: {
            required: !route.body.optional,
            content: Object.fromEntries(
              (route.body.contentTypes ?? ['application/json']).map((type) => [
                type,
                {
                  schema: jsonSchema(route.body?.schema ?? z.unknown(), 'input'),
                  ...withExample(route.body?.example),
                },
              ]),
            ),
          },
        }
      : {}),
    responses,
  };
}

function queryParameters(query: z.ZodObject): Json[] {
  const schema = jsonSchema(query, 'input') as { properties?: { [k: string]: Json }; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, s]) => {
    const description = typeof s === 'object' && s && !Array.isArray(s) ? s.description : undefined;
    return {
      name,
      in: 'query',
      required: schema.required?.includes(name) ?? false,
      ...(typeof description === 'string' ? { description } : {}),
      schema: s,
    };
  });
}

/** A zod schema as a draft 2020-12 JSON Schema (OpenAPI 3.1's dialect), without `$schema`. */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
  }) as { [key: string]: Json };
  return rest;
}

function withExample(example: unknown): { example?: Json } {
  return example === undefined ? {} : { example: example as Json };
}

function operationId(route: RouteDoc): string {
  const words = route.path
    .split('/')
    .filter((p) => p !== '' && p !== 'v1')
    .map((p) => (p.startsWith(':') ? `by-${p.slice(1)}` : p).replace(/\W/g, '-'));
  return [route.method, ...words]
    .join('-')
    .replace(/-+(\w)/g, (_, c: string) => c.toUpperCase())
    .replace(/-/g, '');
}
