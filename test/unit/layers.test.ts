/**
 * The layer fences (.dependency-cruiser.cjs, run over the tree by `npm run lint:layers` in
 * `npm test`) reject a forbidden import and name the rule: checked on a scratch tree so the real
 * one stays clean.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'herald-layers-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Writes `files` into a fresh scratch tree with the project's rules; depcruise's exit and output. */
async function cruise(name: string, files: Record<string, string>): Promise<{ code: number; out: string }> {
  const dir = join(scratch, name);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  copyFileSync(join(root, '.dependency-cruiser.cjs'), join(dir, '.dependency-cruiser.cjs'));
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { allowImportingTsExtensions: true, noEmit: true, module: 'nodenext' },
    }),
  );
  const bin = join(root, 'node_modules/.bin/depcruise');
  const dirs = [...new Set(Object.keys(files).map((f) => f.split('/')[0] ?? ''))];
  try {
    const { stdout } = await run(
      bin,
      ['--config', '.dependency-cruiser.cjs', '--output-type', 'err', ...dirs],
      { cwd: dir },
    );
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? 1, out: e.stdout ?? '' };
  }
}

describe('layer fences', () => {
  it('let a workflow import domain/ and the types of activities', async () => {
    const { code, out } = await cruise('clean', {
      'domain/money.ts': 'export const unit = 1;\n',
      'activities/index.ts': 'export interface Activities { send(): Promise<void> }\n',
      'workflows/send.ts':
        "import { unit } from '../domain/money.ts';\nimport type { Activities } from '../activities/index.ts';\nexport const x: number = unit;\nexport type A = Activities;\n",
    });
    expect(out).toContain('no dependency violations');
    expect(code).toBe(0);
  });

  it.each([
    [
      'workflows-are-deterministic',
      {
        'db/ledger.ts': 'export const y = 1;\n',
        'workflows/send.ts': "import { y } from '../db/ledger.ts';\nexport const x = y;\n",
      },
    ],
    [
      'workflows-no-node-builtins',
      { 'workflows/send.ts': "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;\n" },
    ],
    [
      'domain-is-pure',
      {
        'db/messages.ts': 'export const y = 1;\n',
        'domain/status.ts': "import { y } from '../db/messages.ts';\nexport const x = y;\n",
      },
    ],
    [
      'adapters-only-domain',
      {
        'db/messages.ts': 'export const y = 1;\n',
        'adapters/twilio.ts': "import { y } from '../db/messages.ts';\nexport const x = y;\n",
      },
    ],
    [
      'api-starts-workflows-not-activities',
      {
        'activities/index.ts': 'export const y = 1;\n',
        'api/app.ts': "import { y } from '../activities/index.ts';\nexport const x = y;\n",
      },
    ],
    [
      'no-test-code-in-the-product',
      {
        'test/support/x.ts': 'export const y = 1;\n',
        'scripts/start.ts': "import { y } from '../test/support/x.ts';\nexport const x = y;\n",
      },
    ],
  ])('fail a forbidden import naming %s', async (rule, files) => {
    const { code, out } = await cruise(rule, files);
    expect(code).not.toBe(0);
    expect(out).toContain(`error ${rule}:`);
  });
});
