/**
 * Production entry of the API (`npm run api`): configuration from the environment, PostgreSQL at
 * DATABASE_URL, Temporal at TEMPORAL_ADDRESS, graceful shutdown on SIGINT / SIGTERM.
 */
import { Client, Connection } from '@temporalio/client';
import { heraldDataConverter } from '../codec/data-converter.ts';
import { keyringFromEnv } from '../config/codec-secrets.ts';
import { ConfigError, loadEnv, requireEnv } from '../config/env.ts';
import { createDb, destroyDb } from '../db/connection.ts';
import { createJsonLogger } from './log.ts';
import { startApi } from './server.ts';

/** Listen on every interface: in production the API sits behind a load balancer or in a container. */
const LISTEN_HOST = '0.0.0.0';

async function main(): Promise<void> {
  const env = requireEnv(loadEnv(), 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'ADMIN_API_KEY');
  const log = createJsonLogger(env.LOG_LEVEL);
  const db = createDb(env.DATABASE_URL, {
    max: env.DATABASE_POOL_SIZE,
    preparedStatements: env.DATABASE_PREPARED_STATEMENTS,
  });
  const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const temporal = new Client({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    dataConverter: heraldDataConverter(keyringFromEnv(env)),
  });
  const api = await startApi({
    db,
    temporal,
    adminApiKey: env.ADMIN_API_KEY,
    currency: env.CURRENCY,
    ...(env.VERIFY_SECRET ? { verifySecret: env.VERIFY_SECRET } : {}),
    log,
    port: env.PORT,
    host: LISTEN_HOST,
    callbackAllowedHosts: env.CALLBACK_ALLOWED_HOSTS,
    routing: { weights: env.ROUTING_WEIGHTS, coolDownMs: env.CIRCUIT_COOL_DOWN_MS },
    ...(env.PUBLIC_BASE_URL ? { publicBaseUrl: env.PUBLIC_BASE_URL } : {}),
  });
  console.log(`api: listening on ${api.url}`);

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log('info', 'api: shutting down', { signal });
    try {
      await api.close();
      await destroyDb(db);
      await connection.close();
      process.exit(0);
    } catch (err) {
      log('error', 'api: unclean shutdown', { error: err instanceof Error ? err.message : String(err) });
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  // A configuration problem is one clear sentence, not a stack trace.
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
