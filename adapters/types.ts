import type { CarrierError } from '../domain/carrier-error.ts';
import type { Encoding } from '../domain/segments.ts';

/** What the workflow hands a carrier adapter for one message. */
export interface SubmitRequest {
  /** Herald's message id; travels as the carrier's client reference / in the callback URL. */
  readonly messageId: string;
  /** E.164 with leading `+`. */
  readonly to: string;
  readonly from: string;
  readonly body: string;
  readonly encoding: Encoding;
  readonly segments: number;
  /** Seconds the carrier may keep trying; maps to ValidityPeriod / ttl. */
  readonly validitySeconds: number;
  /**
   * Absolute URL the carrier should post receipts to for this message, already carrying our
   * message id (e.g. `https://herald.example/webhooks/carriers/twilio-sim?mid=msg_x`).
   */
  readonly statusCallbackUrl: string;
}

export type SubmitResult =
  | {
      readonly ok: true;
      readonly carrierMessageId: string;
      readonly segments?: number;
      readonly priceMicros?: bigint;
      /** Receipts to expect: carriers such as Vonage send one per part. Default 1. */
      readonly receiptParts?: number;
      /** Every part's carrier id (SMPP: one per submit_sm), stored so per-part receipts match. */
      readonly partIds?: readonly string[];
    }
  | { readonly ok: false; readonly error: CarrierError };

/** An inbound HTTP request as the webhook route saw it, before any parsing. */
export interface InboundHttp {
  readonly method: string;
  /** The full public URL the carrier posted to, including the query string (signatures cover it). */
  readonly url: string;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawBody: string;
}

/** Normalized receipt statuses: `enroute` is intermediate, the rest are final. */
export type ReceiptStatus = 'enroute' | 'delivered' | 'undelivered' | 'expired' | 'failed';

export interface Receipt {
  readonly carrierMessageId: string;
  /** Our message id when the carrier echoes it (client-ref, callback URL parameter). */
  readonly messageId?: string;
  readonly status: ReceiptStatus;
  /** The carrier's raw status word (`delivered`, `DELIVRD`, `undelivered`). */
  readonly carrierStatus: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
  /** When the carrier says it happened (ISO-8601), if it says. */
  readonly at?: string;
}

/**
 * A mobile-originated message as a carrier delivered it (DESIGN §11): a whole message, or one
 * part of a concatenated one (`concat`) when the carrier does not reassemble them.
 */
export interface InboundPart {
  /** The carrier's id of this message (or part); redeliveries carry the same id. */
  readonly carrierMessageId: string;
  /** The mobile number that sent it, E.164 with `+`. */
  readonly from: string;
  /** Our number it was sent to (E.164 with `+`), or a sender id as written. */
  readonly to: string;
  readonly text: string;
  /** This part's place in a concatenated message; absent for a whole message. */
  readonly concat?: { readonly ref: string; readonly total: number; readonly seq: number };
}

/** The HTTP answer a carrier expects to a webhook it posted. */
export interface WebhookAck {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** DESIGN §5. Adapters never touch the database and never throw transport errors from submit. */
export interface CarrierAdapter {
  readonly kind: string;
  submit(req: SubmitRequest): Promise<SubmitResult>;
  /** Webhook body → receipts. Throws `ReceiptParseError` on a malformed body. */
  parseReceipts(req: InboundHttp): Receipt[];
  /** Webhook signature / shared-secret check, in constant time. */
  verify(req: InboundHttp): boolean;
  /** The HTTP status and body the carrier expects in answer to a receipt it posted. */
  readonly receiptAck?: WebhookAck;
  /**
   * Inbound webhook body → messages (or parts). Absent: the carrier delivers no inbound messages
   * over HTTP (SMPP: they arrive as `deliver_sm` on the bind). Throws `ReceiptParseError`.
   * Requests are authenticated with `verify`, as receipts are.
   */
  parseInbound?(req: InboundHttp): InboundPart[];
  /** The answer the carrier expects to an inbound message. Default: like `receiptAck`. */
  readonly inboundAck?: WebhookAck;
}

export class ReceiptParseError extends Error {
  override readonly name = 'ReceiptParseError';
}
