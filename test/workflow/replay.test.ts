/**
 * Replays every committed `sendMessage` history (test/fixtures/histories/, recorded by
 * `npm run histories:record`) against the current workflow code: a change that would break
 * running workflows (commands added, dropped or reordered without versioning) fails here.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
// Not re-exported by the package root; the SDK's samples import it from here.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { type ReplayResult, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, test } from 'vitest';
import { installWorkerRuntime } from '../../workers/runtime.ts';
import { testDataConverter, WORKFLOWS_PATH } from '../support/send-message-harness.ts';
import { RECORDED_SCENARIOS } from '../support/send-message-scenarios.ts';

const dir = resolve(import.meta.dirname, '../fixtures/histories');
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => basename(f, '.json'))
  .sort();
const histories = names.map((name) => ({
  workflowId: name,
  history: historyFromJSON(JSON.parse(readFileSync(resolve(dir, `${name}.json`), 'utf8'))),
}));

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
  test('every recorded scenario has a fixture', () => {
    expect(names).toEqual(expect.arrayContaining(Object.keys(RECORDED_SCENARIOS)));
  });

  test.each(names)('%s replays deterministically', (name) => {
    const events = histories.find((h) => h.workflowId === name)?.history.events ?? [];
    // A history cut short would replay trivially: fixtures are whole, completed runs.
    expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
    const result = results.get(name);
    expect(result).toBeDefined();
    expect(result?.error).toBeUndefined();
  });
});
