/**
 * Replays every committed message-run history (`sendMessage` in v0–v2, `sendMessageV2` since v3)
 * against the current workflow code, every generation of them (test/fixtures/histories/v0, v1, …:
 * one folder per workflow change, recorded by `npm run histories:record`, which never overwrites
 * one): a change that would break running workflows (commands added, dropped or reordered without
 * `patched()`) fails here.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
// Not re-exported by the package root; the SDK's samples import it from here.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { type ReplayResult, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, test } from 'vitest';
import { HISTORIES_DIR, historyGenerations } from '../../scripts/history-generations.ts';
import { installWorkerRuntime } from '../../workers/runtime.ts';
import { testDataConverter, WORKFLOWS_PATH } from '../support/send-message-harness.ts';
import { RECORDED_SCENARIOS } from '../support/send-message-scenarios.ts';

const generations = historyGenerations();
/** `v0/happy-path` etc.: the workflow id under which each history is replayed. */
const names = generations.flatMap((generation) =>
  readdirSync(resolve(HISTORIES_DIR, generation))
    .filter((f) => f.endsWith('.json'))
    .map((f) => `${generation}/${basename(f, '.json')}`)
    .sort(),
);
const histories = names.map((name) => ({
  workflowId: name,
  history: historyFromJSON(JSON.parse(readFileSync(resolve(HISTORIES_DIR, `${name}.json`), 'utf8'))),
}));

/**
 * SHA-256 of each v0 history as recorded before priority lanes (git abef25a): old generations are
 * evidence of what runs in production look like, so they never change, not even by a reformat.
 */
const V0_SHA256: Readonly<Record<string, string>> = {
  'cancel-before-submit': '6e3960c7091106351e2b1ba1859d9b56983b6a3a8afdf954be9a207d0109943d',
  'early-receipt': '9ba28b7fc382f3c8cdae14ee77edd75b90cde0008a6bcc1a80e79c8a1956885f',
  'failover-after-receipt': '4eac0933ada4a20ffa2438112b21b8fc1bbb59051f47f4ac103334eab68f7117',
  'happy-path': '9d6162bc7b15e3c970f8f8ad2299d03ec72a0d8f36b84b6eaa15c4c5d393c05d',
  'receipt-timeout': '0c969b6409d7f74405eff4f9d48bca44e3262d8b1de5b0cdb670387f4484951a',
  'retry-then-failover': '9422d631e121c3827d53a4577961ed1398b597e73e7dce868e1a9d5042674a30',
};

const results = new Map<string, ReplayResult>();

beforeAll(async () => {
  installWorkerRuntime('warn');
  // One replay worker (one bundle) for all histories. The payloads are encrypted: replay decodes
  // them with the same codec, under the committed test-only key.
  for await (const result of Worker.runReplayHistories(
    { workflowsPath: WORKFLOWS_PATH, dataConverter: testDataConverter() },
    histories,
  )) {
    results.set(result.workflowId, result);
  }
});

describe('recorded sendMessage histories', () => {
  test('the newest generation has every recorded scenario; v0 is still there', () => {
    const newest = generations.at(-1);
    expect(generations[0]).toBe('v0');
    expect(names).toEqual(
      expect.arrayContaining(Object.keys(RECORDED_SCENARIOS).map((scenario) => `${newest}/${scenario}`)),
    );
  });

  test.each(Object.entries(V0_SHA256))('v0/%s is byte-identical to its recording', (name, sha256) => {
    const bytes = readFileSync(resolve(HISTORIES_DIR, 'v0', `${name}.json`));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256);
  });

  test.each(names)('%s replays deterministically', (name) => {
    const events = histories.find((h) => h.workflowId === name)?.history.events ?? [];
    // A history cut short would replay trivially: fixtures are whole, closed runs (completed, or
    // canceled by an operator after the run settled).
    const last = events.at(-1);
    expect(
      last?.workflowExecutionCompletedEventAttributes ?? last?.workflowExecutionCanceledEventAttributes,
    ).toBeTruthy();
    const result = results.get(name);
    expect(result).toBeDefined();
    expect(result?.error).toBeUndefined();
  });

  test('a workflow whose commands moved without patched() fails to replay every generation', async () => {
    const workflowsPath = resolve(import.meta.dirname, '../fixtures/workflows/reordered-send-message.ts');
    const newestHappyPath = names.filter((n) => n.endsWith('/happy-path'));
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowsPath, dataConverter: testDataConverter() },
      histories.filter((h) => newestHappyPath.includes(h.workflowId)),
    )) {
      if (result.error instanceof DeterminismViolationError) failures.push(result.workflowId);
    }
    expect(failures.sort()).toEqual(newestHappyPath);
  });
});
