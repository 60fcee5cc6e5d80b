/**
 * Database rows → the JSON the API answers with (DESIGN §7). Amounts are six-place decimal
 * strings, times ISO-8601 UTC, and nothing beyond the documented fields leaves the process.
 */

import { FAILOVER_LEG } from '../db/ledger.ts';
import type {
  Account,
  AssignedNumber,
  CallbackAttempt,
  CarrierPrice,
  FraudBlock,
  InboundMessage,
  LedgerEntry,
  LedgerLeg,
  Message,
  MessageAttempt,
  MessageEvent,
  OptOut,
  Verification,
} from '../db/schema.ts';
import { formatMoney } from '../domain/money.ts';
import type { Priority } from '../domain/priority.ts';
import type { Encoding } from '../domain/segments.ts';
import type { MessageStatus } from '../domain/status.ts';
import { MAX_SENDS, type VerificationStatus } from '../domain/verification.ts';

export interface MessageErrorJson {
  readonly code: string;
  readonly message: string;
  readonly carrierCode?: string;
}

export interface AttemptJson {
  readonly carrier: string;
  /** Null while the attempt is in flight (or was cut short by a crash). */
  readonly outcome: MessageAttempt['outcome'];
  readonly errorCode: string | null;
  /** What the carrier reported it billed for this attempt (its account's currency); null: not reported. */
  readonly carrierCost: string | null;
  readonly at: string;
}

export interface EventJson {
  readonly status: MessageStatus;
  readonly at: string;
}

/** One status callback attempt (or the verdict on an event given up: `attempt` null). */
export interface CallbackAttemptJson {
  readonly eventId: string;
  /** The status the callback reports. */
  readonly status: MessageStatus;
  readonly attempt: number | null;
  /** `delivered`; `failed` (retried); `gone` (410: no more callbacks); `refused` (SSRF); `abandoned`. */
  readonly outcome: CallbackAttempt['outcome'];
  readonly httpStatus: number | null;
  readonly error: string | null;
  readonly at: string;
}

export interface MessageJson {
  readonly id: string;
  readonly status: MessageStatus;
  readonly to: string;
  readonly from: string;
  readonly body: string;
  readonly country: string;
  readonly encoding: Encoding;
  readonly segments: number;
  readonly priority: Priority;
  readonly quote: string;
  readonly price: string | null;
  /**
   * Single-message view: what the carriers reported they billed, summed over accepted attempts
   * (null when none reported it), to compare with `price`, what Herald charged.
   */
  readonly carrierCost?: string | null;
  readonly carrier: string | null;
  readonly carrierMessageId: string | null;
  readonly error: MessageErrorJson | null;
  readonly attempts?: AttemptJson[];
  readonly charges?: readonly ChargeJson[];
  readonly events?: EventJson[];
  readonly callbacks?: CallbackAttemptJson[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A leg as the API names it. */
export type LegName = 'first' | 'failover';
const legName = (leg: LedgerLeg): LegName => (leg === FAILOVER_LEG ? 'failover' : 'first');

/** What one leg of a message was charged and refunded. */
export interface ChargeJson {
  readonly leg: LegName;
  readonly captured: string;
  readonly refunded: string;
}

/** Per-leg charges from a message's ledger entries (legs that captured or refunded something). */
export function toChargesJson(
  entries: readonly Pick<LedgerEntry, 'leg' | 'kind' | 'amount_micros'>[],
): ChargeJson[] {
  const legs = new Map<LedgerLeg, { captured: bigint; refunded: bigint }>();
  for (const e of entries) {
    if (e.kind !== 'capture' && e.kind !== 'refund') continue;
    const leg = legs.get(e.leg) ?? { captured: 0n, refunded: 0n };
    if (e.kind === 'capture') leg.captured += e.amount_micros;
    else leg.refunded += e.amount_micros;
    legs.set(e.leg, leg);
  }
  return [...legs.entries()]
    .sort(([a], [b]) => a - b)
    .map(([leg, m]) => ({
      leg: legName(leg),
      captured: formatMoney(m.captured),
      refunded: formatMoney(m.refunded),
    }));
}

export interface BalanceJson {
  readonly available: string;
  readonly reserved: string;
  readonly currency: string;
}

/**
 * A message as the API shows it. `attempts`, `events`, `callbacks` and `charges` appear only when
 * given (the single message view has them, list pages do not).
 */
export function toMessageJson(
  message: Message,
  attempts?: readonly MessageAttempt[],
  events?: readonly MessageEvent[],
  callbacks?: readonly CallbackAttempt[],
  charges?: readonly ChargeJson[],
): MessageJson {
  return {
    id: message.id,
    status: message.status,
    to: message.to_number,
    from: message.from_sender,
    body: message.body,
    country: message.country,
    encoding: message.encoding,
    segments: message.segments,
    priority: message.priority,
    quote: formatMoney(message.quote_micros),
    price: message.price_micros === null ? null : formatMoney(message.price_micros),
    ...(attempts ? { carrierCost: carrierCost(attempts) } : {}),
    carrier: message.carrier_id,
    carrierMessageId: message.carrier_message_id,
    error: toErrorJson(message),
    ...(attempts ? { attempts: attempts.map(toAttemptJson) } : {}),
    ...(charges ? { charges } : {}),
    ...(events ? { events: events.map(toEventJson) } : {}),
    ...(callbacks ? { callbacks: callbacks.map(toCallbackAttemptJson) } : {}),
    createdAt: isoTime(message.created_at),
    updatedAt: isoTime(message.updated_at),
  };
}

/** The balance view shared by `GET /v1/balance` and the credit endpoint. */
export function toBalanceJson(
  balance: { readonly availableMicros: bigint; readonly reservedMicros: bigint },
  currency: string,
): BalanceJson {
  return {
    available: formatMoney(balance.availableMicros),
    reserved: formatMoney(balance.reservedMicros),
    currency,
  };
}

/** One ledger entry; `available` and `reserved` are the running balance right after it. */
export interface LedgerEntryJson {
  /** A 64-bit integer, as a string: it may exceed what a JSON number holds exactly. */
  readonly id: string;
  readonly kind: LedgerEntry['kind'];
  readonly amount: string;
  readonly messageId: string | null;
  /** Which submission of the message; null for credits. */
  readonly leg: LegName | null;
  readonly available: string;
  readonly reserved: string;
  readonly reference: string | null;
  readonly createdAt: string;
}

export function toLedgerEntryJson(entry: LedgerEntry): LedgerEntryJson {
  return {
    id: entry.id.toString(),
    kind: entry.kind,
    amount: formatMoney(entry.amount_micros),
    messageId: entry.message_id,
    leg: entry.message_id === null ? null : legName(entry.leg),
    available: formatMoney(entry.available_after_micros),
    reserved: formatMoney(entry.reserved_after_micros),
    reference: entry.reference,
    createdAt: isoTime(entry.created_at),
  };
}

/** A route's price per segment. */
export interface PriceJson {
  readonly carrierId: string;
  readonly country: string;
  readonly price: string;
  readonly enabled: boolean;
  readonly updatedAt: string;
}

export function toPriceJson(price: CarrierPrice): PriceJson {
  return {
    carrierId: price.carrier_id,
    country: price.country,
    price: formatMoney(price.price_micros),
    enabled: price.enabled,
    updatedAt: isoTime(price.updated_at),
  };
}

/** The balance of an account row. */
export function accountBalance(account: Account): { availableMicros: bigint; reservedMicros: bigint } {
  return { availableMicros: account.available_micros, reservedMicros: account.reserved_micros };
}

function toErrorJson(message: Message): MessageErrorJson | null {
  if (message.error_code === null) return null;
  return {
    code: message.error_code,
    message: message.error_message ?? message.error_code,
    ...(message.carrier_error_code === null ? {} : { carrierCode: message.carrier_error_code }),
  };
}

/** The sum of what carriers reported billing for a message's accepted attempts; null when none did. */
function carrierCost(attempts: readonly MessageAttempt[]): string | null {
  const reported = attempts.filter((a) => a.outcome === 'accepted' && a.carrier_cost_micros !== null);
  if (reported.length === 0) return null;
  return formatMoney(reported.reduce((sum, a) => sum + (a.carrier_cost_micros ?? 0n), 0n));
}

function toAttemptJson(attempt: MessageAttempt): AttemptJson {
  return {
    carrier: attempt.carrier_id,
    outcome: attempt.outcome,
    errorCode: attempt.error_code,
    carrierCost: attempt.carrier_cost_micros === null ? null : formatMoney(attempt.carrier_cost_micros),
    // When the outcome was known; the start time while it is still in flight.
    at: isoTime(attempt.finished_at ?? attempt.started_at),
  };
}

function toEventJson(event: MessageEvent): EventJson {
  return { status: event.status, at: isoTime(event.at) };
}

function toCallbackAttemptJson(a: CallbackAttempt): CallbackAttemptJson {
  return {
    eventId: a.event_id,
    status: a.status,
    attempt: a.attempt,
    outcome: a.outcome,
    httpStatus: a.http_status,
    error: a.error,
    at: isoTime(a.at),
  };
}

/** ISO-8601 UTC; drivers hand back Date, but a string from a raw query is accepted too. */
export function isoTime(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}

export interface VerificationJson {
  readonly id: string;
  readonly to: string;
  readonly country: string;
  readonly status: VerificationStatus;
  readonly locale: string;
  readonly expiresAt: string;
  readonly checksLeft: number;
  readonly sendsLeft: number;
  readonly messageId: string | null;
  readonly createdAt: string;
  readonly decidedAt: string | null;
}

/**
 * A verification as the API shows it: never the code (it is stored nowhere). `live` is its
 * workflow's state while pending (checks and sends are counted there; the row at decisions).
 */
export function toVerificationJson(
  v: Verification,
  live?: { readonly status: VerificationStatus; readonly checksLeft: number; readonly sendsLeft: number },
): VerificationJson {
  return {
    id: v.id,
    to: v.to_number,
    country: v.country,
    status: live?.status ?? v.status,
    locale: v.locale,
    expiresAt: v.expires_at.toISOString(),
    checksLeft: live?.checksLeft ?? v.checks_left,
    sendsLeft: live?.sendsLeft ?? Math.max(0, MAX_SENDS - v.sends),
    messageId: v.message_id,
    createdAt: v.created_at.toISOString(),
    decidedAt: v.decided_at?.toISOString() ?? null,
  };
}

export interface FraudBlockJson {
  readonly id: string;
  readonly scope: FraudBlock['scope'];
  readonly value: string;
  readonly reason: string;
  readonly attempts: number;
  readonly verifications: number;
  readonly approved: number;
  readonly createdAt: string;
  readonly liftedAt: string | null;
}

/** A fraud block with the counts that triggered it. */
export function toFraudBlockJson(b: FraudBlock): FraudBlockJson {
  return {
    id: b.id,
    scope: b.scope,
    value: b.value,
    reason: b.reason,
    attempts: b.attempts,
    verifications: b.verifications,
    approved: b.approved,
    createdAt: b.created_at.toISOString(),
    liftedAt: b.lifted_at?.toISOString() ?? null,
  };
}

/** An opted-out number. */
export function toOptOutJson(o: OptOut): { number: string; source: OptOut['source']; createdAt: string } {
  return { number: o.number, source: o.source, createdAt: o.created_at.toISOString() };
}

/** A sender assigned to an account. */
export function toNumberJson(n: AssignedNumber): {
  sender: string;
  accountId: string;
  kind: AssignedNumber['kind'];
  carrierId: string | null;
  createdAt: string;
} {
  return {
    sender: n.sender,
    accountId: n.account_id,
    kind: n.kind,
    carrierId: n.carrier_id,
    createdAt: n.created_at.toISOString(),
  };
}

/** An account's settings (DESIGN §11), keyword replies as set (null: the default text). */
export function toSettingsJson(a: Account): {
  accountId: string;
  inboundUrl: string | null;
  callbackUrl: string | null;
  inboundFormat: Account['inbound_format'];
  stopReply: string | null;
  startReply: string | null;
  helpReply: string | null;
} {
  return {
    accountId: a.id,
    inboundUrl: a.inbound_url,
    callbackUrl: a.callback_url,
    inboundFormat: a.inbound_format,
    stopReply: a.stop_reply,
    startReply: a.start_reply,
    helpReply: a.help_reply,
  };
}

/** An inbound message as the API shows it. */
export function toInboundJson(m: InboundMessage): {
  id: string;
  from: string;
  to: string;
  body: string;
  parts: number;
  keyword: InboundMessage['keyword'];
  carrier: string;
  replyMessageId: string | null;
  forward: { outcome: InboundMessage['forward_outcome']; attempts: number; at: string | null };
  receivedAt: string;
} {
  return {
    id: m.id,
    from: m.from_number,
    to: m.to_number,
    body: m.body,
    parts: m.parts,
    keyword: m.keyword,
    carrier: m.carrier_id,
    replyMessageId: m.reply_message_id,
    forward: {
      outcome: m.forward_outcome,
      attempts: m.forward_attempts,
      at: m.forwarded_at?.toISOString() ?? null,
    },
    receivedAt: m.received_at.toISOString(),
  };
}
