/**
 * What the status-callback workflow shares with the code that feeds it (activities, API):
 * its name and id scheme, the event it delivers, and the signal that carries events.
 */
import { defineSignal } from '@temporalio/workflow';
import type { MessageStatus } from '../domain/status.ts';

/** Workflow type name of workflows/deliver-callbacks.ts. */
export const DELIVER_CALLBACKS_WORKFLOW = 'deliverCallbacks';

/** One callback workflow per message. */
export const callbackWorkflowId = (messageId: string): string => `cb-${messageId}`;

/**
 * One status change of a message, exactly the JSON body POSTed to the callback URL. Never holds
 * a phone number or the text (it travels through Temporal history and the receiver's logs).
 */
export interface CallbackEvent {
  /** `<messageId>.<sequence>`; also the `Herald-Event-Id` header. Stable: receivers dedupe on it. */
  readonly eventId: string;
  readonly messageId: string;
  /** Position of this status in the message's history, `accepted` being 1. Increases by one per event. */
  readonly sequence: number;
  readonly status: MessageStatus;
  /** Null for the first status. */
  readonly previousStatus: MessageStatus | null;
  /** When the status changed, ISO-8601 UTC. */
  readonly at: string;
  /** The carrier handling the message (from `sending` on), else null. */
  readonly carrier: string | null;
  readonly carrierMessageId: string | null;
  readonly segments: number;
  /** What the message cost, six-place decimal string; on final statuses only, else null. */
  readonly price: string | null;
  /** On `failed`, `undelivered` and `expired`, else null. */
  readonly error: { readonly code: string; readonly message: string; readonly carrierCode?: string } | null;
}

/**
 * Events of one message, in order. Every signal carries the message's whole history so far, so a
 * signal lost after a crash is made good by the next one; the workflow ignores what it has seen.
 */
export const callbackEventsSignal = defineSignal<[CallbackEvent[]]>('callbackEvents');

/** Input of the callback workflow; the optional fields carry state across continue-as-new. */
export interface DeliverCallbacksInput {
  readonly messageId: string;
  /** Events received but not yet delivered. */
  readonly pending?: CallbackEvent[];
  /** Highest sequence already delivered (or given up). */
  readonly handledThrough?: number;
}
