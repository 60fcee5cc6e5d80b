/** `npm run worker`: the production worker process, against DATABASE_URL and TEMPORAL_ADDRESS. */
import { NativeConnection } from '@temporalio/worker';
import { heraldDataConverter } from '../codec/data-converter.ts';
import { keyringFromEnv } from '../config/codec-secrets.ts';
import { loadEnv, requireEnv } from '../config/env.ts';
import { createDb } from '../db/connection.ts';
import { activityTelemetry } from './activity-telemetry.ts';
import { createWorkerMetrics, findFreePort, startWorkerMetricsServer } from './metrics.ts';
import { runWorkers } from './run-workers.ts';
import { installWorkerRuntime } from './runtime.ts';

async function main(): Promise<void> {
  const env = requireEnv(loadEnv(), 'DATABASE_URL', 'TEMPORAL_ADDRESS');
  // The runtime's exporter sits on an internal port; the metrics server appends its text to ours.
  const runtimePort = env.WORKER_METRICS_PORT === undefined ? undefined : await findFreePort();
  installWorkerRuntime(env.LOG_LEVEL, {
    ...(runtimePort ? { prometheusBindAddress: `127.0.0.1:${runtimePort}` } : {}),
  });
  const db = createDb(env.DATABASE_URL, { max: env.DATABASE_POOL_SIZE });
  const metrics = createWorkerMetrics();
  const metricsServer =
    env.WORKER_METRICS_PORT === undefined
      ? undefined
      : await startWorkerMetricsServer({
          metrics,
          port: env.WORKER_METRICS_PORT,
          host: env.WORKER_METRICS_HOST,
          ...(runtimePort ? { runtimeMetricsUrl: `http://127.0.0.1:${runtimePort}/metrics` } : {}),
        });
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const workers = await runWorkers({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    db,
    dataConverter: heraldDataConverter(keyringFromEnv(env)),
    publicBaseUrl: env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${env.PORT}`,
    maxConcurrentActivities: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTasks: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    activityInterceptors: [activityTelemetry(metrics, db)],
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
  });
  if (metricsServer) console.log(`worker: metrics on ${metricsServer.url}`);
  console.log(
    `worker: polling herald-main and ${workers.carrierIds.map((id) => `carrier-${id}`).join(', ')}`,
  );
  const stop = (): void => {
    void workers.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await workers.done;
  await metricsServer?.close();
  await connection.close();
  await db.destroy();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
