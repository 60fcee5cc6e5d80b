/**
 * Everything the API needs to start, signal and query message workflows. Kept free of workflow
 * logic so the API can import it without pulling the workflow body into its process.
 */
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Priority } from '../domain/priority.ts';
import type { Encoding } from '../domain/segments.ts';
import type { MessageStatus } from '../domain/status.ts';

/**
 * Workflow type of every new message run (workflows/send-message.ts), started by name so the API
 * and the reconciler never import workflow code.
 */
export const MESSAGE_WORKFLOW_TYPE = 'sendMessageV2';
/** The type of message runs started before `sendMessageV2` (still registered for open runs). */
export const LEGACY_MESSAGE_WORKFLOW_TYPE = 'sendMessage';
/** Every type a message run may have. */
export const MESSAGE_WORKFLOW_TYPES: readonly string[] = [
  LEGACY_MESSAGE_WORKFLOW_TYPE,
  MESSAGE_WORKFLOW_TYPE,
];

/** The main task queue: message workflows and their database activities. */
export const MAIN_TASK_QUEUE = 'herald-main';
/** Each carrier's submit activities run on their own queue, rate-limited to the carrier's TPS. */
export const carrierTaskQueue = (carrierId: string): string => `carrier-${carrierId}`;

export interface SendMessageInput {
  readonly messageId: string;
  readonly accountId: string;
  readonly to: string;
  readonly from: string;
  readonly body: string;
  readonly country: string;
  readonly encoding: Encoding;
  readonly segments: number;
  readonly validitySeconds: number;
  /**
   * End of the validity period (epoch ms), counted from when the message was stored rather than
   * from when its workflow started: a message stranded before its start (services/stranded-messages.ts)
   * must not get its whole validity again. Absent in runs started before it existed; their
   * validity counts from admission.
   */
  readonly notAfter?: number;
  /**
   * The message's lane. The run's Temporal priority (set at start, inherited by its activities)
   * carries it; the input has it for the carrier pacer's booking horizon. Absent in runs started
   * before lanes existed: `normal`.
   */
  readonly priority?: Priority;
  /**
   * A verification's message: its body holds the code masked at `offset` (`length` characters),
   * and the submit puts in the code derived for `verificationId` just before the carrier call
   * (DESIGN §10), so the code is in no history, row or log. Absent for every other message.
   */
  readonly code?: VerificationCodeRef;
}

/** Where a verification message's code goes and whose it is. */
export interface VerificationCodeRef {
  readonly verificationId: string;
  readonly offset: number;
  readonly length: number;
}

/** A receipt as the webhook (or SMPP session) hands it to the workflow. */
export interface ReceiptSignal {
  readonly carrierId: string;
  readonly carrierMessageId: string;
  readonly status: 'enroute' | 'delivered' | 'undelivered' | 'expired' | 'failed';
  readonly carrierStatus: string;
  readonly errorCode?: string;
  readonly errorMessage?: string;
}

export interface MessageProgress {
  readonly status: MessageStatus;
  readonly carrierId: string | null;
  readonly carrierMessageId: string | null;
  readonly attempts: number;
}

export const receiptSignal = defineSignal<[ReceiptSignal]>('receipt');
export const progressQuery = defineQuery<MessageProgress>('progress');

// Search attributes: plain text in Temporal, so never a phone number or a body.
export const HeraldStatus = defineSearchAttributeKey('HeraldStatus', 'KEYWORD');
export const HeraldCarrier = defineSearchAttributeKey('HeraldCarrier', 'KEYWORD');
export const HeraldCountry = defineSearchAttributeKey('HeraldCountry', 'KEYWORD');
export const HeraldAccount = defineSearchAttributeKey('HeraldAccount', 'KEYWORD');
export const HeraldPriority = defineSearchAttributeKey('HeraldPriority', 'KEYWORD');

/** Registered on the dev server at start (`--search-attribute`) and on external servers by scripts. */
export const SEARCH_ATTRIBUTES = [
  'HeraldStatus',
  'HeraldCarrier',
  'HeraldCountry',
  'HeraldAccount',
  'HeraldPriority',
] as const;

/** Cancel answers synchronously: true when the message was stopped before any carrier saw it. */
export const cancelUpdate = defineUpdate<{ canceled: boolean }>('cancel');
