/**
 * The accept path of `POST /v1/messages` (DESIGN §3 step 1): validate, normalize, quote, store,
 * start the workflow. Once the row is stored the message is never lost: if the start fails, the
 * worker's stranded-message reconciler (services/stranded-messages.ts) starts it later. It is
 * measured (p99 accept latency), so it makes as few round trips as it can: the balance pre-check
 * uses the account row authentication just read.
 */
import { createHash, randomBytes } from 'node:crypto';
import { TEMPORAL_CALL_TIMEOUT_MS } from '../config/defaults.ts';
import { getMessageForAccount, insertMessage } from '../db/messages.ts';
import { findOwnSender } from '../db/numbers.ts';
import { isOptedOut } from '../db/opt-outs.ts';
import type { Account, ApiFormat, Message } from '../db/schema.ts';
import { ID_RANDOM_BYTES, messageIdFromIdempotencyKey, newMessageId } from '../domain/ids.ts';
import { formatMoney } from '../domain/money.ts';
import { normalizePhone } from '../domain/phone.ts';
import { DEFAULT_PRIORITY, type Priority } from '../domain/priority.ts';
import { worstCaseQuote } from '../domain/routing.ts';
import { analyzeBody, type Encoding, MAX_BODY_CHARS } from '../domain/segments.ts';
import { startMessageWorkflow } from '../services/message-workflow.ts';
import { checkCallbackUrl } from '../services/ssrf.ts';
import type { AppContext } from './context.ts';
import { ApiError, serviceUnavailable } from './errors.ts';
import { type CreateMessageBody, DEFAULT_SENDER, DEFAULT_VALIDITY_SECONDS } from './schemas.ts';

/** The request after normalization; its canonical JSON is what `request_hash` covers. */
interface NormalizedRequest {
  readonly to: string;
  readonly body: string;
  readonly from: string;
  readonly callbackUrl: string | null;
  readonly validitySeconds: number;
  readonly priority: Priority;
}

/**
 * Accepts a message for `account`, or answers the message an earlier request with the same
 * `idempotencyKey` created (same request) / a 409 (different request).
 *
 * @param opts.apiFormat - the API the request came through (its status callbacks take that shape). Default herald.
 * @throws ApiError 400 `body_too_long` / `invalid_phone_number` / `invalid_callback_url`, 402 `insufficient_funds`,
 *   409 `idempotency_conflict`, 422 `no_route` / `recipient_opted_out` / `sender_not_allowed`, 503 when the message could not be stored. A workflow
 *   that does not start is no error: the message is stored, and is answered as `accepted`.
 */
export async function acceptMessage(
  ctx: AppContext,
  account: Account,
  input: CreateMessageBody,
  idempotencyKey: string | undefined,
  opts: { readonly apiFormat?: ApiFormat } = {},
): Promise<Message> {
  const phone = checkMessageInput(input);
  if (input.callbackUrl !== undefined) {
    // SSRF: refused before anything is stored; checked again before each delivery.
    const checked = await checkCallbackUrl(input.callbackUrl, {
      allowedHosts: ctx.callbackAllowedHosts ?? [],
    });
    if (!checked.ok) throw new ApiError(400, 'invalid_callback_url', checked.reason);
  }

  const request: NormalizedRequest = {
    to: phone.e164,
    body: input.body,
    from: input.from ?? DEFAULT_SENDER,
    callbackUrl: input.callbackUrl ?? null,
    validitySeconds: input.validitySeconds ?? DEFAULT_VALIDITY_SECONDS,
    priority: input.priority ?? DEFAULT_PRIORITY,
  };
  const requestHash = hashRequest(request);
  const messageId =
    idempotencyKey === undefined
      ? newMessageId(randomBytes(ID_RANDOM_BYTES))
      : messageIdFromIdempotencyKey(account.id, idempotencyKey);

  if (idempotencyKey !== undefined) {
    const existing = await getMessageForAccount(ctx.db, account.id, messageId);
    if (existing) return replay(ctx, existing, requestHash);
  }
  await refuseOptedOut(ctx, account.id, phone.e164);
  const sender =
    request.from === DEFAULT_SENDER ? undefined : await findOwnSender(ctx.db, account.id, request.from);
  if (request.from !== DEFAULT_SENDER && !sender) {
    throw new ApiError(
      422,
      'sender_not_allowed',
      `from: "${request.from}" is not one of this account's senders (an admin assigns them; "${DEFAULT_SENDER}" is always allowed)`,
    );
  }

  const {
    encoding,
    segments,
    maxMicros: quote,
  } = await priceMessage(ctx, phone.country, request.body, sender?.carrier_id ?? undefined);
  // A pre-check only, so a few milliseconds of staleness is fine: the workflow's reservation is
  // the atomic one and fails the message if the money is gone by then.
  if (account.available_micros < quote) {
    throw new ApiError(402, 'insufficient_funds', 'the balance does not cover this message', {
      quote: formatMoney(quote),
      available: formatMoney(account.available_micros),
    });
  }

  const { inserted, message } = await storeMessage(ctx, {
    id: messageId,
    account_id: account.id,
    idempotency_key: idempotencyKey ?? null,
    request_hash: requestHash,
    to_number: request.to,
    from_sender: request.from,
    body: request.body,
    country: phone.country,
    encoding,
    segments,
    quote_micros: quote,
    status: 'accepted',
    validity_seconds: request.validitySeconds,
    priority: request.priority,
    // The account's default (PUT /v1/settings) when the request names none; checked when it was set.
    callback_url: request.callbackUrl ?? account.callback_url,
    ...(opts.apiFormat ? { api_format: opts.apiFormat } : {}),
  });
  // Lost a race with a concurrent request carrying the same key: answer as its replay.
  if (!inserted) return replay(ctx, message, requestHash);
  await startWorkflow(ctx, message);
  return message;
}

/**
 * The recipient said STOP to this account (or the account recorded it): nothing is stored, sent or
 * charged (DESIGN §11).
 *
 * @throws ApiError 422 `recipient_opted_out`.
 */
export async function refuseOptedOut(ctx: AppContext, accountId: string, e164: string): Promise<void> {
  if (await isOptedOut(ctx.db, accountId, e164)) {
    throw new ApiError(
      422,
      'recipient_opted_out',
      'the recipient has opted out of messages from this account',
    );
  }
}

/** Stores the row; nothing was sent when this fails, so the client may retry (503). */
async function storeMessage(
  ctx: AppContext,
  row: Parameters<typeof insertMessage>[1],
): ReturnType<typeof insertMessage> {
  try {
    return await insertMessage(ctx.db, row);
  } catch (err) {
    throw serviceUnavailable(
      'the message could not be stored; retry (an Idempotency-Key makes retries safe)',
      err,
    );
  }
}

/**
 * Starts the stored message's workflow. A failure is logged, not answered: the message is stored
 * and the reconciler starts it, whereas a 503 would invite the client to send it again.
 */
async function startWorkflow(ctx: AppContext, message: Message): Promise<void> {
  try {
    await startMessageWorkflow(ctx.temporal, message, { timeoutMs: TEMPORAL_CALL_TIMEOUT_MS });
  } catch (err) {
    ctx.log('warn', 'message stored but its workflow did not start; the reconciler will start it', {
      messageId: message.id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/**
 * The checks every message passes before anything else (shared by send and quote): the body's
 * length, then the number, normalized to E.164 with its country.
 *
 * @throws ApiError 400 `body_too_long` / `invalid_phone_number`.
 */
export function checkMessageInput(input: { readonly to: string; readonly body: string }): {
  e164: string;
  country: string;
} {
  if ([...input.body].length > MAX_BODY_CHARS) {
    throw new ApiError(400, 'body_too_long', `body is longer than ${MAX_BODY_CHARS} characters`);
  }
  const phone = normalizePhone(input.to);
  if (!phone.ok) throw new ApiError(400, 'invalid_phone_number', `to: ${phone.reason}`);
  return { e164: phone.e164, country: phone.country };
}

/** What a body costs to `country`: {@link priceMessage}'s answer. */
export interface MessagePricing {
  readonly encoding: Encoding;
  readonly segments: number;
  /** GSM-7 septets or UCS-2 code units. */
  readonly units: number;
  /** Eligible routes (enabled carrier, enabled price). */
  readonly routes: number;
  /** Cheapest route's price × segments. */
  readonly minMicros: bigint;
  /** Dearest route's price × segments: what a send reserves, so failover never overdraws. */
  readonly maxMicros: bigint;
}

/**
 * Segments the body and prices it over every eligible route for `country` (only `carrierId`'s,
 * when the sender is provisioned on that carrier). Reads only.
 *
 * @throws ApiError 422 `no_route` when no enabled carrier has an enabled price there.
 */
export async function priceMessage(
  ctx: AppContext,
  country: string,
  body: string,
  carrierId?: string,
): Promise<MessagePricing> {
  const { encoding, segments, units } = analyzeBody(body);
  // Cached for a second (api/route-candidates-cache.ts): the reservation re-plans from the tables.
  const all = await ctx.routeCandidates.get(country);
  const candidates = carrierId === undefined ? all : all.filter((c) => c.carrierId === carrierId);
  const cheapest = candidates[0]; // listRouteCandidates orders by price
  if (cheapest === undefined) {
    throw new ApiError(
      422,
      'no_route',
      carrierId === undefined
        ? `no carrier serves ${country}`
        : `the sender is provisioned on carrier ${carrierId}, which does not serve ${country}`,
    );
  }
  return {
    encoding,
    segments,
    units,
    routes: candidates.length,
    minMicros: cheapest.priceMicros * BigInt(segments),
    maxMicros: worstCaseQuote(candidates, segments),
  };
}

/** Same key again: the same request gets the same message, a different one a 409. */
async function replay(ctx: AppContext, existing: Message, requestHash: string): Promise<Message> {
  if (existing.request_hash !== requestHash) {
    throw new ApiError(
      409,
      'idempotency_conflict',
      'this Idempotency-Key was already used with a different request',
    );
  }
  // Only the workflow moves a message past `accepted`, so any other status means it was started.
  // Still `accepted`: the first request may have died between the insert and the start.
  if (existing.status === 'accepted') await startWorkflow(ctx, existing);
  return existing;
}

/**
 * SHA-256 hex of the request's canonical JSON (keys sorted; the request is flat). The default lane
 * is left out, so a key used before lanes existed still matches the same request (not a 409).
 */
function hashRequest({ priority, ...rest }: NormalizedRequest): string {
  const request = priority === DEFAULT_PRIORITY ? rest : { ...rest, priority };
  const canonical = JSON.stringify(request, Object.keys(request).sort());
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
