/**
 * Child processes of a stack on their real entry points (`node --import tsx api/main.ts`, …): launch
 * with an output hook and a kept tail, wait until ready (a line, or HTTP 200), stop (SIGTERM, then
 * SIGKILL), and retry a start that did not come up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';

const projectRoot = resolve(import.meta.dirname, '../..');

/** Last output lines of a child kept for a failure report. */
const OUTPUT_TAIL_LINES = 40;
/** How long a SIGTERMed child may take before it is SIGKILLed, ms. */
const CHILD_KILL_AFTER_MS = 10_000;

/** One line a child printed; `fromStderr` tells which stream. */
export type ChildOutput = (name: string, line: string, fromStderr: boolean) => void;

export interface LaunchedChild {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the child has exited. */
  readonly exited: Promise<void>;
  /** Its last output lines (stdout and stderr). */
  tail(): string;
}

/** Options of {@link launch}. */
export interface LaunchOptions {
  /** Names the child in output and reports. */
  readonly name: string;
  /** Entry module, relative to the project root. */
  readonly entry: string;
  /** Node flags before `--import tsx`. Default none. */
  readonly nodeArgs?: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  /** Each output line. Default: kept in the tail only. */
  readonly output?: ChildOutput;
  /** Called once when the child exits. */
  readonly onExit?: (code: number | null, signal: NodeJS.Signals | null) => void;
}

export function launch(opts: LaunchOptions): LaunchedChild {
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), '--import', 'tsx', join(projectRoot, opts.entry)],
    { cwd: projectRoot, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const tail: string[] = [];
  for (const [stream, fromStderr] of [
    [child.stdout, false],
    [child.stderr, true],
  ] as const) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n').filter((l) => l.trim() !== '')) {
        tail.push(line);
        if (tail.length > OUTPUT_TAIL_LINES) tail.shift();
        opts.output?.(opts.name, line, fromStderr);
      }
    });
  }
  const exited = new Promise<void>((r) => {
    child.once('exit', (code, signal) => {
      opts.onExit?.(code, signal);
      r();
    });
  });
  return { name: opts.name, child, exited, tail: () => tail.join('\n') };
}

/** Whether the child is still running. */
export function isRunning(c: LaunchedChild): boolean {
  return c.child.exitCode === null && c.child.signalCode === null;
}

/** SIGTERM, then SIGKILL after 10 s; resolves once it has exited. */
export async function stopChild(c: LaunchedChild): Promise<void> {
  if (!isRunning(c)) return;
  c.child.kill('SIGTERM');
  const timer = new Promise<boolean>((r) => setTimeout(() => r(true), CHILD_KILL_AFTER_MS).unref());
  const killed = await Promise.race([c.exited.then(() => false), timer]);
  if (killed) {
    c.child.kill('SIGKILL');
    await c.exited;
  }
}

/** SIGKILL; resolves once it has exited. */
export async function killChild(c: LaunchedChild): Promise<void> {
  if (!isRunning(c)) return;
  c.child.kill('SIGKILL');
  await c.exited;
}

/** Resolves when the child prints a stdout line matching `pattern`. */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<void> {
  return new Promise((ok, fail) => {
    const timer = setTimeout(
      () => fail(new Error(`no "${pattern.source}" within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer | string): void => {
      if (!pattern.test(chunk.toString())) return;
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

/** Resolves when `url` answers 2xx; fails when the child exits first or after `timeoutMs`. */
export async function waitForHttp(url: string, child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error('the process exited before it was ready');
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

/**
 * Starts a child and waits until it is ready, up to 10 tries a second apart (a restarted process
 * may find its port still held by its predecessor's sockets for a moment).
 */
export async function startSupervised(
  start: () => LaunchedChild,
  ready: (c: LaunchedChild) => Promise<void>,
  tries = 10,
): Promise<LaunchedChild> {
  for (let attempt = 1; ; attempt++) {
    const child = start();
    try {
      await ready(child);
      return child;
    } catch (err) {
      await stopChild(child);
      if (attempt >= tries) throw new Error(`${child.name} did not start: ${String(err)}\n${child.tail()}`);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
}
