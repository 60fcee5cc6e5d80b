import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cachedTemporalCliPath, resolveTemporalCli } from '../../scripts/temporal-cli.ts';
import { ensureSearchAttributes, startTemporalDevServer } from '../../scripts/temporal-dev-server.ts';
import { temporalAddress, temporalCliPath } from '../support/temporal.ts';

const execFileAsync = promisify(execFile);
const KEYWORD = 2; // temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'herald-temporal-cli-test-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe('resolveTemporalCli', () => {
  it('returns an absolute path to a temporal binary that runs', async () => {
    const path = await resolveTemporalCli();
    expect(isAbsolute(path)).toBe(true);
    await access(path, constants.X_OK);
    const { stdout } = await execFileAsync(path, ['--version']);
    expect(stdout).toMatch(/^temporal version \d+\.\d+\.\d+/);
  });

  it('rejects a relative TEMPORAL_CLI, naming the variable', async () => {
    vi.stubEnv('TEMPORAL_CLI', 'bin/temporal');
    await expect(resolveTemporalCli()).rejects.toThrow(
      /TEMPORAL_CLI must be an absolute path.*"bin\/temporal"/,
    );
  });

  it('rejects a TEMPORAL_CLI that does not exist or is not executable, naming the variable', async () => {
    vi.stubEnv('TEMPORAL_CLI', join(scratch, 'missing', 'temporal'));
    await expect(resolveTemporalCli()).rejects.toThrow(/TEMPORAL_CLI points at ".*missing\/temporal"/);
    const notExecutable = join(scratch, 'not-executable');
    await writeFile(notExecutable, '#!/bin/sh\n');
    vi.stubEnv('TEMPORAL_CLI', notExecutable);
    await expect(resolveTemporalCli()).rejects.toThrow(/TEMPORAL_CLI points at .*not an executable file/);
  });

  it('takes TEMPORAL_CLI as is when it is an absolute executable', async () => {
    vi.stubEnv('TEMPORAL_CLI', temporalCliPath());
    await expect(resolveTemporalCli()).resolves.toBe(temporalCliPath());
  });

  it('finds temporal on PATH, skipping a candidate that does not run', async () => {
    const broken = join(scratch, 'path-broken');
    const good = join(scratch, 'path-good');
    await mkdir(broken);
    await mkdir(good);
    await writeFile(join(broken, 'temporal'), '#!/bin/sh\nexit 3\n');
    await chmod(join(broken, 'temporal'), 0o755);
    await symlink(temporalCliPath(), join(good, 'temporal'));
    vi.stubEnv('TEMPORAL_CLI', '');
    vi.stubEnv('PATH', ['relative/dir', broken, good].join(':'));
    await expect(resolveTemporalCli({ projectRoot: join(scratch, 'no-cache') })).resolves.toBe(
      join(good, 'temporal'),
    );
  });

  it('uses the project cache when nothing is on PATH', async () => {
    const projectRoot = join(scratch, 'project');
    const cached = cachedTemporalCliPath(projectRoot);
    expect(cached).toBe(join(projectRoot, '.cache', 'temporal', 'temporal'));
    await mkdir(join(cached, '..'), { recursive: true });
    await symlink(temporalCliPath(), cached);
    vi.stubEnv('TEMPORAL_CLI', '');
    vi.stubEnv('PATH', join(scratch, 'empty-path'));
    const logs: string[] = [];
    await expect(resolveTemporalCli({ projectRoot, log: (msg) => logs.push(msg) })).resolves.toBe(cached);
    expect(logs.join('\n')).toContain('from cache');
  });
});

describe('the global Temporal dev server', () => {
  let connection: Connection;
  beforeAll(async () => {
    connection = await Connection.connect({ address: temporalAddress() });
  });
  afterAll(async () => {
    await connection.close();
  });

  it('listens on 127.0.0.1 and has Herald search attributes registered as Keyword', async () => {
    expect(temporalAddress()).toMatch(/^127\.0\.0\.1:\d+$/);
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace: 'default',
    });
    for (const name of ['HeraldStatus', 'HeraldCarrier', 'HeraldCountry', 'HeraldAccount']) {
      expect(customAttributes[name], name).toBe(KEYWORD);
    }
  });

  it('ensureSearchAttributes adds missing names as Keyword and is idempotent', async () => {
    const fresh = `HeraldTest${Date.now()}`;
    await ensureSearchAttributes(connection, 'default', ['HeraldStatus', fresh]);
    await ensureSearchAttributes(connection, 'default', ['HeraldStatus', fresh]);
    const { customAttributes } = await connection.operatorService.listSearchAttributes({
      namespace: 'default',
    });
    expect(customAttributes[fresh]).toBe(KEYWORD);
    expect(customAttributes.HeraldStatus).toBe(KEYWORD);
  });
});

describe('startTemporalDevServer', () => {
  it('persists to a SQLite file across restarts, serves the UI, and stop() ends the process', async () => {
    const dbFile = join(scratch, 'temporal.sqlite');
    const opts = { cliPath: temporalCliPath(), dbFile, port: 0, namespace: 'herald-test' } as const;

    const first = await startTemporalDevServer(opts);
    expect(first.namespace).toBe('herald-test');
    expect(first.uiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ui = await fetchWithRetry(first.uiUrl!);
    expect(ui.status).toBe(200);
    const conn = await Connection.connect({ address: first.address });
    await conn.workflowService.startWorkflowExecution({
      namespace: 'herald-test',
      workflowId: 'persisted',
      workflowType: { name: 'noSuchWorkflow' },
      taskQueue: { name: 'nobody-polls' },
      requestId: 'persisted-1',
    });
    await conn.close();
    await first.stop();
    await first.stop(); // idempotent
    await expect(Connection.connect({ address: first.address, connectTimeout: '1s' })).rejects.toThrow();

    const second = await startTemporalDevServer({ ...opts, uiPort: false });
    try {
      expect(second.uiUrl).toBeNull();
      const again = await Connection.connect({ address: second.address });
      const described = await again.workflowService.describeWorkflowExecution({
        namespace: 'herald-test',
        execution: { workflowId: 'persisted' },
      });
      expect(described.workflowExecutionInfo?.type?.name).toBe('noSuchWorkflow');
      await again.close();
    } finally {
      await second.stop();
    }
  });

  it('fails with the server output when the server cannot start', async () => {
    await expect(
      startTemporalDevServer({ cliPath: temporalCliPath(), port: 0, uiPort: false, logLevel: 'nonsense' }),
    ).rejects.toThrow(/exited \(code 1\)[\s\S]*invalid argument "nonsense" for "--log-level"/);
    const taken = Number(temporalAddress().split(':')[1]);
    await expect(
      startTemporalDevServer({ cliPath: temporalCliPath(), port: taken, uiPort: false }),
    ).rejects.toThrow(/address already in use/);
  });
});

async function fetchWithRetry(url: string): Promise<Response> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
