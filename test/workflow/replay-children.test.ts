/**
 * A run that starts message runs (verify, handleInbound) and is open across the release of
 * `sendMessageV2` replays on the new code: the `sendMessage` child it started before must be
 * started again as `sendMessage` (a child's type is part of its start command), which
 * MESSAGE_RUNS_V2_PATCH (workflows/start-message-run.ts) does. The fixture is a verify run recorded
 * on the tree before that release (e16576c): create, send, right check, approved.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
// Not re-exported by the package root; the SDK's samples import it from here.
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker } from '@temporalio/worker';
import { beforeAll, expect, test } from 'vitest';
import { installWorkerRuntime } from '../../workers/runtime.ts';
import { testDataConverter, WORKFLOWS_PATH } from '../support/send-message-harness.ts';

const FIXTURE = resolve(
  import.meta.dirname,
  '../fixtures/parent-histories/verify-before-message-runs-v2.json',
);
/** Recorded once, never rewritten: it stands for runs that were open at the release. */
const FIXTURE_SHA256 = '335ea3d4a61c5ceecafe46fc73256997adc797c4bca39469e3b9ba1d4f7b2404';

beforeAll(() => {
  installWorkerRuntime('warn');
});

test('the fixture is the recording, and it started a sendMessage child', () => {
  const bytes = readFileSync(FIXTURE);
  expect(createHash('sha256').update(bytes).digest('hex')).toBe(FIXTURE_SHA256);
  const events = historyFromJSON(JSON.parse(bytes.toString('utf8'))).events ?? [];
  const children = events.flatMap(
    (e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowType?.name ?? [],
  );
  expect(children).toEqual(['sendMessage']);
  expect(events.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
});

test('a verify run recorded before sendMessageV2 replays deterministically', async () => {
  const history = historyFromJSON(JSON.parse(readFileSync(FIXTURE, 'utf8')));
  await expect(
    Worker.runReplayHistory(
      { workflowsPath: WORKFLOWS_PATH, dataConverter: testDataConverter() },
      history,
      'verify-before-message-runs-v2',
    ),
  ).resolves.toBeUndefined();
});
