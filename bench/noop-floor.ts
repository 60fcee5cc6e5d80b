/**
 * The floors: `count` runs of a workflow of workflows/noop.ts on the main task queue, started by
 * this process through the bench's Temporal client (same data converter) with `concurrency` starts
 * in flight, then every result awaited. Run on the same stack right after the measured phase, their
 * CPU over every process of the stack per workflow is what Temporal plus a worker cost at the least:
 *
 * - `noop` (`noopWorkflow`: start → one workflow task → complete): Herald's CPU per message is
 *   reported as a multiple of it;
 * - `receipt` (`receiptShapedWorkflow`: start → workflow task → signal → workflow task → complete):
 *   the least a message costs in any design where it is a workflow that awaits its receipt as a
 *   signal. The signals are sent after every start, once the last runs started have finished their
 *   first task (the sampled histories say how many events they had: 9 with two tasks).
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { MAIN_TASK_QUEUE } from '../workflows/definitions.ts';
import { floorReceiptSignal } from '../workflows/noop.ts';

/** Which floor workflow {@link runNoopWorkflows} runs. */
export type FloorShape = 'noop' | 'receipt';

/** What {@link runNoopWorkflows} did. */
export interface NoopRun {
  /** Workflow ids, in start order (for history sampling). */
  readonly ids: string[];
  readonly completed: number;
  readonly errors: string[];
  /** `Date.now()` before the first start and after the last result. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

/**
 * Starts `count` floor workflows of `shape` (default `noop`; `concurrency` starts in flight),
 * signals each when `receipt`, and waits for every result.
 */
export async function runNoopWorkflows(
  client: Client,
  opts: {
    readonly count: number;
    readonly concurrency: number;
    readonly timeoutMs?: number;
    readonly shape?: FloorShape;
  },
): Promise<NoopRun> {
  const shape = opts.shape ?? 'noop';
  const prefix = `bench-${shape}-${randomBytes(4).toString('hex')}`;
  const ids: string[] = Array.from({ length: opts.count }, (_, i) => `${prefix}-${i}`);
  const errors: string[] = [];
  let completed = 0;
  const lanes = Math.max(1, Math.min(opts.concurrency, opts.count));
  const each = async (work: (id: string) => Promise<void>): Promise<void> => {
    let next = 0;
    await Promise.all(
      Array.from({ length: lanes }, async () => {
        for (let i = next++; i < ids.length; i = next++) {
          const id = ids[i] as string;
          try {
            await work(id);
          } catch (err) {
            errors.push(`${id}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }),
    );
  };
  const startedAt = Date.now();
  // Starts as the API makes them (one StartWorkflowExecution each, `concurrency` in flight) …
  await each(async (id) => {
    await client.workflow.start(shape === 'noop' ? 'noopWorkflow' : 'receiptShapedWorkflow', {
      taskQueue: MAIN_TASK_QUEUE,
      workflowId: id,
      args: [],
    });
  });
  // … the receipts, as the receipt intake signals them (one SignalWorkflowExecution each), once
  // the runs have had their first task — a message's receipt comes after its submit, so a signal
  // that came first (one task for both) would measure a cheaper shape than a message's …
  if (shape === 'receipt') {
    await firstTasksDone(client, ids.slice(-lanes));
    await each(async (id) => {
      await client.workflow.getHandle(id).signal(floorReceiptSignal);
    });
  }
  // … then every completion awaited (a long poll each, answered at once for the finished ones).
  const deadline = Date.now() + (opts.timeoutMs ?? 120_000 + 20 * opts.count);
  await each(async (id) => {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw new Error('not complete in time');
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.workflow.getHandle(id).result(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('not complete in time')), remaining);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
    completed++;
  });
  return { ids, completed, errors, startedAt, finishedAt: Date.now() };
}

/** Waits (at most 60 s) until each of `ids` has completed its first workflow task. */
async function firstTasksDone(client: Client, ids: readonly string[]): Promise<void> {
  // Started, task scheduled, started, completed: 4 events once the first task is done.
  const deadline = Date.now() + 60_000;
  for (const id of ids) {
    while ((await client.workflow.getHandle(id).describe()).historyLength < 4) {
      if (Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
