/**
 * The stranded-message reconciler, two chores per pass:
 *
 * - Rows nobody works on: a message row is stored (`accepted`) before its workflow is started, so
 *   the API crashing in between, or Temporal being down then, leaves a row without a run. Each
 *   worker process looks for `accepted` rows older than a grace period and starts their workflows
 *   with the API's own options (services/message-workflow.ts). Safe to run in every worker at once
 *   and again and again: the workflow id is the message id, an open run is never joined by a
 *   second (`FAIL` → "already started") and a closed one never runs again (`REJECT_DUPLICATE`), so
 *   a message is never sent twice.
 * - Runs that closed without settling: an operator's Terminate (or a run timeout) runs no
 *   workflow code, so the message's row stays where it was and its money reserved. Temporal's
 *   visibility lists closed message runs (`sendMessageV2`, or `sendMessage` if started before it)
 *   whose `HeraldStatus` is not final; each one's row, if still not terminal, is settled by the
 *   worker's `settleClosedRun` (activities/settlement.ts).
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { DEFAULT_STRANDED_GRACE_MS, DEFAULT_STRANDED_INTERVAL_MS } from '../config/defaults.ts';
import { listStrandedMessages } from '../db/messages.ts';
import type { Database, Message } from '../db/schema.ts';
import type { LogFn } from '../observability/logger.ts';
import { MESSAGE_WORKFLOW_TYPES } from '../workflows/definitions.ts';
import { type StartOutcome, startMessageWorkflow } from './message-workflow.ts';

// Re-exported for callers that tune the reconciler; the values live in config/defaults.ts.
export { DEFAULT_STRANDED_GRACE_MS, DEFAULT_STRANDED_INTERVAL_MS };
/** Default rows per pass. */
export const DEFAULT_STRANDED_BATCH_SIZE = 100;
/** Default failed starts in a row that end a pass. */
export const DEFAULT_MAX_CONSECUTIVE_FAILURES = 3;

/** Dependencies and settings of one pass. */
export interface StrandedMessageDeps {
  readonly db: Kysely<Database>;
  readonly temporal: Client;
  /** Default: console. */
  readonly log?: LogFn;
  /** Rows younger than this (ms, database clock) are left to the API's own start. Default 30000. */
  readonly graceMs?: number;
  /** Rows per pass, oldest first. Default 100. */
  readonly batchSize?: number;
  /**
   * A pass stops after this many failed starts in a row: Temporal is most likely down, and the
   * next pass tries again. A single bad row never blocks the ones behind it. Default 3.
   */
  readonly maxConsecutiveFailures?: number;
  /** Longest wait on Temporal for one start, ms. Default TEMPORAL_CALL_TIMEOUT_MS (config/defaults.ts). */
  readonly startTimeoutMs?: number;
  /**
   * Settles the row of a message whose run closed without settling it; without it closed runs are
   * not looked for. What it answers is only logged and counted.
   */
  readonly settleClosedRun?: (messageId: string) => Promise<'settled' | 'already_terminal' | 'not_found'>;
  /** How far back closed runs are looked for, ms. Default 7 days. */
  readonly closedRunLookbackMs?: number;
}

/** Default of {@link StrandedMessageDeps.closedRunLookbackMs}. */
export const DEFAULT_CLOSED_RUN_LOOKBACK_MS = 7 * 24 * 3600 * 1000;
/** Statuses a run's `HeraldStatus` shows before its message is settled. */
const UNSETTLED_STATUSES = ['accepted', 'scheduled', 'queued', 'sending', 'sent'] as const;

/** What a pass did, by message id. */
export interface ReconcileResult {
  /** Workflows this pass started: messages that were stranded. */
  readonly started: readonly string[];
  /** Messages whose workflow existed already (open or closed): nothing to do. */
  readonly alreadyStarted: readonly string[];
  /** Starts that failed; the next pass tries them again. */
  readonly failed: readonly string[];
  /** Rows the pass did not get to, having stopped after {@link StrandedMessageDeps.maxConsecutiveFailures}. */
  readonly skipped: readonly string[];
  /** Messages whose closed run had left them unsettled, settled by this pass. */
  readonly settled?: readonly string[];
}

/**
 * The closed-run chore of a pass: lists closed message runs that never showed a final status
 * (closed at least `graceMs` ago, so a local activity of a terminated run has finished) and has
 * each one's row settled. Returns the ids it settled.
 *
 * @throws when Temporal's visibility or the database cannot be read.
 */
export async function settleClosedRuns(deps: StrandedMessageDeps): Promise<string[]> {
  if (!deps.settleClosedRun) return [];
  const log = deps.log ?? consoleLog;
  const now = Date.now();
  const closedBefore = new Date(now - (deps.graceMs ?? DEFAULT_STRANDED_GRACE_MS)).toISOString();
  const closedAfter = new Date(
    now - (deps.closedRunLookbackMs ?? DEFAULT_CLOSED_RUN_LOOKBACK_MS),
  ).toISOString();
  const statuses = UNSETTLED_STATUSES.map((s) => `'${s}'`).join(', ');
  const types = MESSAGE_WORKFLOW_TYPES.map((t) => `'${t}'`).join(', ');
  const query =
    `WorkflowType IN (${types}) AND ExecutionStatus != 'Running' ` +
    `AND HeraldStatus IN (${statuses}) AND CloseTime < '${closedBefore}' AND CloseTime > '${closedAfter}'`;
  const limit = deps.batchSize ?? DEFAULT_STRANDED_BATCH_SIZE;
  const settled: string[] = [];
  let seen = 0;
  for await (const run of deps.temporal.workflow.list({ query })) {
    if (seen++ >= limit) break;
    if ((await deps.settleClosedRun(run.workflowId)) === 'settled') {
      settled.push(run.workflowId);
      log('warn', 'settled the message of a run that closed unsettled', {
        messageId: run.workflowId,
        runStatus: run.status.name,
      });
    }
  }
  return settled;
}

/**
 * One pass: starts the workflow of every stranded message in the batch, logging each one started
 * at warn with its id (never its number or body).
 *
 * @throws when the database cannot be read.
 */
export async function reconcileStrandedMessages(deps: StrandedMessageDeps): Promise<ReconcileResult> {
  // Visibility down must not stop the other chore, nor the other way round.
  const settled = await settleClosedRuns(deps).catch((err: unknown) => {
    (deps.log ?? consoleLog)('warn', 'closed-run pass failed; the next pass retries', {
      error: err instanceof Error ? err.message : String(err),
    });
    return [];
  });
  const started = await startStranded(deps);
  return settled.length > 0 ? { ...started, settled } : started;
}

async function startStranded(deps: StrandedMessageDeps): Promise<ReconcileResult> {
  const log = deps.log ?? consoleLog;
  const rows = await listStrandedMessages(deps.db, {
    graceMs: deps.graceMs ?? DEFAULT_STRANDED_GRACE_MS,
    limit: deps.batchSize ?? DEFAULT_STRANDED_BATCH_SIZE,
  });
  if (rows.length === 0) return { started: [], alreadyStarted: [], failed: [], skipped: [] };
  const result = await startInTurn(
    rows,
    async (message: Message) => {
      const outcome = await startMessageWorkflow(deps.temporal, message, {
        // FAIL rather than the API's USE_EXISTING: the same "never twice", but an open run is
        // reported as such, so only messages that really were stranded are logged as started.
        conflictPolicy: 'FAIL',
        ...(deps.startTimeoutMs !== undefined ? { timeoutMs: deps.startTimeoutMs } : {}),
      });
      if (outcome === 'started') {
        log('warn', 'started the workflow of a stranded message', {
          messageId: message.id,
          createdAt: message.created_at.toISOString(),
        });
      }
      return outcome;
    },
    {
      maxConsecutiveFailures: deps.maxConsecutiveFailures ?? DEFAULT_MAX_CONSECUTIVE_FAILURES,
      onFailure: (message, err) =>
        log('warn', 'could not start the workflow of a stranded message; the next pass retries', {
          messageId: message.id,
          error: err instanceof Error ? err.message : String(err),
        }),
    },
  );
  if (result.skipped.length > 0) {
    log('warn', 'stranded-message pass stopped early: Temporal looks unreachable', {
      failed: result.failed.length,
      skipped: result.skipped.length,
    });
  }
  return result;
}

/**
 * Starts `items` one after another (a pass is a background chore: no burst against Temporal),
 * sorting each into started / already started / failed, and gives up on the rest after
 * `maxConsecutiveFailures` failures in a row. Pure apart from `start`.
 */
export async function startInTurn<T extends { readonly id: string }>(
  items: readonly T[],
  start: (item: T) => Promise<StartOutcome>,
  opts: { readonly maxConsecutiveFailures: number; readonly onFailure?: (item: T, err: unknown) => void },
): Promise<ReconcileResult> {
  const started: string[] = [];
  const alreadyStarted: string[] = [];
  const failed: string[] = [];
  let failuresInARow = 0;
  let i = 0;
  for (; i < items.length && failuresInARow < Math.max(1, opts.maxConsecutiveFailures); i++) {
    const item = items[i] as T;
    try {
      const outcome = await start(item);
      (outcome === 'started' ? started : alreadyStarted).push(item.id);
      failuresInARow = 0;
    } catch (err) {
      failed.push(item.id);
      failuresInARow++;
      opts.onFailure?.(item, err);
    }
  }
  return { started, alreadyStarted, failed, skipped: items.slice(i).map((item) => item.id) };
}

/** Options of {@link startStrandedMessageReconciler}. */
export interface StrandedMessageReconcilerOptions extends StrandedMessageDeps {
  /** Pause between passes, ms (counted from the end of one pass, so passes never overlap). Default 15000. */
  readonly intervalMs?: number;
}

/** A running reconciler. */
export interface StrandedMessageReconciler {
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
}

/**
 * Runs {@link reconcileStrandedMessages} at once, then every `intervalMs` after each pass ends, until
 * stopped. A failed pass (database down) is logged and the next one runs on schedule. The timer is
 * unref'd: it never keeps a process alive.
 */
export function startStrandedMessageReconciler(
  opts: StrandedMessageReconcilerOptions,
): StrandedMessageReconciler {
  const log = opts.log ?? consoleLog;
  const intervalMs = opts.intervalMs ?? DEFAULT_STRANDED_INTERVAL_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  // The first pass right away: a worker replaced again and again must still get to run one.
  const schedule = (delayMs = intervalMs): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = reconcileStrandedMessages(opts)
        .then(
          () => undefined,
          (err: unknown) =>
            log('warn', 'stranded-message pass failed', {
              error: err instanceof Error ? err.message : String(err),
            }),
        )
        .finally(() => {
          running = undefined;
          schedule();
        });
    }, delayMs);
    timer.unref();
  };
  schedule(0);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

const consoleLog: LogFn = (level, msg, fields) => {
  console[level](msg, fields ?? {});
};
