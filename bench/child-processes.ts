/**
 * The processes of a bench stack (shared by the send bench and the chaos run): a throw-away
 * database (a PostgreSQL database on the local server, or embedded PGlite in a temp dir) and the
 * API / worker children on their real entry points (`node --import tsx`), with the helpers that
 * wait for them to be ready and stop them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../db/embedded.ts';
import { randomBase32 } from '../db/ids.ts';

const projectRoot = resolve(import.meta.dirname, '..');

/** Where `--db postgres` creates its database: DATABASE_URL's server, else the local trust-auth one. */
const DEFAULT_PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
/** Last output lines of a child kept for the failure report. */
const OUTPUT_TAIL_LINES = 40;
const CHILD_KILL_AFTER_MS = 10_000;

export interface BenchDatabase {
  readonly url: string;
  /** PostgreSQL database name (undefined for PGlite). */
  readonly name: string | undefined;
  readonly label: string;
  drop(): Promise<void>;
}

/** `herald_bench_<random>` on DATABASE_URL's server (or the local one); dropped WITH (FORCE). */
export async function createPostgresDatabase(): Promise<BenchDatabase> {
  const adminUrl = new URL(process.env.DATABASE_URL || DEFAULT_PG_ADMIN_URL);
  adminUrl.pathname = '/postgres';
  const name = `herald_bench_${randomBase32(10)}`;
  const admin = async (statement: string): Promise<void> => {
    const client = new pg.Client({ connectionString: adminUrl.toString() });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    label: `postgres ${url.host}/${name}`,
    drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}

/** Embedded PGlite in a fresh temp dir, removed at the end. */
export async function startPglite(): Promise<BenchDatabase> {
  const dataDir = await mkdtemp(join(tmpdir(), 'herald-bench-pglite-'));
  // Every pool of the stack connects here; DATABASE_POOL_SIZE may be raised for a run.
  const embedded = await startEmbeddedPostgres({ dataDir, maxConnections: 500 });
  return {
    url: embedded.url,
    name: undefined,
    label: `pglite ${dataDir}`,
    async drop() {
      await embedded.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface LaunchedChild {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the child has exited. */
  readonly exited: Promise<void>;
  /** Its last output lines (stdout and stderr). */
  tail(): string;
}

export function launch(
  name: string,
  entry: string,
  nodeArgs: readonly string[],
  env: NodeJS.ProcessEnv,
  onExit: (code: number | null, signal: NodeJS.Signals | null) => void,
): LaunchedChild {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(projectRoot, entry)], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Logs (the SDK's on stderr, JSON lines on stdout) are kept as a tail for a failure report instead
  // of flooding the table; stdout is also matched by waitForLine.
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter((l) => l.trim() !== '')) {
        tail.push(line);
        if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
      }
    });
  }
  const exited = new Promise<void>((r) => {
    child.once('exit', (code, signal) => {
      onExit(code, signal);
      r();
    });
  });
  return { name, child, exited, tail: () => tail.join('\n') };
}

export async function stopChild(c: LaunchedChild): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  c.child.kill('SIGTERM');
  const timer = new Promise<boolean>((r) => setTimeout(() => r(true), CHILD_KILL_AFTER_MS).unref());
  const killed = await Promise.race([c.exited.then(() => false), timer]);
  if (killed) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
}

export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`no "${pattern.source}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: string): void => {
      if (!pattern.test(chunk)) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      ok();
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      fail(new Error(`the process exited (${signal ?? `code ${code}`}) before it was ready`));
    });
  });
}

export async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error('the API exited before it was ready');
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}
