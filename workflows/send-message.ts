/**
 * One message, end to end (DESIGN §3): admit (queue, rank, reserve) → submit on the carrier's
 * queue with retry / failover / stop by error class → await the receipt → settle exactly once.
 * Deterministic: imports only @temporalio/workflow, domain/ and activity types.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  TimeoutFailure,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { HeraldActivities } from '../activities/index.ts';
import type {
  DeliveryOutcome,
  FinishInput,
  PlannedRoute,
  SubmitInput,
  SubmitOutcome,
} from '../activities/types.ts';
import { type CarrierError, USE_CARRIER_QUEUE } from '../domain/carrier-error.ts';
import { formatMoney, parseMoney } from '../domain/money.ts';
import { isTerminal, type MessageStatus } from '../domain/status.ts';
import {
  cancelUpdate,
  carrierTaskQueue,
  HeraldCarrier,
  HeraldStatus,
  type MessageProgress,
  progressQuery,
  type ReceiptSignal,
  receiptSignal,
  type SendMessageInput,
} from './definitions.ts';

/**
 * Errors that are bugs or bad data, not weather: the submit activity fails at once instead of
 * retrying, and the message ends `failed` / `internal_error` (the activity only lets them out
 * before an attempt row is written, so nothing reached a carrier).
 */
export const NON_RETRYABLE_SUBMIT_ERRORS = [
  'TypeError',
  'ReferenceError',
  'RangeError',
  'SyntaxError',
  'ZodError',
];

/** The submit's retry policy, local or queued: a few quick tries, never for a bug. */
const SUBMIT_RETRY = {
  initialInterval: '500ms',
  backoffCoefficient: 2,
  maximumInterval: '10s',
  maximumAttempts: 5,
  nonRetryableErrorTypes: NON_RETRYABLE_SUBMIT_ERRORS,
} as const;

/** Tries on one carrier for `retry`-class errors before failing over. */
const TRIES_PER_ROUTE = 3;
const RETRY_BASE_MS = 500;
const RETRY_MAX_MS = 30_000;

// Database steps are local activities: short, idempotent, and cheap in history events.
const db = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

/**
 * Runs since this patch (issue 9) take the cheap happy path: the submit is first tried as a local
 * activity (no task-queue round trip, no activity events) and only `sent` and the final status are
 * upserted as search attributes (`queued` and `sending` pass within one workflow task). Runs
 * started before it keep their old commands (test/fixtures/histories/v0).
 */
export const LEAN_PATH_PATCH = 'lean-path-and-lanes';

/**
 * The submit as a local activity, on the worker that runs the workflow. It only sends when the
 * carrier's shared pacer has a slot within 250 ms and this worker holds the carrier's adapter;
 * otherwise it answers `use_carrier_queue` before writing or sending anything, and the workflow
 * queues the submit on the carrier's task queue instead, where a backlog waits in lane order on the
 * server (not in this worker's slots) under the carrier's rate limit.
 */
const localSubmit = proxyLocalActivities<HeraldActivities>({
  startToCloseTimeout: '60s',
  // A try that died mid-request is answered from its attempt row ("maybe sent"), never resent.
  retry: SUBMIT_RETRY,
}).submitToCarrier;

/** How long a submit may wait on a carrier's queue when its plan does not say (runs planned before it). */
const DEFAULT_QUEUE_TIMEOUT_MS = 300_000;

/**
 * The submit activity on the carrier's own, rate-limited task queue; `summary` names it in the UI.
 * A submit no worker takes within the route's queue timeout (no worker polls that carrier) times
 * out before it started, so nothing was sent and the message fails over.
 */
function carrier(route: PlannedRoute, summary: string) {
  return proxyActivities<HeraldActivities>({
    summary,
    taskQueue: carrierTaskQueue(route.carrierId),
    scheduleToStartTimeout: route.queueTimeoutMs ?? DEFAULT_QUEUE_TIMEOUT_MS,
    // A cancel takes a submit still in the line at once; one that started finishes unless it is
    // still pacing (the activity stops only before its attempt row), so the rows are final when
    // the run settles the cancel from them.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    startToCloseTimeout: '60s',
    // The activity heartbeats while its HTTP call is in flight, so a dead worker is noticed fast.
    heartbeatTimeout: '5s',
    retry: SUBMIT_RETRY,
  }).submitToCarrier;
}

/**
 * Runs since this patch settle an operator's cancel (Temporal UI, `temporal workflow cancel`):
 * released and `canceled` before any carrier saw the message, else `expired` with
 * `canceled_by_operator`, charged as a message without a receipt. Earlier runs just closed.
 */
export const OPERATOR_CANCEL_PATCH = 'settle-on-operator-cancel';

type FinalStatus = FinishInput['status'];

export interface SendMessageResult {
  readonly status: FinalStatus;
  readonly carrierId: string | null;
  readonly captured: string;
}

/**
 * The message runs started before {@link sendMessageV2} (DESIGN §3): kept registered, unchanged,
 * for runs still open when a release lands (the v0–v2 histories replay against it). Runs it starts
 * now take the lean path; the patch costs them its marker and the core's `TemporalChangeVersion`
 * upsert.
 */
export async function sendMessage(input: SendMessageInput): Promise<SendMessageResult> {
  // Before any command, so every run takes one path from start to end.
  const lean = patched(LEAN_PATH_PATCH);
  return runMessage(input, { lean, settlesOperatorCancel: () => patched(OPERATOR_CANCEL_PATCH) });
}

/**
 * One message, end to end: the workflow type every new message run starts as
 * (`MESSAGE_WORKFLOW_TYPE` in definitions.ts). The commands of {@link sendMessage}'s patched runs,
 * without the patches: a new type needs no version marker, so a run costs two history events fewer.
 */
export async function sendMessageV2(input: SendMessageInput): Promise<SendMessageResult> {
  return runMessage(input, { lean: true, settlesOperatorCancel: () => true });
}

/** Where the two workflow types of a message differ. */
interface RunPath {
  /** The cheap happy path of {@link LEAN_PATH_PATCH}. */
  readonly lean: boolean;
  /** Asked only on an operator's cancel: settle the books (else the run just closes). */
  readonly settlesOperatorCancel: () => boolean;
}

async function runMessage(
  input: SendMessageInput,
  { lean, settlesOperatorCancel }: RunPath,
): Promise<SendMessageResult> {
  const root = CancellationScope.current();
  let status: MessageStatus = 'accepted';
  let carrierId: string | null = null;
  let carrierMessageId: string | null = null;
  let attempts = 0;
  let lastErrorCode: string | null = null;
  let submissionStarted = false;
  let cancelRequested = false;
  // Receipts may arrive before the submit call returns; they wait here, never dropped.
  const receipts: ReceiptSignal[] = [];
  // Final receipts seen (for the route score) and the bill of a failover-after-receipt leg.
  const deliveryOutcomes: DeliveryOutcome[] = [];
  let failoverBilled: bigint | undefined;

  setHandler(receiptSignal, (r) => {
    receipts.push(r);
  });
  setHandler(progressQuery, (): MessageProgress => ({ status, carrierId, carrierMessageId, attempts }));
  // Cancel only wins before any carrier has seen the message; it answers once that is settled.
  const current = (): MessageStatus => status;
  setHandler(cancelUpdate, async () => {
    if (submissionStarted || isTerminal(current())) return { canceled: false };
    cancelRequested = true;
    await condition(() => submissionStarted || isTerminal(current()));
    return { canceled: current() === 'canceled' };
  });

  // What the Temporal UI shows as the run's current details; never a number or a body.
  const describeProgress = (): void =>
    setCurrentDetails(
      [
        `**Status** ${status}`,
        `**Carrier** ${carrierId ?? '—'}`,
        `**Attempts** ${attempts}`,
        `**Last error** ${lastErrorCode ?? '—'}`,
      ].join('  \n'),
    );
  const show = (next: MessageStatus, carrier?: string): void => {
    status = next;
    // Lean runs upsert what outlasts a workflow task: `sent` (waiting for the receipt), a retry's
    // `sending` (waiting out a backoff) and the end; the run's details show every step live.
    if (!lean || next === 'sent' || isTerminal(next) || (next === 'sending' && attempts > 1)) {
      upsertSearchAttributes([
        { key: HeraldStatus, value: next },
        ...(carrier ? [{ key: HeraldCarrier, value: carrier }] : []),
      ]);
    }
    describeProgress();
  };

  // What an operator's cancel settles at this point of the run; moved on as the run moves on.
  let settleOnCancel = (): Promise<SendMessageResult> => finish('canceled', 0n);
  const finish = async (
    final: FinalStatus,
    capture: bigint,
    error?: FinishInput['error'],
  ): Promise<SendMessageResult> => {
    // A cancel that lands while settling settles the same way again (idempotent per message).
    settleOnCancel = () => finish(final, capture, error);
    if (error) lastErrorCode = error.code;
    const settled = await db.finishMessage.executeWithOptions(
      { summary: `settle: ${final}, capture ${formatMoney(capture)}` },
      [
        {
          messageId: input.messageId,
          accountId: input.accountId,
          status: final,
          capture: formatMoney(capture),
          ...(carrierId ? { carrierId } : {}),
          ...(carrierMessageId ? { carrierMessageId } : {}),
          ...(error ? { error } : {}),
          ...(deliveryOutcomes.length > 0 ? { deliveryOutcomes } : {}),
          ...(failoverBilled !== undefined ? { failoverCapture: formatMoney(failoverBilled) } : {}),
        },
      ],
    );
    show(final, carrierId ?? undefined);
    return { status: final, carrierId, captured: settled.captured };
  };

  try {
    return await deliver();
  } catch (err) {
    // Only an operator's cancel of this run; anything else fails the workflow task as before.
    if (!isCancellation(err) || !root.consideredCancelled || !settlesOperatorCancel()) throw err;
    log.warn('run canceled by an operator: settling', { messageId: input.messageId, status });
    await CancellationScope.nonCancellable(() => settleOnCancel());
    throw err; // the run closes as canceled in the UI, its books settled
  }

  async function deliver(): Promise<SendMessageResult> {
    describeProgress();
    // Started after its validity ended (stranded while Temporal was down): an OTP that late does
    // more harm than none, and nothing was reserved yet.
    if (input.notAfter !== undefined && Date.now() >= input.notAfter) {
      return finish('failed', 0n, {
        code: 'validity_expired',
        message: 'the validity period ended before the message could be sent',
      });
    }
    // Canceled before it started: nothing to reserve or release.
    if (root.consideredCancelled) throw new CancelledFailure('canceled before admission');
    // Not cancellable: a reservation that lands after a cancel's release would stay open forever.
    const admitted = await CancellationScope.nonCancellable(() =>
      db.admitMessage.executeWithOptions(
        { summary: `admit: rank routes for ${input.country}, reserve ${input.segments} segment(s)` },
        [
          {
            messageId: input.messageId,
            accountId: input.accountId,
            country: input.country,
            segments: input.segments,
          },
        ],
      ),
    );
    if (admitted.outcome !== 'reserved') {
      const message =
        admitted.outcome === 'no_route'
          ? `no carrier serves ${input.country}`
          : 'the account cannot pay for this message';
      return finish('failed', 0n, { code: admitted.outcome, message });
    }
    show('queued');
    if (cancelRequested) return finish('canceled', 0n);
    // Canceled during admission: the catch above releases it, no carrier saw it.
    if (root.consideredCancelled) throw new CancelledFailure('canceled during admission');
    submissionStarted = true;
    // From here a carrier may hold it: the attempt rows (each written before its request) say which
    // legs a carrier took, charged as a message without a receipt (activities/settlement.ts).
    settleOnCancel = async () => {
      const settled = await db.settleCanceledMessage.executeWithOptions(
        { summary: 'settle an operator cancel from the attempt rows' },
        [{ messageId: input.messageId }],
      );
      if (settled.carrierId) carrierId = settled.carrierId;
      show(settled.status, carrierId ?? undefined);
      return { status: settled.status, carrierId, captured: settled.captured };
    };

    const deadline = input.notAfter ?? Date.now() + input.validitySeconds * 1000;
    const hooks = {
      onAttempt: (route: PlannedRoute): number => {
        attempts += 1;
        carrierId = route.carrierId;
        show('sending', route.carrierId);
        return attempts;
      },
      onError: (error: CarrierError): void => {
        lastErrorCode = error.code;
      },
    };
    /** Submit along `routes`, then wait (until the deadline) for the accepting carrier's verdict. */
    const sendLeg = async (routes: readonly PlannedRoute[], leg: SendMessageInput): Promise<Leg> => {
      const taken = await submitWithFailover(leg, routes, hooks, lean);
      if (!taken.ok) return taken;
      carrierId = taken.route.carrierId;
      if (taken.carrierMessageId) carrierMessageId = taken.carrierMessageId;
      show('sent', carrierId);
      const acceptedAt = Date.now();
      const acceptedBy = carrierId;
      const verdict = (): ReceiptSignal | undefined =>
        finalReceipt(
          receipts.filter((r) => r.carrierId === acceptedBy),
          taken.receiptParts,
        );
      const settled = (): boolean => verdict() !== undefined;
      if (lean) await untilOrTimeout(settled, Math.max(0, deadline - acceptedAt));
      else await condition(settled, Math.max(0, deadline - acceptedAt));
      const receipt = verdict();
      if (receipt && receipt.status !== 'expired') {
        deliveryOutcomes.push({
          carrierId: acceptedBy,
          country: input.country,
          delivered: receipt.status === 'delivered',
          latencyMs: Date.now() - acceptedAt,
        });
      }
      const billed = parseMoney(taken.route.price) * BigInt(taken.segments);
      return { ...taken, billed, ...(receipt ? { receipt } : {}) };
    };

    // The carrier gets what is left of the validity period, not all of it again.
    const validitySeconds = Math.max(1, Math.floor((deadline - Date.now()) / 1000));
    const first = await sendLeg(admitted.routes, { ...input, validitySeconds });
    if (!first.ok) return finish('failed', 0n, toMessageError(first.error));
    let leg: AcceptedLeg = first;

    // Failover on receipt: the carrier says this route failed and another may work. Once, within
    // the validity period, and only on a second reservation covering the remaining routes.
    const rest = failoverRoutes(first, admitted.routes);
    const remainingSeconds = Math.floor((deadline - Date.now()) / 1000);
    if (rest.length > 0 && remainingSeconds >= 1) {
      let worst = 0n; // bigint: no Math.max
      for (const r of rest) if (parseMoney(r.price) > worst) worst = parseMoney(r.price);
      // Not cancellable, like admission: the release of a cancel must come after the reservation.
      const reserved = await CancellationScope.nonCancellable(() =>
        db.reserveFailover.executeWithOptions(
          { summary: `reserve a failover after receipt code ${first.receipt?.errorCode ?? '?'}` },
          [
            {
              messageId: input.messageId,
              accountId: input.accountId,
              amount: formatMoney(worst * BigInt(input.segments)),
            },
          ],
        ),
      );
      if (reserved) {
        const second = await sendLeg(rest, { ...input, validitySeconds: remainingSeconds });
        // Each leg captures what its carrier billed; a leg no carrier took costs nothing.
        failoverBilled = second.ok ? charged(second) : 0n;
        if (second.ok) leg = second;
        else carrierId = first.route.carrierId;
      }
    }

    // The first leg's receipt proves its carrier took (and billed) it.
    const billed = leg === first ? charged(first) : first.billed;
    const receipt = leg.receipt;
    if (!receipt) {
      // Carriers bill on submission, so an unconfirmed but accepted message is still charged; an
      // ambiguous submit that never produced a receipt is not, since we cannot show it was billed.
      log.info('no receipt within the validity period', { messageId: input.messageId });
      return finish('expired', billed, {
        code: leg.ambiguous ? 'submit_unconfirmed' : 'no_receipt',
        message: 'no delivery receipt within the validity period',
      });
    }
    if (!carrierMessageId) carrierMessageId = receipt.carrierMessageId;
    if (receipt.status === 'delivered') return finish('delivered', billed);
    return finish(receipt.status === 'expired' ? 'expired' : 'undelivered', billed, {
      code: receipt.status === 'expired' ? 'expired' : 'undelivered',
      message: receipt.errorMessage ?? `carrier reported ${receipt.carrierStatus}`,
      ...(receipt.errorCode ? { carrierCode: receipt.errorCode } : {}),
    });
  }
}

/** A leg a carrier took: what it bills, and its final receipt if one came in time. */
type AcceptedLeg = Extract<Taken, { ok: true }> & {
  readonly billed: bigint;
  readonly receipt?: ReceiptSignal;
};
type Leg = AcceptedLeg | Extract<Taken, { ok: false }>;

/** Charged unless the submit was ambiguous and no receipt ever showed the carrier had it. */
function charged(leg: AcceptedLeg): bigint {
  return leg.receipt || !leg.ambiguous ? leg.billed : 0n;
}

/**
 * The routes to try after a negative receipt whose error code the accepting carrier lists in
 * `failoverReceiptCodes`: those ranked after it. Empty when the receipt is not such a failure.
 */
function failoverRoutes(leg: AcceptedLeg, routes: readonly PlannedRoute[]): PlannedRoute[] {
  const r = leg.receipt;
  if (!r || (r.status !== 'undelivered' && r.status !== 'failed') || r.errorCode === undefined) return [];
  if (!(leg.route.failoverReceiptCodes ?? []).includes(r.errorCode)) return [];
  const at = routes.findIndex((x) => x.carrierId === leg.route.carrierId);
  return at < 0 ? [] : routes.slice(at + 1);
}

type Taken =
  | {
      readonly ok: true;
      readonly route: PlannedRoute;
      readonly carrierMessageId: string | null;
      readonly segments: number;
      readonly receiptParts: number;
      /** The carrier may or may not hold it: wait for a receipt, never resend blindly. */
      readonly ambiguous: boolean;
    }
  | { readonly ok: false; readonly error: CarrierError };

/** Walk the ranked routes: retry the same carrier, fail over to the next, or stop. */
async function submitWithFailover(
  input: SendMessageInput,
  routes: readonly PlannedRoute[],
  hooks: { onAttempt: (route: PlannedRoute) => number; onError: (error: CarrierError) => void },
  lean: boolean,
): Promise<Taken> {
  let lastError: CarrierError = {
    class: 'failover',
    code: 'no_route',
    message: 'no route accepted the message',
  };
  for (const [index, route] of routes.entries()) {
    // A route planned closed that has tripped since is skipped, unless it is the last one left.
    const skipIfOpen = route.circuit === 'closed' && index < routes.length - 1;
    // A half-open route's probe gets one try: its breaker re-opens on the first failure anyway.
    const tries = route.probe ? 1 : TRIES_PER_ROUTE;
    for (let tryNo = 1; tryNo <= tries; tryNo++) {
      const request = (attempt: number): SubmitInput => ({
        messageId: input.messageId,
        carrierId: route.carrierId,
        country: input.country,
        attempt,
        to: input.to,
        from: input.from,
        body: input.body,
        encoding: input.encoding,
        segments: input.segments,
        validitySeconds: input.validitySeconds,
        ...(skipIfOpen ? { skipIfOpen } : {}),
        ...(input.priority ? { priority: input.priority } : {}),
        ...(input.code ? { code: input.code } : {}),
      });
      const summary = `submit to ${route.carrierId}, attempt ${tryNo}`;
      let outcome: SubmitOutcome | undefined;
      // A local submit is never cut short by a cancel (it is short, and its attempt row must be
      // final when the cancel is settled from it).
      if (lean) {
        outcome = await CancellationScope.nonCancellable(() =>
          localSubmit.executeWithOptions({ summary }, [{ ...request(hooks.onAttempt(route)), local: true }]),
        ).catch(submitFailed);
        // The carrier has a line: join it on the carrier's queue (nothing was sent or recorded).
        if (!outcome.ok && outcome.error.code === USE_CARRIER_QUEUE) outcome = undefined;
      }
      if (outcome === undefined) {
        const attempt = hooks.onAttempt(route);
        outcome = await carrier(route, summary)(request(attempt)).catch(submitFailed);
      }
      if (outcome.ok) {
        return {
          ok: true,
          route,
          carrierMessageId: outcome.carrierMessageId,
          segments: outcome.segments,
          receiptParts: outcome.receiptParts,
          ambiguous: false,
        };
      }
      lastError = outcome.error;
      hooks.onError(outcome.error);
      const cls = outcome.error.class;
      if (cls === 'permanent') return { ok: false, error: outcome.error };
      if (cls === 'ambiguous') {
        return {
          ok: true,
          route,
          carrierMessageId: null,
          segments: input.segments,
          receiptParts: 1,
          ambiguous: true,
        };
      }
      if (cls === 'failover' || tryNo === tries) break;
      await sleep(retryDelayMs(tryNo, outcome.error.retryAfterMs));
    }
  }
  return { ok: false, error: lastError };
}

/**
 * What a failed submit activity means (it never throws for a carrier's answer):
 * - it never started on the carrier's queue (no worker polls that carrier): nothing was sent, fail over;
 * - a bug or bad data (non-retryable, raised before any attempt row): nothing was sent, the message
 *   fails with `internal_error` and its money is released;
 * - anything else (worker crashes, timeouts, the database down through every retry): the request
 *   may have gone out, so it is treated like a timeout after sending.
 */
function submitFailed(err: unknown): SubmitOutcome {
  if (isCancellation(err)) throw err; // an operator's cancel: the run's catch settles it
  log.warn('submit activity failed', { error: String(err) });
  // A queued activity's failure wraps its cause; a local activity's may arrive as the cause itself.
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START') {
    return {
      ok: false,
      error: {
        class: 'failover',
        code: 'carrier_queue_timeout',
        message: 'no worker took the submit from the carrier queue in time',
      },
    };
  }
  if (
    cause instanceof ApplicationFailure &&
    (cause.nonRetryable ||
      (err instanceof ActivityFailure && err.retryState === 'NON_RETRYABLE_FAILURE') ||
      NON_RETRYABLE_SUBMIT_ERRORS.includes(cause.type ?? ''))
  ) {
    return {
      ok: false,
      error: { class: 'permanent', code: 'internal_error', message: `the submit failed: ${cause.message}` },
    };
  }
  return {
    ok: false,
    error: { class: 'ambiguous', code: 'submit_failed', message: 'the submit activity failed' },
  };
}

/**
 * Waits until `done()` or for `ms`, whichever comes first, like `condition(done, ms)` but cheaper in
 * history: no timer at all when `done()` already holds, and a timer that lost the race is left to
 * close with the run (which ends right after) instead of being cancelled (one event fewer).
 */
async function untilOrTimeout(done: () => boolean, ms: number): Promise<void> {
  if (done()) return;
  await Promise.race([condition(done), sleep(ms)]);
}

function retryDelayMs(tryNo: number, retryAfterMs?: number): number {
  const backoff = Math.min(RETRY_BASE_MS * 2 ** (tryNo - 1), RETRY_MAX_MS);
  return retryAfterMs === undefined ? backoff : Math.min(Math.max(retryAfterMs, backoff), RETRY_MAX_MS);
}

/**
 * The receipt that settles the message: the first negative final one, or a delivered one once
 * every part the carrier reports separately has been delivered.
 */
function finalReceipt(receipts: readonly ReceiptSignal[], parts: number): ReceiptSignal | undefined {
  const negative = receipts.find((r) => r.status !== 'delivered' && r.status !== 'enroute');
  if (negative) return negative;
  const delivered = receipts.filter((r) => r.status === 'delivered');
  const distinctParts = new Set(delivered.map((r) => r.carrierMessageId)).size;
  return distinctParts >= Math.max(1, parts) ? delivered[delivered.length - 1] : undefined;
}

function toMessageError(error: CarrierError): NonNullable<FinishInput['error']> {
  return {
    code: error.code,
    message: error.message,
    ...(error.carrierCode ? { carrierCode: error.carrierCode } : {}),
  };
}
