/**
 * `npm start` (scripts/start.ts) as a child process for the e2e tests: spawned on the ports the
 * test picks, with the environment that would point it elsewhere removed, and read until it
 * prints `[herald] ready`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { getFreeFixedPort } from '../../scripts/ports.ts';

const projectRoot = resolve(import.meta.dirname, '../..');

/** Variables that would make the stack use outside services or fixed secrets instead of its own. */
// LOG_LEVEL too: `npm start` as a newcomer runs it (children's info lines to files, not the terminal).
const CLEARED_ENV = [
  'DATABASE_URL',
  'TEMPORAL_ADDRESS',
  'ADMIN_API_KEY',
  'HERALD_CODEC_KEYS',
  'CODEC_TOKEN',
  'LOG_LEVEL',
];

export interface DevStackPorts {
  readonly api: number;
  readonly temporal: number;
  readonly ui: number;
  /** The codec server's port. Default 0: any free port. */
  readonly codec?: number;
}

export interface DevStackOptions {
  /** `HERALD_DATA_DIR`: PGlite data and the demo keys; reuse it to restart on the same data. */
  readonly dataDir: string;
  readonly ports: DevStackPorts;
  /** How long to wait for `[herald] ready`, ms. Default 90 000. */
  readonly readyTimeoutMs?: number;
}

export interface DevStack {
  readonly child: ChildProcess;
  /** Everything printed (stdout and stderr) up to and including `[herald] ready`. */
  readonly output: string;
  /** Everything printed so far, ready or not. */
  printed(): string;
  /** From spawn to ready. */
  readonly seconds: number;
  /** Ctrl-C (SIGINT) and wait for the exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

const live = new Set<ChildProcess>();

/** Free ports for the API, Temporal, its UI and the codec server. */
export async function freeDevStackPorts(): Promise<Required<DevStackPorts>> {
  return {
    api: await getFreeFixedPort(),
    temporal: await getFreeFixedPort(),
    ui: await getFreeFixedPort(),
    codec: await getFreeFixedPort(),
  };
}

/** Runs scripts/start.ts and resolves once it is ready; a stack that is not ready in time is stopped. */
export async function startDevStack(opts: DevStackOptions): Promise<DevStack> {
  const t0 = Date.now();
  const readyTimeoutMs = opts.readyTimeoutMs ?? 90_000;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HERALD_DATA_DIR: opts.dataDir,
    PORT: String(opts.ports.api),
    TEMPORAL_PORT: String(opts.ports.temporal),
    TEMPORAL_UI_PORT: String(opts.ports.ui),
    CODEC_PORT: String(opts.ports.codec ?? 0),
    TWILIO_SIM_PORT: '0',
    VONAGE_SIM_PORT: '0',
  };
  for (const name of CLEARED_ENV) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts/start.ts')], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  try {
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(
        () => fail(new Error(`not ready within ${readyTimeoutMs / 1000} s:\n${output}`)),
        readyTimeoutMs,
      );
      const onData = (c: Buffer): void => {
        output += c.toString();
        if (output.includes('[herald] ready')) {
          clearTimeout(timer);
          ok();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`npm start exited with ${code}:\n${output}`));
      });
    });
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    child,
    output,
    printed: () => output,
    seconds: (Date.now() - t0) / 1000,
    stop: () => stopChild(child),
  };
}

/** Stops every stack still running (for `afterAll`, whatever the test got to). */
export async function stopDevStacks(): Promise<void> {
  await Promise.all([...live].map(stopChild));
}

/** The demo API key `npm start` printed (in its curl lines). */
export function printedApiKey(output: string): string | undefined {
  return /Bearer (hk_[^']+)'/.exec(output)?.[1];
}

function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((ok) => {
    child.once('exit', (code) => ok(code));
    child.kill('SIGINT');
  });
}
