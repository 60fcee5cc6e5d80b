/**
 * The worker's settings from the environment (config/env.ts), mapped once: `npm run worker`
 * (workers/main.ts) and the composition root's in-process worker (scripts/stack/compose.ts) start
 * from the same options, so a test's worker runs the production defaults unless it overrides one.
 */
import type { Env } from '../config/env.ts';
import type { RunWorkersOptions } from './run-workers.ts';

/** Everything of {@link RunWorkersOptions} the environment decides. */
export type EnvWorkerOptions = Pick<
  RunWorkersOptions,
  | 'namespace'
  | 'maxConcurrentActivities'
  | 'maxConcurrentWorkflowTasks'
  | 'workflowBundle'
  | 'routing'
  | 'strandedMessages'
  | 'callbacks'
  | 'verifySecret'
>;

export function workerOptionsFromEnv(env: Env): EnvWorkerOptions {
  return {
    namespace: env.TEMPORAL_NAMESPACE,
    maxConcurrentActivities: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTasks: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    ...(env.VERIFY_SECRET ? { verifySecret: env.VERIFY_SECRET } : {}),
    ...(env.WORKFLOW_BUNDLE_PATH ? { workflowBundle: { codePath: env.WORKFLOW_BUNDLE_PATH } } : {}),
    routing: {
      weights: env.ROUTING_WEIGHTS,
      explorationShare: env.ROUTING_EXPLORATION,
      ewmaAlpha: env.ROUTING_EWMA_ALPHA,
      statsFlushMs: env.ROUTE_STATS_FLUSH_MS,
      failureThreshold: env.CIRCUIT_FAILURE_THRESHOLD,
      coolDownMs: env.CIRCUIT_COOL_DOWN_MS,
      carrierQueueTimeoutMs: env.CARRIER_QUEUE_TIMEOUT_MS,
    },
    strandedMessages: {
      graceMs: env.STRANDED_MESSAGE_GRACE_MS,
      intervalMs: env.STRANDED_MESSAGE_INTERVAL_MS,
    },
    callbacks: {
      allowedHosts: env.CALLBACK_ALLOWED_HOSTS,
      retryInitialMs: env.CALLBACK_RETRY_INITIAL_MS,
      requestTimeoutMs: env.CALLBACK_TIMEOUT_MS,
    },
  };
}
