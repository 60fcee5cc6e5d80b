/**
 * `npm start`: the whole stack on embedded defaults, in one command.
 * Temporal dev server (or TEMPORAL_ADDRESS) → database (DATABASE_URL or embedded PGlite) →
 * migrations → carrier simulators → demo data → worker and API as child processes.
 * Ctrl-C stops everything; data under HERALD_DATA_DIR (default .data/) survives restarts.
 */
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  type WriteStream,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { devCodecSecrets } from '../config/codec-secrets.ts';
import { loadEnv } from '../config/env.ts';
import { ensureDemoAccount } from './seed.ts';
import { type ComposedStack, composeStack } from './stack/compose.ts';

const projectRoot = resolve(import.meta.dirname, '..');

/** Knobs only the dev stack has; the rest is config/env.ts. */
const startEnvSchema = z.object({
  HERALD_DATA_DIR: z.string().default(join(projectRoot, '.data')),
  TEMPORAL_PORT: z.coerce.number().int().min(0).max(65535).default(7233),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(0).max(65535).default(8233),
  TWILIO_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  VONAGE_SIM_PORT: z.coerce.number().int().min(0).max(65535).default(4020),
});

let stack: ComposedStack | undefined;
let stopping = false;

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
  // Children log to files under the data dir; the terminal gets their warnings and errors only, so
  // the banner stays readable (all of it when LOG_LEVEL is set).
  const logDir = join(dataDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const showAll = process.env.LOG_LEVEL !== undefined;
  const logFiles = new Map<string, WriteStream>();
  const apiUrl = `http://127.0.0.1:${env.PORT}`;
  let demo: Awaited<ReturnType<typeof ensureDemoAccount>> | undefined;

  stack = await composeStack({
    log: step,
    temporal: env.TEMPORAL_ADDRESS
      ? { kind: 'external', address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE }
      : {
          kind: 'dev-server',
          port: startEnv.TEMPORAL_PORT,
          uiPort: startEnv.TEMPORAL_UI_PORT,
          dbFile: join(dataDir, 'temporal.db'),
        },
    codec: {
      keyring: codecSecrets.keyring,
      server: {
        token: codecSecrets.token,
        port: env.CODEC_PORT,
        ...(env.CODEC_CORS_ORIGINS ? { allowedOrigins: env.CODEC_CORS_ORIGINS } : {}),
      },
    },
    database: env.DATABASE_URL
      ? { kind: 'url', url: env.DATABASE_URL }
      : { kind: 'pglite', dataDir: join(dataDir, 'pglite') },
    carriers: {
      twilio: { port: startEnv.TWILIO_SIM_PORT },
      vonage: { port: startEnv.VONAGE_SIM_PORT },
    },
    // The demo account and admin key survive restarts in the data dir.
    async prepare(db) {
      demo = await ensureDemoAccount(db, {
        dataDir,
        ...(env.ADMIN_API_KEY ? { adminApiKey: env.ADMIN_API_KEY } : {}),
        generateKey: () => `admin_${randomBytes(18).toString('base64url')}`,
      });
      return { adminApiKey: demo.adminApiKey };
    },
    // Verification codes are derived under it: kept, so pending verifications survive a restart.
    verifySecret: env.VERIFY_SECRET ?? keptSecret(join(dataDir, 'verify-secret')),
    // Worker and API: the same entry points production runs.
    apis: { mode: 'process', port: env.PORT },
    workers: { mode: 'process' },
    processes: {
      output(name, line, fromStderr) {
        let file = logFiles.get(name);
        if (!file) {
          file = createWriteStream(join(logDir, `${name}.log`), { flags: 'a' });
          logFiles.set(name, file);
        }
        file.write(`${line}\n`);
        if (showAll || worthShowing(line, fromStderr)) {
          (fromStderr ? process.stderr : process.stdout).write(`[${name}] ${line}\n`);
        }
      },
    },
  });
  watchChildren(stack);
  if (!demo) throw new Error('the demo account was not prepared');
  const { twilio, vonage } = stack.carriers;

  console.log(`
Herald is up.
  API          ${apiUrl}
  Temporal UI  ${stack.temporal.uiUrl ?? '(external Temporal: use its UI)'}
  Codec server ${stack.codecServer?.url} (payloads are encrypted; this UI decrypts them through it)
  Codec (UI)   ${stack.codecServer?.endpointWithToken}
               already set in this UI; another UI reads payloads with it in its Data Encoder settings
  Simulators   ${twilio?.url} (Twilio), ${vonage?.url} (Vonage)
  Logs         ${logDir} (LOG_LEVEL=info npm start shows them here)
  Demo API key ${demo.apiKey}
  Admin key    ${demo.adminApiKey}

Send a message:
  curl -s -X POST ${apiUrl}/v1/messages -H 'Authorization: Bearer ${demo.apiKey}' -H 'Content-Type: application/json' -d '{"to":"+14155552671","body":"Your code is 123456"}'

Then: curl -s ${apiUrl}/v1/messages/<id> -H 'Authorization: Bearer ${demo.apiKey}'
Ctrl-C stops everything.
[herald] ready`);
}

/** A random secret kept in `file` (created on first start, owner-only). */
function keptSecret(file: string): string {
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept.length >= 32) return kept;
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** A child that dies on its own takes the whole stack down, with a line saying which. */
function watchChildren(running: ComposedStack): void {
  const timer = setInterval(() => {
    const failure = running.childFailure();
    if (failure && !stopping) {
      console.error(`[herald] ${failure}; stopping the stack`);
      void stop(1);
    }
  }, 500);
  timer.unref();
}

/** A line the terminal shows although logs go to a file: a warning, an error, or anything non-JSON on stderr. */
function worthShowing(line: string, fromStderr: boolean): boolean {
  const level = /"level":"(\w+)"/.exec(line)?.[1];
  if (level === undefined) return fromStderr;
  return level === 'warn' || level === 'error' || level === 'fatal';
}

async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  await stack?.stop();
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

main().catch((err: unknown) => {
  console.error(`[herald] ${err instanceof Error ? err.message : String(err)}`);
  void stop(1);
});
