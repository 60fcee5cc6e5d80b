import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { BlockScope } from '../domain/fraud.ts';
import type { InboundKeyword } from '../domain/inbound-keywords.ts';
import type { Priority } from '../domain/priority.ts';
import type { MessageStatus } from '../domain/status.ts';
import type { VerificationStatus } from '../domain/verification.ts';

/** Timestamps come back as Date, go in as Date or ISO string, default to now(). */
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** bigint columns: db/connection parses int8 as `bigint` (per pool), so these are always bigint. */
type Micros = ColumnType<bigint, bigint, bigint>;

export interface AccountsTable {
  id: string; // acc_…
  name: string;
  currency: string; // 'USD'
  /** Spendable now. CHECK (available_micros >= 0). */
  available_micros: ColumnType<bigint, bigint | undefined, bigint>;
  /** Held for messages in flight. CHECK (reserved_micros >= 0). */
  reserved_micros: ColumnType<bigint, bigint | undefined, bigint>;
  webhook_secret: string;
  /** The secret before the last rotation; callbacks are signed with it too until it expires. */
  previous_webhook_secret: ColumnType<string | null, string | null | undefined, string | null>;
  previous_webhook_secret_expires_at: ColumnType<
    Date | null,
    Date | string | null | undefined,
    Date | string | null
  >;
  /** Where inbound messages are forwarded (DESIGN §11); null: stored only. */
  inbound_url: ColumnType<string | null, string | null | undefined, string | null>;
  /** The status callback URL of a send that names none. */
  callback_url: ColumnType<string | null, string | null | undefined, string | null>;
  /** The shape inbound messages are forwarded in. */
  inbound_format: ColumnType<ApiFormat, ApiFormat | undefined, ApiFormat>;
  /** Keyword replies: null = the default text, '' = no reply. */
  stop_reply: ColumnType<string | null, string | null | undefined, string | null>;
  start_reply: ColumnType<string | null, string | null | undefined, string | null>;
  help_reply: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

/** Which API a message came through (and so the shape of its callbacks). */
export type ApiFormat = 'herald' | 'twilio';

export interface ApiKeysTable {
  id: string; // key_…
  account_id: string;
  /** SHA-256 hex of the full key; the key itself is never stored. */
  key_hash: string;
  /** First characters of the key, for operators to recognise it. */
  prefix: string;
  created_at: CreatedAt;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export type LedgerKind = 'credit' | 'reserve' | 'capture' | 'release' | 'refund';
/** 1 = a message's first submission, 2 = its failover after a negative receipt. */
export type LedgerLeg = 1 | 2;

export interface LedgerEntriesTable {
  /** Identity column (int8): increases with insertion order; listLedger pages on it. */
  id: Generated<bigint>;
  account_id: string;
  /** Null for credits; unique (message_id, leg, kind) otherwise, which makes money moves idempotent. */
  message_id: string | null;
  /** The message's leg: 1 = first submission, 2 = a failover after a negative receipt ({@link LedgerLeg}). */
  leg: ColumnType<LedgerLeg, LedgerLeg | undefined, never>;
  kind: LedgerKind;
  /** Always > 0; the kind says which way it moves (see db/ledger.ts). */
  amount_micros: Micros;
  /** Available balance right after this entry. */
  available_after_micros: Micros;
  reserved_after_micros: Micros;
  /** For credits: the caller's reference, unique per account when given. */
  reference: string | null;
  created_at: CreatedAt;
}

export interface MessagesTable {
  id: string; // msg_…
  account_id: string;
  idempotency_key: string | null;
  /** SHA-256 of the canonical request; same key + different hash → 409. */
  request_hash: string;
  to_number: string;
  from_sender: string;
  body: string;
  country: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
  quote_micros: Micros;
  price_micros: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  status: MessageStatus;
  carrier_id: string | null;
  carrier_message_id: string | null;
  error_code: string | null;
  error_message: string | null;
  carrier_error_code: string | null;
  validity_seconds: number;
  callback_url: string | null;
  /** Lane (domain/priority.ts); `normal` when the request named none. */
  priority: ColumnType<Priority, Priority | undefined, Priority>;
  /** The verification that sent it (its workflow owns the message), or null. */
  verification_id: ColumnType<string | null, string | null | undefined, never>;
  /** The API that created it: its status callbacks take that API's shape. */
  api_format: ColumnType<ApiFormat, ApiFormat | undefined, never>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface VerificationsTable {
  id: string; // ver_…
  account_id: string;
  to_number: string;
  country: string;
  status: VerificationStatus;
  code_length: number;
  locale: string;
  app_name: string | null;
  /** The account's own template (with `{{code}}`), or null for the locale's. */
  template: string | null;
  expires_at: ColumnType<Date, Date | string, never>;
  checks_left: number;
  sends: ColumnType<number, number | undefined, number>;
  last_sent_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The latest message sent for it. */
  message_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The destination's prefix (domain/fraud.ts numberPrefix): the fraud guard counts by it. */
  number_prefix: ColumnType<string | null, string | null | undefined, never>;
  /** When it left `pending` (approved, failed, expired or canceled): set once. */
  decided_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface MessageEventsTable {
  /** Identity column (int8), in insertion order. */
  id: Generated<bigint>;
  message_id: string;
  status: MessageStatus;
  /** Free-form detail, never a phone number or body. */
  detail: ColumnType<Record<string, unknown> | null, string | null | undefined, never>;
  at: CreatedAt;
}

export type AttemptOutcome = 'accepted' | 'retry' | 'failover' | 'permanent' | 'ambiguous';

export interface MessageAttemptsTable {
  id: Generated<bigint>;
  message_id: string;
  carrier_id: string;
  /** 1-based across the whole message. Unique (message_id, attempt). */
  attempt: number;
  /** Null while the request is in flight: a row left null after a crash means "maybe sent". */
  outcome: AttemptOutcome | null;
  error_code: string | null;
  carrier_error_code: string | null;
  error_message: string | null;
  carrier_message_id: string | null;
  /** What the carrier reported it billed for this attempt (micro-units, its account's currency); null: not reported. */
  carrier_cost_micros: ColumnType<bigint | null, bigint | null | undefined, bigint | null>;
  started_at: CreatedAt;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface CarriersTable {
  id: string; // 'twilio-sim'
  kind: string; // adapter kind: 'twilio', 'vonage'
  /** Adapter configuration (base URL, credentials), validated by the adapter's zod schema. */
  config: ColumnType<Record<string, unknown>, string, string>;
  /** Submits per second; the carrier task queue's server-side rate limit. */
  tps: number;
  enabled: boolean;
  created_at: CreatedAt;
}

export interface CarrierPricesTable {
  carrier_id: string;
  country: string; // ISO 3166-1 alpha-2
  /** Price per segment. */
  price_micros: Micros;
  enabled: boolean;
  updated_at: UpdatedAt;
}

export interface RouteStatsTable {
  carrier_id: string;
  country: string;
  /** Exponentially weighted acceptance rate in [0, 1]. */
  success_ewma: number;
  attempts: number;
  consecutive_failures: number;
  updated_at: UpdatedAt;
  /** Exponentially weighted delivery rate (final receipts) in [0, 1]; 1 before any receipt. */
  delivery_ewma: ColumnType<number, number | undefined, number>;
  /** Final receipts folded into delivery_ewma. */
  receipts: ColumnType<number, number | undefined, number>;
  /** EWMA of the submit round trip, ms; 0 before any. */
  submit_latency_ms: ColumnType<number, number | undefined, number>;
  /** EWMA of acceptance → final receipt, ms; 0 before any. */
  receipt_latency_ms: ColumnType<number, number | undefined, number>;
  /** Circuit breaker; half-open is derived (open and cooled down). */
  circuit_state: ColumnType<'closed' | 'open', 'closed' | 'open' | undefined, 'closed' | 'open'>;
  opened_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The single half-open probe handed out, if any. */
  probe_started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface CarrierRateLimitsTable {
  carrier_id: string;
  /** Epoch ms (database clock) from which the carrier's next segment may go. */
  next_free_ms: number;
}

export interface ReceiptsTable {
  id: Generated<bigint>;
  carrier_id: string;
  carrier_message_id: string;
  message_id: string | null;
  status: string; // normalized ReceiptStatus
  carrier_status: string;
  error_code: string | null;
  raw: string;
  received_at: CreatedAt;
}

/** What came of one status callback attempt (`failed` is retried; the others are final). */
export type CallbackOutcome = 'delivered' | 'failed' | 'gone' | 'refused' | 'abandoned';

export interface CallbackAttemptsTable {
  id: Generated<bigint>;
  message_id: string;
  /** `Herald-Event-Id` of the callback. */
  event_id: string;
  /** The message status the event reports. */
  status: MessageStatus;
  /** Temporal's attempt number of the delivery; null on a verdict row (the event was given up). */
  attempt: number | null;
  outcome: CallbackOutcome;
  /** The receiver's answer; null when none came (network error, refused URL). */
  http_status: number | null;
  error: string | null;
  at: CreatedAt;
}

/** One part of a multi-part message as the carrier numbered it (SMPP: one id per segment). */
export interface MessagePartsTable {
  message_id: string;
  carrier_id: string;
  /** 1-based. */
  part: number;
  /** Normalized (adapters/smpp-ids.ts). */
  carrier_message_id: string;
}

export interface Database {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  ledger_entries: LedgerEntriesTable;
  messages: MessagesTable;
  message_events: MessageEventsTable;
  message_attempts: MessageAttemptsTable;
  carriers: CarriersTable;
  carrier_prices: CarrierPricesTable;
  route_stats: RouteStatsTable;
  carrier_rate_limits: CarrierRateLimitsTable;
  receipts: ReceiptsTable;
  message_parts: MessagePartsTable;
  callback_attempts: CallbackAttemptsTable;
  verifications: VerificationsTable;
  verification_attempts: VerificationAttemptsTable;
  fraud_blocks: FraudBlocksTable;
  verification_settings: VerificationSettingsTable;
  opt_outs: OptOutsTable;
  numbers: NumbersTable;
  inbound_messages: InboundMessagesTable;
  inbound_parts: InboundPartsTable;
  twilio_credentials: TwilioCredentialsTable;
}

/** A mobile-originated message (DESIGN §11), stored once per carrier id. */
export interface InboundMessagesTable {
  id: string; // inb_…
  carrier_id: string;
  /** The carrier's id (of the first part, for a concatenated message). */
  carrier_message_id: string;
  /** The owner of `to_number`; null when no account owns it. */
  account_id: string | null;
  /** The mobile number that sent it, E.164. */
  from_number: string;
  /** Our number (or sender id) it was sent to. */
  to_number: string;
  body: string;
  parts: number;
  keyword: InboundKeyword | null;
  /** The keyword's confirmation, sent as a message. */
  reply_message_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Null while forwarding is pending; 'none' when the account has no inbound URL. */
  forward_outcome: ColumnType<
    ForwardOutcome | null,
    ForwardOutcome | null | undefined,
    ForwardOutcome | null
  >;
  forward_attempts: ColumnType<number, number | undefined, number>;
  forwarded_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  received_at: CreatedAt;
}

export type ForwardOutcome = 'delivered' | 'refused' | 'gone' | 'abandoned' | 'none';

/** A part of a concatenated inbound message (one row per carrier part id). */
export interface InboundPartsTable {
  carrier_id: string;
  carrier_message_id: string;
  /** Sender, recipient, the carrier's concatenation reference and the part count. */
  concat_key: string;
  seq: number;
  total: number;
  text: string;
  /** The message it was assembled into; null while its message waits for other parts. */
  inbound_id: ColumnType<string | null, string | null | undefined, string | null>;
  received_at: CreatedAt;
}

/** An account's Twilio-compatible credentials (DESIGN §11). */
export interface TwilioCredentialsTable {
  account_id: string;
  /** `AC` + 32 hex. */
  account_sid: string;
  /** 32 hex; Herald signs the account's Twilio-format callbacks with it. */
  auth_token: string;
  created_at: CreatedAt;
  rotated_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** A sender an admin assigned to an account (DESIGN §11). */
export interface NumbersTable {
  /** E.164 number, or an alphanumeric sender id as written. */
  sender: string;
  account_id: string;
  kind: 'number' | 'alphanumeric';
  /** The carrier it is provisioned on; null: any. */
  carrier_id: string | null;
  created_at: CreatedAt;
}

/** A number an account may not send to (DESIGN §11). */
export interface OptOutsTable {
  account_id: string;
  /** E.164. */
  number: string;
  /** `api`: recorded by the account; `keyword`: the number's owner texted STOP. */
  source: 'api' | 'keyword';
  created_at: CreatedAt;
}

export type VerificationAttemptOutcome = 'created' | 'geo_blocked' | 'rate_limited' | 'fraud_suspected';

/** Every verification request, allowed or refused: what the fraud guard counts. */
export interface VerificationAttemptsTable {
  id: Generated<bigint>;
  account_id: string;
  number_prefix: string;
  country: string;
  outcome: VerificationAttemptOutcome;
  created_at: CreatedAt;
}

export interface FraudBlocksTable {
  id: string; // blk_…
  scope: BlockScope;
  value: string;
  reason: string;
  /** The counts that triggered it. */
  attempts: number;
  verifications: number;
  approved: number;
  created_at: CreatedAt;
  lifted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface VerificationSettingsTable {
  account_id: string;
  allowed_countries: string[];
  updated_at: UpdatedAt;
}

export type Account = Selectable<AccountsTable>;
export type NewAccount = Insertable<AccountsTable>;
export type Message = Selectable<MessagesTable>;
export type NewMessage = Insertable<MessagesTable>;
export type Verification = Selectable<VerificationsTable>;
export type NewVerification = Insertable<VerificationsTable>;
export type FraudBlock = Selectable<FraudBlocksTable>;
export type OptOut = Selectable<OptOutsTable>;
export type AssignedNumber = Selectable<NumbersTable>;
export type InboundMessage = Selectable<InboundMessagesTable>;
export type InboundPart = Selectable<InboundPartsTable>;
export type TwilioCredentials = Selectable<TwilioCredentialsTable>;
export type MessageUpdate = Updateable<MessagesTable>;
export type MessageEvent = Selectable<MessageEventsTable>;
export type MessageAttempt = Selectable<MessageAttemptsTable>;
export type LedgerEntry = Selectable<LedgerEntriesTable>;
export type Carrier = Selectable<CarriersTable>;
export type CarrierPrice = Selectable<CarrierPricesTable>;
export type RouteStats = Selectable<RouteStatsTable>;
export type ReceiptRow = Selectable<ReceiptsTable>;
export type CallbackAttempt = Selectable<CallbackAttemptsTable>;
