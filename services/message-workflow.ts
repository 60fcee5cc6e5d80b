/**
 * Starting a message's workflow, the one way the API (at accept) and the worker's stranded-message
 * reconciler (services/stranded-messages.ts) both do it: workflow id = message id, input built
 * from the stored row, the same summary, details and search attributes. The workflow is addressed
 * by name (never imported), so this module stays free of workflow code.
 */
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowStartOptions,
} from '@temporalio/client';
import { TEMPORAL_CALL_TIMEOUT_MS } from '../config/defaults.ts';
import type { Message } from '../db/schema.ts';
import { PRIORITY_KEYS } from '../domain/priority.ts';
import {
  HeraldAccount,
  HeraldCountry,
  HeraldPriority,
  HeraldStatus,
  MAIN_TASK_QUEUE,
  MESSAGE_WORKFLOW_TYPE,
  type SendMessageInput,
} from '../workflows/definitions.ts';

type SendMessageWorkflow = (input: SendMessageInput) => Promise<unknown>;

/** What {@link startMessageWorkflow} did. */
export type StartOutcome =
  /** A new run was started, or (`USE_EXISTING`) the running one was reused. */
  | 'started'
  /** A run for this message exists already (`FAIL`), or one has closed (never started twice). */
  | 'already_started';

/** Options of {@link startMessageWorkflow}. */
export interface StartMessageWorkflowOptions {
  /**
   * What to do when a run for the message is open: `USE_EXISTING` reuses it and answers `started`
   * (the API, which only needs to know the message is under way); `FAIL` answers
   * `already_started` (the reconciler, which reports only the runs it really started).
   * Default `USE_EXISTING`. Either way no second run is created.
   */
  readonly conflictPolicy?: 'USE_EXISTING' | 'FAIL';
  /** Longest wait on Temporal, ms. Default {@link TEMPORAL_CALL_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
}

/**
 * The start options of the message's workflow. `REJECT_DUPLICATE`: a closed run for the id is
 * never followed by a second one, so the message is never sent twice, however often this runs.
 * The lane is the run's Temporal priority and the account its fairness key (DESIGN §9); the
 * run's activities inherit both, so the main queue and every carrier queue dispatch in lane
 * order, and within a lane share out between accounts instead of first come, first served.
 */
export function messageWorkflowOptions(message: Message): WorkflowStartOptions<SendMessageWorkflow> {
  return {
    taskQueue: MAIN_TASK_QUEUE,
    workflowId: message.id,
    args: [workflowInput(message)],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: workflowSummary(message),
    staticDetails: workflowDetails(message),
    priority: { priorityKey: PRIORITY_KEYS[message.priority], fairnessKey: message.account_id },
    typedSearchAttributes: [
      { key: HeraldStatus, value: 'accepted' },
      { key: HeraldAccount, value: message.account_id },
      { key: HeraldCountry, value: message.country },
      { key: HeraldPriority, value: message.priority },
    ],
  };
}

/**
 * Starts the message's workflow, idempotently: calling this twice, or after the run has closed,
 * never creates a second run.
 *
 * @throws the SDK's error when Temporal cannot be reached (or does not answer in time).
 */
export async function startMessageWorkflow(
  temporal: Client,
  message: Message,
  opts: StartMessageWorkflowOptions = {},
): Promise<StartOutcome> {
  const options: WorkflowStartOptions<SendMessageWorkflow> = {
    ...messageWorkflowOptions(message),
    workflowIdConflictPolicy: opts.conflictPolicy ?? 'USE_EXISTING',
  };
  try {
    await temporal.withDeadline(Date.now() + (opts.timeoutMs ?? TEMPORAL_CALL_TIMEOUT_MS), () =>
      temporal.workflow.start(MESSAGE_WORKFLOW_TYPE, options),
    );
    return 'started';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already_started';
    throw err;
  }
}

/**
 * One line the Temporal UI shows for the run, e.g. `US · acc_… · GSM-7 · 1 segment`. Never the
 * number or the body (the UI lists it beside every run).
 */
export function workflowSummary(message: Message): string {
  const segments = `${message.segments} segment${message.segments === 1 ? '' : 's'}`;
  return [message.country, message.account_id, message.encoding, segments, message.priority].join(' · ');
}

/** The run's static details (Temporal markdown): what was asked, not what happened. */
export function workflowDetails(message: Message): string {
  return [
    `**Message** ${message.id}`,
    `**Account** ${message.account_id}`,
    `**Country** ${message.country}`,
    `**Encoding** ${message.encoding}, ${message.segments} segment(s)`,
    `**Validity** ${message.validity_seconds} s`,
    `**Priority** ${message.priority}`,
  ].join('  \n');
}

/** The workflow's input, built from the stored row so every start of a message starts the same workflow. */
export function workflowInput(message: Message): SendMessageInput {
  return {
    messageId: message.id,
    accountId: message.account_id,
    to: message.to_number,
    from: message.from_sender,
    body: message.body,
    country: message.country,
    encoding: message.encoding,
    segments: message.segments,
    validitySeconds: message.validity_seconds,
    notAfter: message.created_at.getTime() + message.validity_seconds * 1000,
    priority: message.priority,
  };
}
