/**
 * `npm run histories:record`: runs the recorded message-run (`sendMessageV2`) scenarios
 * (test/support/send-message-scenarios.ts) on a dev server of its own with fake activities and
 * writes each history into a NEW generation folder, test/fixtures/histories/v<N+1>/<name>.json
 * (scripts/history-generations.ts); test/workflow/replay.test.ts replays every generation against
 * the current workflow code. Existing generations are never touched: record after an intended,
 * versioned (`patched`) change, never to make a failing replay pass.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
// Not re-exported by the package root; the SDK's samples import it from here.
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { HISTORIES_DIR, nextGeneration } from '../../scripts/history-generations.ts';
import { resolveTemporalCli } from '../../scripts/temporal-cli.ts';
import { startSendMessageHarness } from './send-message-harness.ts';
import { RECORDED_SCENARIOS } from './send-message-scenarios.ts';

const projectRoot = resolve(import.meta.dirname, '../..');
const outDir = resolve(HISTORIES_DIR, nextGeneration());

const cliPath = await resolveTemporalCli({ log: (msg) => console.log(msg) });
const harness = await startSendMessageHarness({ cliPath });
const written: string[] = [];
try {
  // Not recursive: a generation that exists already is an error, never overwritten.
  await mkdir(outDir);
  for (const [name, scenario] of Object.entries(RECORDED_SCENARIOS)) {
    const { handle, result } = await scenario.run(harness);
    // Never record a run that went wrong: the fixture would pin the bug.
    if (result.status !== scenario.status) {
      throw new Error(`${name}: ended ${result.status}, expected ${scenario.status}; nothing recorded`);
    }
    const file = resolve(outDir, `${name}.json`);
    await writeFile(file, `${historyToJSON(await handle.fetchHistory())}\n`);
    written.push(file);
    console.log(`recorded ${name}: ${result.status}`);
  }
} finally {
  await harness.stop();
}
// The fixtures are checked by `biome check .` like any JSON in the tree.
const biome = spawnSync(resolve(projectRoot, 'node_modules/.bin/biome'), ['format', '--write', ...written], {
  stdio: 'inherit',
});
if (biome.status !== 0) process.exitCode = 1;
console.log(`${written.length} histories in ${outDir}`);
