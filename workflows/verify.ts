/**
 * One verification, end to end (DESIGN §10): send the code as a `high` message (a normal
 * `sendMessage` run, charged as usual), then decide once — approved by a right check, failed by
 * the last wrong one, expired at its end, or canceled — while serving resends. Checks are Updates,
 * so each is decided here and survives any crash; the code never reaches this workflow, only a
 * keyed proof of it. Deterministic: imports only @temporalio/workflow, domain/ and types.
 */

import {
  allHandlersFinished,
  CancellationScope,
  condition,
  isCancellation,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index.ts';
import {
  constantTimeEqual,
  MAX_CHECKS,
  MAX_SENDS,
  RESEND_COOLDOWN_MS,
  type VerificationStatus,
} from '../domain/verification.ts';
import { HeraldStatus } from './definitions.ts';
import { startMessageRun } from './start-message-run.ts';
import {
  cancelVerificationUpdate,
  checkUpdate,
  type ResendOutcome,
  resendUpdate,
  type VerificationState,
  type VerifyInput,
  verificationStateQuery,
} from './verification-definitions.ts';

const PROOF = /^[0-9a-f]{64}$/;

const db = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

export async function verify(input: VerifyInput): Promise<VerificationState> {
  let status: VerificationStatus = 'pending';
  let checksLeft = MAX_CHECKS;
  let sends = 0;
  let lastSentAt = 0;
  const state = (): VerificationState => ({ status, checksLeft, sendsLeft: MAX_SENDS - sends });

  // Writes run one after another, each with the state as it is when it runs, so a slow earlier
  // write never lands after a later one; a state already written is not written again (a cancel
  // writes its decision before answering, and the end of the run would write it a second time).
  let recording: Promise<void> = Promise.resolve();
  let written = '';
  const record = (): Promise<void> => {
    recording = recording.then(async () => {
      const now = `${status}/${checksLeft}`;
      if (now === written) return;
      await db.recordVerification({ verificationId: input.verificationId, status, checksLeft });
      written = now;
    });
    return recording;
  };
  /** The one decision: only from `pending`. */
  const decide = (next: Exclude<VerificationStatus, 'pending'>): void => {
    if (status !== 'pending') return;
    status = next;
    upsertSearchAttributes([{ key: HeraldStatus, value: next }]);
  };
  const expireIfDue = (): void => {
    if (Date.now() >= input.expiresAt) decide('expired');
  };

  /** Stores the `n`-th message (code masked) and starts its run; it outlives this workflow. */
  const send = async (n: number): Promise<void> => {
    sends = n;
    lastSentAt = Date.now();
    const prepared = await db.prepareVerificationMessage({ verificationId: input.verificationId, send: n });
    if (!prepared.ok) {
      // Nothing was sent: the code cannot arrive in time (or at all), so it cannot be approved.
      decide(prepared.reason === 'expired' ? 'expired' : 'failed');
      return;
    }
    await startMessageRun(prepared, 'high');
  };

  setHandler(verificationStateQuery, state);
  setHandler(
    checkUpdate,
    async ({ proof }) => {
      expireIfDue();
      if (status !== 'pending') return state();
      checksLeft -= 1;
      if (constantTimeEqual(proof, input.expectedProof)) decide('approved');
      else if (checksLeft === 0) decide('failed');
      // Nothing is written here: a check is one cheap workflow task. GET reads a pending
      // verification's state from this workflow; the row gets the decision just after the answer.
      return state();
    },
    {
      // Rejected before it reaches history: a malformed check is no check.
      validator: ({ proof }) => {
        if (typeof proof !== 'string' || !PROOF.test(proof)) throw new Error('malformed proof');
      },
    },
  );
  setHandler(resendUpdate, async (): Promise<ResendOutcome> => {
    expireIfDue();
    if (status !== 'pending') return { outcome: 'not_pending', state: state() };
    if (sends >= MAX_SENDS) return { outcome: 'no_sends_left', state: state() };
    const wait = lastSentAt + RESEND_COOLDOWN_MS - Date.now();
    if (wait > 0) return { outcome: 'cooldown', retryAfterMs: wait, state: state() };
    await send(sends + 1);
    return { outcome: 'sent', state: state() };
  });
  setHandler(cancelVerificationUpdate, async () => {
    expireIfDue();
    if (status === 'pending') {
      decide('canceled');
      await record();
    }
    return state();
  });

  try {
    await send(1);
    const decidedInTime = await condition(
      () => status !== 'pending',
      Math.max(0, input.expiresAt - Date.now()),
    );
    decide('expired');
    // A check that decided is answered by the workflow task that ends with this timer; the row is
    // written in the next one (a local activity would hold that answer until the write was done).
    if (decidedInTime) await sleep(1);
    await record();
    // Checks that raced the decision answer from here, with the decided state.
    await condition(allHandlersFinished);
  } catch (err) {
    // An operator's cancel (Temporal UI, CLI): the verification ends canceled, its row says so, and
    // the messages already sent finish on their own runs. Anything else fails the task as before.
    if (!isCancellation(err)) throw err;
    decide('canceled');
    await CancellationScope.nonCancellable(() => record());
    throw err;
  }
  return state();
}
