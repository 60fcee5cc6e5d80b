/**
 * `npm start`: the whole stack on embedded defaults, in one command.
 * Temporal dev server (or TEMPORAL_ADDRESS) → database (DATABASE_URL or embedded PGlite) →
 * migrations → carrier simulators → demo data → worker and API as child processes.
 * Ctrl-C stops everything; data under HERALD_DATA_DIR (default .data/) survives restarts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { z } from 'zod';
import { AesGcmPayloadCodec } from '../codec/aes-gcm-codec.ts';
import { formatCodecKeys } from '../codec/keys.ts';
import { startCodecServer } from '../codec/server.ts';
import { devCodecSecrets } from '../config/codec-secrets.ts';
import { loadEnv } from '../config/env.ts';
import { WORKER_NODE_FLAGS } from '../config/worker-defaults.ts';
import { createDb } from '../db/connection.ts';
import { startEmbeddedPostgres } from '../db/embedded.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { startTwilioSimulator } from '../simulators/twilio-sim.ts';
import { startVonageSimulator } from '../simulators/vonage-sim.ts';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions.ts';
import { getFreePort } from './ports.ts';
import { DEMO_PRICES, ensureDemoAccount, seedCarriers } from './seed.ts';
import { resolveTemporalCli } from './temporal-cli.ts';
import { ensureSearchAttributes, startTemporalDevServer } from './temporal-dev-server.ts';

const projectRoot = resolve(import.meta.dirname, '..');

/** Knobs only the dev stack has; the rest is config/env.ts. */
const startEnvSchema = z.object({
  HERALD_DATA_DIR: z.string().default(join(projectRoot, '.data')),
  TEMPORAL_PORT: z.coerce.number().int().min(0).max(65535).default(7233),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(0).max(65535).default(8233),
  TWILIO_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  VONAGE_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(4020),
});

const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void>> = [];

async function main(): Promise<void> {
  const started = Date.now();
  const env = loadEnv();
  const parsed = startEnvSchema.safeParse(
    Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== '')),
  );
  if (!parsed.success) {
    throw new Error(
      `Invalid configuration: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const startEnv = parsed.data;
  const dataDir = resolve(startEnv.HERALD_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const step = (msg: string): void =>
    console.log(`[herald] ${msg} (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  // Payload encryption: keys and the codec server's token (kept in the data dir unless set in env).
  const codecSecrets = devCodecSecrets(env, join(dataDir, 'codec-keys.json'));
  const codecPort = env.CODEC_PORT === 0 ? await getFreePort() : env.CODEC_PORT;
  const codecUrl = `http://127.0.0.1:${codecPort}`;

  // Temporal
  let temporalAddress = env.TEMPORAL_ADDRESS;
  let uiUrl: string | null = null;
  if (temporalAddress) {
    const connection = await Connection.connect({ address: temporalAddress });
    await ensureSearchAttributes(connection, env.TEMPORAL_NAMESPACE, SEARCH_ATTRIBUTES);
    await connection.close();
    step(`using Temporal at ${temporalAddress}`);
  } else {
    const cliPath = await resolveTemporalCli({ projectRoot, log: step });
    const server = await startTemporalDevServer({
      cliPath,
      dbFile: join(dataDir, 'temporal.db'),
      port: startEnv.TEMPORAL_PORT,
      uiPort: startEnv.TEMPORAL_UI_PORT,
      namespace: env.TEMPORAL_NAMESPACE,
      searchAttributes: SEARCH_ATTRIBUTES,
      // The local UI gets the endpoint with its token (loopback only, the keys are in .data/ anyway),
      // so it shows payloads in clear out of the box; production keeps the token from the UI (README).
      extraArgs: ['--ui-codec-endpoint', `${codecUrl}/t/${encodeURIComponent(codecSecrets.token)}`],
    });
    cleanups.push(() => server.stop());
    temporalAddress = server.address;
    uiUrl = server.uiUrl;
    step(`Temporal dev server at ${temporalAddress}`);
  }

  const codec = await startCodecServer({
    codec: new AesGcmPayloadCodec(codecSecrets.keyring),
    token: codecSecrets.token,
    port: codecPort,
    // The UI is reached as 127.0.0.1 or localhost: both are its origin.
    allowedOrigins: [
      ...(env.CODEC_CORS_ORIGINS ?? []),
      ...(uiUrl ? [uiUrl, uiUrl.replace('127.0.0.1', 'localhost')] : []),
    ],
  });
  cleanups.push(() => codec.close());
  step(`codec server at ${codec.url}`);

  // Database
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    const pg = await startEmbeddedPostgres({ dataDir: join(dataDir, 'pglite') });
    cleanups.push(() => pg.close());
    databaseUrl = pg.url;
    step(`embedded PGlite at ${databaseUrl}`);
  }
  const db = createDb(databaseUrl, { max: 4 });
  cleanups.push(() => db.destroy());
  await migrateToLatest(db);

  // Carrier simulators, and the carriers that point at them
  const twilio = await startTwilioSimulator({
    port: startEnv.TWILIO_SIM_PORT,
    credentials: { accountSid: 'AC00000000000000000000000000000000', authToken: 'demo-twilio-token' },
  });
  const vonage = await startVonageSimulator({
    port: startEnv.VONAGE_SIM_PORT,
    credentials: { apiKey: 'demokey1', apiSecret: 'demo-vonage-secret' },
  });
  cleanups.push(
    () => twilio.close(),
    () => vonage.close(),
  );
  await seedCarriers(db, [
    {
      id: 'twilio-sim',
      kind: 'twilio',
      config: {
        baseUrl: twilio.url,
        accountSid: 'AC00000000000000000000000000000000',
        authToken: 'demo-twilio-token',
      },
      prices: DEMO_PRICES.twilio,
    },
    {
      id: 'vonage-sim',
      kind: 'vonage',
      config: { baseUrl: vonage.url, apiKey: 'demokey1', apiSecret: 'demo-vonage-secret' },
      prices: DEMO_PRICES.vonage,
    },
  ]);
  const demo = await ensureDemoAccount(db, {
    dataDir,
    ...(env.ADMIN_API_KEY ? { adminApiKey: env.ADMIN_API_KEY } : {}),
    generateKey: () => `admin_${randomBytes(18).toString('base64url')}`,
  });
  step(`simulators at ${twilio.url} and ${vonage.url}; demo account ${demo.accountId}`);

  // Worker and API: the same entry points production runs.
  const apiUrl = `http://127.0.0.1:${env.PORT}`;
  const childEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE,
    ADMIN_API_KEY: demo.adminApiKey,
    PORT: String(env.PORT),
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL ?? apiUrl,
    HERALD_CODEC_KEYS: formatCodecKeys(codecSecrets.keyring.keys),
    HERALD_CODEC_KEY_ID: codecSecrets.keyring.currentKeyId,
  };
  // Children log to files under the data dir; the terminal gets their warnings and errors only, so
  // the banner stays readable (all of it when LOG_LEVEL is set).
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const output = { logDir, all: process.env.LOG_LEVEL !== undefined };
  const worker = launch('worker', 'workers/main.ts', childEnv, WORKER_NODE_FLAGS, output);
  const api = launch('api', 'api/main.ts', childEnv, [], output);
  await Promise.all([waitForLine(worker, /worker: polling/), waitForHttp(`${apiUrl}/readyz`, api)]);
  step('worker and API ready');

  console.log(`
Herald is up.
  API          ${apiUrl}
  Temporal UI  ${uiUrl ?? '(external Temporal: use its UI)'}
  Codec server ${codec.url} (payloads are encrypted; this UI decrypts them through it)
  Codec (UI)   ${codec.endpointWithToken}
               already set in this UI; another UI reads payloads with it in its Data Encoder settings
  Logs         ${logDir} (LOG_LEVEL=info npm start shows them here)
  Demo API key ${demo.apiKey}
  Admin key    ${demo.adminApiKey}

Send a message:
  curl -s -X POST ${apiUrl}/v1/messages -H 'Authorization: Bearer ${demo.apiKey}' -H 'Content-Type: application/json' -d '{"to":"+14155552671","body":"Your code is 123456"}'

Then: curl -s ${apiUrl}/v1/messages/<id> -H 'Authorization: Bearer ${demo.apiKey}'
Ctrl-C stops everything.
[herald] ready`);
}

/** A line the terminal shows although logs go to a file: a warning, an error, or anything non-JSON on stderr. */
function worthShowing(line: string, fromStderr: boolean): boolean {
  const level = /"level":"(\w+)"/.exec(line)?.[1];
  if (level === undefined) return fromStderr;
  return level === 'warn' || level === 'error' || level === 'fatal';
}

function launch(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  nodeFlags: readonly string[],
  output: { readonly logDir: string; readonly all: boolean },
): ChildProcess {
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', join(projectRoot, entry)], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const file = createWriteStream(join(output.logDir, `${name}.log`), { flags: 'a' });
  const relay = (fromStderr: boolean) => (chunk: Buffer) => {
    const lines = chunk
      .toString()
      .split('\n')
      .filter((l) => l.length > 0);
    file.write(lines.map((l) => `${l}\n`).join(''));
    const shown = lines
      .filter((l) => output.all || worthShowing(l, fromStderr))
      .map((l) => `[${name}] ${l}\n`);
    if (shown.length > 0) (fromStderr ? process.stderr : process.stdout).write(shown.join(''));
  };
  child.stdout?.on('data', relay(false));
  child.stderr?.on('data', relay(true));
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`[herald] ${name} exited (${signal ?? code}); stopping the stack`);
      void stop(1);
    }
  });
  return child;
}

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolveLine, reject) => {
    const onData = (c: Buffer): void => {
      if (pattern.test(c.toString())) {
        child.stdout?.off('data', onData);
        resolveLine();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', () => reject(new Error('process exited before it was ready')));
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error('the API exited before it was ready');
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const exits = children
    .filter((c) => c.exitCode === null && c.signalCode === null)
    .map((c) => new Promise<void>((r) => c.once('exit', () => r())));
  for (const c of children) c.kill('SIGTERM');
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 10_000))]);
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

main().catch((err: unknown) => {
  console.error(`[herald] ${err instanceof Error ? err.message : String(err)}`);
  void stop(1);
});
