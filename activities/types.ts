/**
 * What crosses the workflow ↔ activity boundary. Amounts are decimal strings (DESIGN §4): the
 * Temporal JSON converter cannot carry bigint, and a string keeps the history readable.
 */
import type { CarrierError } from '../domain/carrier-error.ts';
import type { Priority } from '../domain/priority.ts';
import type { Encoding } from '../domain/segments.ts';
import type { MessageStatus } from '../domain/status.ts';
import type { VerificationCodeRef } from '../workflows/definitions.ts';

export interface PlannedRoute {
  readonly carrierId: string;
  readonly kind: string;
  /** Per segment, decimal string. */
  readonly price: string;
  /** The breaker's state when the route was planned. */
  readonly circuit?: 'closed' | 'open' | 'half_open';
  /** This message holds the half-open route's single probe. */
  readonly probe?: boolean;
  /** Receipt error codes of this carrier that mean "try the next route" (carrier config). */
  readonly failoverReceiptCodes?: readonly string[];
  /**
   * How long a submit may wait on the carrier's task queue before it counts as "no worker polls
   * this carrier" and fails over, ms (RoutingSettings.carrierQueueTimeoutMs). Absent in plans made
   * before it existed: the workflow's default.
   */
  readonly queueTimeoutMs?: number;
}

export interface AdmitInput {
  readonly messageId: string;
  readonly accountId: string;
  readonly country: string;
  readonly segments: number;
}

export type AdmitResult =
  | { readonly outcome: 'reserved'; readonly routes: PlannedRoute[]; readonly quote: string }
  | { readonly outcome: 'no_route' | 'insufficient_funds' };

export interface SubmitInput {
  readonly messageId: string;
  readonly carrierId: string;
  readonly country: string;
  /** 1-based across the whole message; with the message id it keys the attempt row. */
  readonly attempt: number;
  readonly to: string;
  readonly from: string;
  readonly body: string;
  readonly encoding: Encoding;
  readonly segments: number;
  readonly validitySeconds: number;
  /**
   * Refuse at once (class `failover`, code `circuit_open`) when this worker has seen the route's
   * breaker open since planning. False for probes and for routes planned while open.
   */
  readonly skipIfOpen?: boolean;
  /** The message's lane: how far ahead it may book the carrier's timeline. Default `normal`. */
  readonly priority?: Priority;
  /** A verification message's code placement (SendMessageInput.code); absent otherwise. */
  readonly code?: VerificationCodeRef;
  /**
   * Run as a local activity (workflows/send-message.ts): send only when the carrier's pacer has a
   * slot within `LOCAL_SUBMIT_HORIZON_MS` (domain/priority.ts), else answer `use_carrier_queue` without sending.
   */
  readonly local?: boolean;
}

export type SubmitOutcome =
  | {
      readonly ok: true;
      readonly carrierMessageId: string;
      readonly segments: number;
      /** How many receipts the carrier sends for this message (one per part for some carriers). */
      readonly receiptParts: number;
    }
  | { readonly ok: false; readonly error: CarrierError };

export interface FinishInput {
  readonly messageId: string;
  readonly accountId: string;
  readonly status: Extract<MessageStatus, 'delivered' | 'undelivered' | 'failed' | 'canceled' | 'expired'>;
  /** What the carrier billed, decimal string; the rest of the reservation is released. */
  readonly capture: string;
  readonly carrierId?: string;
  readonly carrierMessageId?: string;
  readonly error?: { readonly code: string; readonly message: string; readonly carrierCode?: string };
  /** Final receipts seen, for the route score (delivered or not, ms from acceptance). */
  readonly deliveryOutcomes?: readonly DeliveryOutcome[];
  /**
   * A failover after a receipt was reserved separately (see {@link ReserveFailoverInput}):
   * what the second carrier billed, decimal string; the rest of that reservation is released.
   */
  readonly failoverCapture?: string;
}

export interface DeliveryOutcome {
  readonly carrierId: string;
  readonly country: string;
  readonly delivered: boolean;
  readonly latencyMs: number;
}

/** The extra reservation a failover after a receipt needs: the next route's price × segments. */
export interface ReserveFailoverInput {
  readonly messageId: string;
  readonly accountId: string;
  /** Decimal string. */
  readonly amount: string;
}

export interface FinishResult {
  readonly captured: string;
  readonly released: string;
}
