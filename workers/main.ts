/** `npm run worker`: the production worker process, against DATABASE_URL and TEMPORAL_ADDRESS. */
import { NativeConnection } from '@temporalio/worker';
import { heraldDataConverter } from '../codec/data-converter.ts';
import { keyringFromEnv } from '../codec/from-env.ts';
import { loadEnv, requireEnv } from '../config/env.ts';
import { createDb } from '../db/connection.ts';
import { runWorkers } from './run-workers.ts';
import { installWorkerRuntime } from './runtime.ts';

async function main(): Promise<void> {
  const env = requireEnv(loadEnv(), 'DATABASE_URL', 'TEMPORAL_ADDRESS');
  installWorkerRuntime(env.LOG_LEVEL);
  const db = createDb(env.DATABASE_URL, { max: env.DATABASE_POOL_SIZE });
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  const workers = await runWorkers({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    db,
    dataConverter: heraldDataConverter(keyringFromEnv(env)),
    publicBaseUrl: env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${env.PORT}`,
    maxConcurrentActivities: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTasks: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    callbacks: {
      allowedHosts: env.CALLBACK_ALLOWED_HOSTS,
      retryInitialMs: env.CALLBACK_RETRY_INITIAL_MS,
      requestTimeoutMs: env.CALLBACK_TIMEOUT_MS,
    },
  });
  console.log(
    `worker: polling herald-main and ${workers.carrierIds.map((id) => `carrier-${id}`).join(', ')}`,
  );
  const stop = (): void => {
    void workers.shutdown();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await workers.done;
  await connection.close();
  await db.destroy();
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
