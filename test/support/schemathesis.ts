/**
 * The OpenAPI fuzzer (schemathesis, a Python tool from PyPI) in a virtualenv under `.cache/`:
 * found there, or installed on first use (`.ci/run` installs it up front), pinned.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const SCHEMATHESIS_VERSION = '4.32.5';
const projectRoot = resolve(import.meta.dirname, '../..');
const venv = resolve(projectRoot, '.cache/schemathesis-venv');

/** The absolute path of `st`, installing schemathesis first when it is missing. */
export async function schemathesisCli(): Promise<string> {
  const st = resolve(venv, 'bin/st');
  if (existsSync(st)) return st;
  await run('python3', ['-m', 'venv', venv]);
  await run(resolve(venv, 'bin/pip'), ['install', '-q', `schemathesis==${SCHEMATHESIS_VERSION}`], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return st;
}

/** Runs `st run` from the project root (so schemathesis.toml applies); its exit code and output. */
export async function runSchemathesis(args: readonly string[]): Promise<{ code: number; output: string }> {
  const st = await schemathesisCli();
  try {
    const { stdout, stderr } = await run(st, ['run', ...args], {
      cwd: projectRoot,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_HOOKS: '' },
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}
