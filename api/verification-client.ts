/**
 * The API's side of a verification's workflow (DESIGN §10): start it, and ask it — a check, a
 * resend, a cancel are Updates, so the workflow decides each and the answer is synchronous. A closed
 * workflow is a normal answer (`closed`: the row holds its decision); anything else is a 503.
 */
import {
  type Client,
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
} from '@temporalio/client';
import { TEMPORAL_CALL_TIMEOUT_MS } from '../config/defaults.ts';
import type { Verification } from '../db/schema.ts';
import { PRIORITY_KEYS } from '../domain/priority.ts';
import {
  HeraldAccount,
  HeraldCountry,
  HeraldPriority,
  HeraldStatus,
  MAIN_TASK_QUEUE,
} from '../workflows/definitions.ts';
import {
  cancelVerificationUpdate,
  checkUpdate,
  type ResendOutcome,
  resendUpdate,
  VERIFY_WORKFLOW,
  type VerificationState,
  type VerifyInput,
  verificationStateQuery,
  verifyWorkflowId,
} from '../workflows/verification-definitions.ts';
import { serviceUnavailable } from './errors.ts';

type VerifyWorkflow = (input: VerifyInput) => Promise<VerificationState>;

/**
 * Starts the verification's workflow in the `high` lane (every check is one of its workflow tasks).
 * @throws ApiError 503 when Temporal does not take it in time.
 */
export async function startVerifyWorkflow(
  temporal: Client,
  v: Verification,
  expectedProof: string,
): Promise<void> {
  try {
    await temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () =>
      temporal.workflow.start<VerifyWorkflow>(VERIFY_WORKFLOW, {
        taskQueue: MAIN_TASK_QUEUE,
        workflowId: verifyWorkflowId(v.id),
        args: [
          { verificationId: v.id, accountId: v.account_id, expiresAt: v.expires_at.getTime(), expectedProof },
        ],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        priority: { priorityKey: PRIORITY_KEYS.high, fairnessKey: v.account_id },
        staticSummary: ['verification', v.country, v.account_id, `${v.code_length} digits`].join(' · '),
        typedSearchAttributes: [
          { key: HeraldStatus, value: 'pending' },
          { key: HeraldAccount, value: v.account_id },
          { key: HeraldCountry, value: v.country },
          { key: HeraldPriority, value: 'high' },
        ],
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw serviceUnavailable('the verification could not be started; retry', err);
  }
}

/** An Update's answer, or `closed` when the workflow has decided and ended (the row says how). */
export type Asked<T> = { readonly closed: false; readonly answer: T } | { readonly closed: true };

async function ask<T>(temporal: Client, fn: () => Promise<T>): Promise<Asked<T>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return {
        closed: false,
        answer: await temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, fn),
      };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError)
        return { closed: true };
      // The workflow task carrying the Update was failed by the server (another event, such as its
      // message's run ending, arrived while it ran): the Update was never accepted, so asking again
      // is safe, and the next task takes it.
      if (attempt < MAX_UPDATE_ATTEMPTS && updateTaskFailed(err)) continue;
      throw serviceUnavailable('could not reach the verification workflow; retry later', err);
    }
  }
}

/** gRPC status FAILED_PRECONDITION (the server's answer when an Update's workflow task failed). */
const GRPC_FAILED_PRECONDITION = 9;
/** Tries of one Update whose workflow task the server failed. */
const MAX_UPDATE_ATTEMPTS = 3;

function updateTaskFailed(err: unknown): boolean {
  const cause = err instanceof ServiceError ? err.cause : undefined;
  return (
    isGrpcServiceError(cause) &&
    cause.code === GRPC_FAILED_PRECONDITION &&
    /workflow task failure/i.test(cause.details ?? '')
  );
}

/** A pending verification's live state (checks left), or undefined when the workflow cannot say. */
export async function verificationState(
  temporal: Client,
  id: string,
): Promise<VerificationState | undefined> {
  try {
    return await temporal.withDeadline(Date.now() + TEMPORAL_CALL_TIMEOUT_MS, () =>
      temporal.workflow.getHandle(verifyWorkflowId(id)).query(verificationStateQuery),
    );
  } catch {
    return undefined;
  }
}

export function checkVerification(
  temporal: Client,
  id: string,
  proof: string,
): Promise<Asked<VerificationState>> {
  return ask(temporal, () =>
    temporal.workflow.getHandle(verifyWorkflowId(id)).executeUpdate(checkUpdate, { args: [{ proof }] }),
  );
}

export function resendVerification(temporal: Client, id: string): Promise<Asked<ResendOutcome>> {
  return ask(temporal, () => temporal.workflow.getHandle(verifyWorkflowId(id)).executeUpdate(resendUpdate));
}

export function cancelVerification(temporal: Client, id: string): Promise<Asked<VerificationState>> {
  return ask(temporal, () =>
    temporal.workflow.getHandle(verifyWorkflowId(id)).executeUpdate(cancelVerificationUpdate),
  );
}
