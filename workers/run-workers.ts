import { fileURLToPath } from 'node:url';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  type ActivityInterceptorsFactory,
  bundleWorkflowCode,
  type NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundleOption,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import type { Kysely } from 'kysely';
import type { CallbackDeps } from '../activities/callbacks.ts';
import { type ActivityDeps, DEFAULT_ROUTING, type RoutingSettings } from '../activities/deps.ts';
import { createActivities } from '../activities/index.ts';
import { settleAbandonedMessage } from '../activities/settlement.ts';
import { createAdapter } from '../adapters/registry.ts';
import type { CarrierAdapter } from '../adapters/types.ts';
import { FAILURE_CONVERTER_PATH } from '../codec/data-converter.ts';
import {
  carrierActivitySlots,
  DEFAULT_MAX_CONCURRENT_ACTIVITIES,
  DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS,
} from '../config/worker-defaults.ts';
import { listCarriers } from '../db/carriers.ts';
import type { Database } from '../db/schema.ts';
import { signalStatusCallbacks } from '../services/status-callbacks.ts';
import {
  type StrandedMessageReconcilerOptions,
  startStrandedMessageReconciler,
} from '../services/stranded-messages.ts';
import { carrierTaskQueue, MAIN_TASK_QUEUE } from '../workflows/definitions.ts';
import { createRouteStatsBuffer, type RouteStatsBuffer } from './route-stats-buffer.ts';
import { startSmppSessions } from './smpp-sessions.ts';

export interface RunWorkersOptions {
  readonly connection: NativeConnection;
  /** Default `default`. */
  readonly namespace?: string;
  readonly db: Kysely<Database>;
  /** Payload codec and failure converter (`heraldDataConverter(keyring)`): history holds ciphertext. */
  readonly dataConverter: DataConverter;
  /** Base URL carriers post receipts to. */
  readonly publicBaseUrl: string;
  /**
   * Cap on concurrent submit activities per carrier queue; each queue gets one second of its
   * carrier's `tps` within [10, this] (config/worker-defaults.ts). Default 200.
   */
  readonly maxConcurrentActivities?: number;
  /** Workflow tasks held at once; small so backlogs wait on the server, in lane order. Default 10. */
  readonly maxConcurrentWorkflowTasks?: number;
  /** A prebuilt bundle (from {@link buildWorkflowBundle}); built from workflows/index.ts when omitted. */
  readonly workflowBundle?: WorkflowBundleOption;
  /** Activity interceptors of every worker (workers/activity-telemetry.ts). Default none. */
  readonly activityInterceptors?: readonly ActivityInterceptorsFactory[];
  /** Secret verification codes are derived under (VERIFY_SECRET). Default none: no code is sent. */
  readonly verifySecret?: string;
  /** Status callback settings (SSRF allow-list, retry timing); defaults in activities/callbacks.ts. */
  readonly callbacks?: Omit<CallbackDeps, 'queue'>;
  /** Route score, exploration and breaker settings; defaults in activities/deps.ts (DEFAULT_ROUTING). */
  readonly routing?: Partial<RoutingSettings> & {
    /** EWMA weight of one observation. Default 0.1. */
    readonly ewmaAlpha?: number;
    /** Route stats flush period, ms. Default 500. */
    readonly statsFlushMs?: number;
  };
  /**
   * The stranded-message reconciler (services/stranded-messages.ts), or `false` for none.
   * Default: on, a pass every 15 s over at most 100 `accepted` rows older than 30 s.
   */
  readonly strandedMessages?:
    | false
    | Pick<StrandedMessageReconcilerOptions, 'graceMs' | 'intervalMs' | 'batchSize'>;
}

export interface RunningWorkers {
  /** Carrier ids that got a task queue. */
  readonly carrierIds: readonly string[];
  /** Resolves when every worker has stopped; rejects if one fails. */
  readonly done: Promise<void>;
  /** This process's batched route stats and breaker view (for metrics). */
  readonly routeStats: RouteStatsBuffer;
  shutdown(): Promise<void>;
}

const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const sandboxSetupPath = fileURLToPath(new URL('../workflows/sandbox-setup.ts', import.meta.url));

/**
 * The workflow bundle, with Herald's failure converter (failure messages encoded) inside and the
 * sandbox's stack capture off (workflows/sandbox-setup.ts).
 */
export function buildWorkflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath: FAILURE_CONVERTER_PATH,
    // Before the sandbox's globals freeze: no stack capture per promise (workflows/sandbox-setup.ts).
    preloadModules: [sandboxSetupPath],
    logger: quietBundlerLogger,
  });
}

/**
 * One process, several workers: the main queue runs workflows and their database activities;
 * each enabled carrier gets its own queue whose server-side rate limit is the carrier's TPS.
 * Carriers are read once at start: adding one means restarting workers.
 */
export async function runWorkers(opts: RunWorkersOptions): Promise<RunningWorkers> {
  const carriers = await listCarriers(opts.db, { enabledOnly: true });
  const adapters = new Map<string, CarrierAdapter>(carriers.map((c) => [c.id, createAdapter(c)]));
  // Activities signal the callback workflows after status changes, over the worker's connection.
  const temporal = new Client({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    dataConverter: opts.dataConverter,
  });
  // SMPP carriers send over this process's own binds; receipts arrive on them too.
  const smpp = startSmppSessions(carriers, { db: opts.db, temporal, log: runtimeLog });
  const routing = { ...DEFAULT_ROUTING, ...opts.routing };
  const routeStats = createRouteStatsBuffer({
    db: opts.db,
    ...(opts.routing?.ewmaAlpha !== undefined ? { alpha: opts.routing.ewmaAlpha } : {}),
    ...(opts.routing?.statsFlushMs !== undefined ? { flushMs: opts.routing.statsFlushMs } : {}),
    circuit: { failureThreshold: routing.failureThreshold, coolDownMs: routing.coolDownMs },
  });
  // A carrier's `tps` is its limit in segments per second, paced across workers (db/rate-limit.ts).
  const segmentsPerSecond = new Map(carriers.map((c) => [c.id, c.tps]));
  const activityDeps: ActivityDeps = {
    db: opts.db,
    routeStats,
    routing,
    carrierSegmentsPerSecond: (id) => segmentsPerSecond.get(id),
    adapterFor: (id) => smpp.adapterFor(id) ?? adapters.get(id),
    publicBaseUrl: opts.publicBaseUrl,
    ...(opts.verifySecret ? { verifySecret: opts.verifySecret } : {}),
    callbacks: { ...opts.callbacks, queue: (m) => signalStatusCallbacks(opts.db, temporal, m) },
  };
  const activities = createActivities(activityDeps);
  const namespace = opts.namespace ?? 'default';
  const maxActivities = opts.maxConcurrentActivities ?? DEFAULT_MAX_CONCURRENT_ACTIVITIES;

  const main = await Worker.create({
    connection: opts.connection,
    namespace,
    dataConverter: opts.dataConverter,
    taskQueue: MAIN_TASK_QUEUE,
    workflowBundle: opts.workflowBundle ?? (await buildWorkflowBundle()),
    interceptors: { activity: [...(opts.activityInterceptors ?? [])] },
    activities,
    maxConcurrentWorkflowTaskExecutions:
      opts.maxConcurrentWorkflowTasks ?? DEFAULT_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxConcurrentLocalActivityExecutions: maxActivities,
    maxCachedWorkflows: 2000,
  });
  const carrierWorkers = await Promise.all(
    carriers.map((c) =>
      Worker.create({
        connection: opts.connection,
        namespace,
        dataConverter: opts.dataConverter,
        taskQueue: carrierTaskQueue(c.id),
        activities: { submitToCarrier: activities.submitToCarrier },
        interceptors: { activity: [...(opts.activityInterceptors ?? [])] },
        maxConcurrentActivityTaskExecutions: carrierActivitySlots(c.tps, maxActivities),
        // Enforced by the server across every worker polling this queue.
        maxTaskQueueActivitiesPerSecond: c.tps,
      }),
    ),
  );
  const all = [main, ...carrierWorkers];
  const done = Promise.all(all.map((w) => w.run())).then(() => undefined);
  // Messages stored by the API whose workflow never started; over the worker's own connection.
  const reconciler =
    opts.strandedMessages === false
      ? undefined
      : startStrandedMessageReconciler({
          db: opts.db,
          temporal,
          log: runtimeLog,
          // Runs an operator terminated: settled here as the workflow would have settled a cancel.
          settleClosedRun: async (messageId) =>
            (await settleAbandonedMessage(activityDeps, messageId, runtimeLog)).outcome,
          ...opts.strandedMessages,
        });
  const stopReconciler = async (): Promise<void> => {
    await reconciler?.stop();
  };
  void done.then(stopReconciler, stopReconciler);
  return {
    carrierIds: carriers.map((c) => c.id),
    done,
    routeStats,
    async shutdown() {
      await stopReconciler();
      for (const w of all) if (w.getState() === 'RUNNING') w.shutdown();
      await done.catch(() => undefined);
      await routeStats.stop();
      await smpp.close();
    },
  };
}

/** SMPP session logs through the Temporal runtime's logger (LOG_LEVEL, JSON lines). */
function runtimeLog(
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
): void {
  Runtime.instance().logger[level](msg, fields);
}

// webpack's progress chatter is noise in a terminal that shows the stack's URLs.
const quietBundlerLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string, meta?: Record<string, unknown>) => console.warn(message, meta ?? ''),
  error: (message: string, meta?: Record<string, unknown>) => console.error(message, meta ?? ''),
};
