/** `npm run worker`: the production worker process, against DATABASE_URL and TEMPORAL_ADDRESS. */
import { NativeConnection } from '@temporalio/worker';
import { heraldDataConverter } from '../codec/data-converter.ts';
import { keyringFromEnv } from '../config/codec-secrets.ts';
import { loadEnv, requireEnv } from '../config/env.ts';
import { createDb } from '../db/connection.ts';
import { activityTelemetry } from './activity-telemetry.ts';
import { createWorkerMetrics, findFreePort, startWorkerMetricsServer } from './metrics.ts';
import { workerOptionsFromEnv } from './options-from-env.ts';
import { runWorkers } from './run-workers.ts';
import { installWorkerRuntime } from './runtime.ts';

async function main(): Promise<void> {
  const env = requireEnv(loadEnv(), 'DATABASE_URL', 'TEMPORAL_ADDRESS');
  // The runtime's exporter sits on an internal port; the metrics server appends its text to ours.
  const runtimePort = env.WORKER_METRICS_PORT === undefined ? undefined : await findFreePort();
  installWorkerRuntime(env.LOG_LEVEL, {
    ...(runtimePort ? { prometheusBindAddress: `127.0.0.1:${runtimePort}` } : {}),
  });
  const db = createDb(env.DATABASE_URL, {
    max: env.DATABASE_POOL_SIZE,
    preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
  });
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
    ...workerOptionsFromEnv(env),
    connection,
    db,
    dataConverter: heraldDataConverter(keyringFromEnv(env)),
    publicBaseUrl: env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${env.PORT}`,
    activityInterceptors: [activityTelemetry(metrics, db)],
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
