/**
 * Starting a stored message's run (`sendMessageV2`) from another workflow (a verification's code, an
 * inbound keyword's reply): a child that outlives its parent, in the message's lane with the
 * account as fairness key, its search attributes set from the start.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, patched, startChild } from '@temporalio/workflow';
import { PRIORITY_KEYS, type Priority } from '../domain/priority.ts';
import {
  HeraldAccount,
  HeraldCountry,
  HeraldPriority,
  HeraldStatus,
  LEGACY_MESSAGE_WORKFLOW_TYPE,
  MAIN_TASK_QUEUE,
  MESSAGE_WORKFLOW_TYPE,
  type SendMessageInput,
} from './definitions.ts';

/**
 * Runs that start message runs (verify, handleInbound) since this patch start them as
 * `sendMessageV2`; a child's type is part of its start command, so a run from before the release
 * keeps starting `sendMessage` when it replays (test/workflow/replay-children.test.ts). The
 * patch can go once no such run from before it is open (they last minutes).
 */
export const MESSAGE_RUNS_V2_PATCH = 'message-runs-v2';

/** A message stored by an activity, ready to start. */
export interface PreparedMessageRun {
  readonly messageId: string;
  readonly input: SendMessageInput;
  readonly summary: string;
  readonly details: string;
}

/** Starts the run; one started before this task was retried is left as it is. */
export async function startMessageRun(prepared: PreparedMessageRun, priority: Priority): Promise<void> {
  const type = patched(MESSAGE_RUNS_V2_PATCH) ? MESSAGE_WORKFLOW_TYPE : LEGACY_MESSAGE_WORKFLOW_TYPE;
  try {
    await startChild(type, {
      workflowId: prepared.messageId,
      taskQueue: MAIN_TASK_QUEUE,
      args: [prepared.input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      priority: { priorityKey: PRIORITY_KEYS[priority], fairnessKey: prepared.input.accountId },
      staticSummary: prepared.summary,
      staticDetails: prepared.details,
      typedSearchAttributes: [
        { key: HeraldStatus, value: 'accepted' },
        { key: HeraldAccount, value: prepared.input.accountId },
        { key: HeraldCountry, value: prepared.input.country },
        { key: HeraldPriority, value: priority },
      ],
    });
  } catch (err) {
    // Started before this task was retried: the message is under way, which is all we need.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}
