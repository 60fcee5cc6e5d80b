/**
 * `npm start`'s own path (scripts/start.ts) on embedded defaults: Temporal dev server, PGlite,
 * simulators, worker and API come up; the printed curl sends a message that reaches
 * `delivered`, visible in the API and in Temporal with its search attributes; Ctrl-C stops
 * everything, and a second start keeps the data.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, expect, it } from 'vitest';
import { getFreeFixedPort } from '../../scripts/ports.ts';
import { printedApiKey, startDevStack, stopDevStacks } from '../support/dev-stack.ts';
import { waitForMessage } from '../support/stack.ts';

const dataDir = mkdtempSync(join(tmpdir(), 'herald-start-'));

afterAll(async () => {
  await stopDevStacks();
  rmSync(dataDir, { recursive: true, force: true });
});

it('npm start brings up the stack; the printed curl delivers; a restart keeps the data', async () => {
  const ports = {
    api: await getFreeFixedPort(),
    temporal: await getFreeFixedPort(),
    ui: await getFreeFixedPort(),
  };
  const first = await startDevStack({ dataDir, ports });
  console.log(`npm start ready in ${first.seconds.toFixed(1)} s`);
  expect(first.seconds).toBeLessThan(60);
  expect(first.output).toContain(`http://127.0.0.1:${ports.ui}`);

  // The banner stays the last thing on screen: the worker's and the API's info lines go to files.
  await new Promise((r) => setTimeout(r, 3_000));
  expect(first.printed().split('[herald] ready')[1]?.trim()).toBe('');
  expect(readFileSync(join(dataDir, 'logs', 'worker.log'), 'utf8')).toContain('worker: polling');
  expect(readFileSync(join(dataDir, 'logs', 'api.log'), 'utf8')).toContain('api: listening');

  const curl = first.output.split('\n').find((l) => l.trim().startsWith('curl -s -X POST'));
  expect(curl).toBeDefined();
  const { stdout } = await promisify(execFile)('bash', ['-c', curl!.trim()]);
  const accepted = JSON.parse(stdout) as { id: string; status: string };
  expect(accepted.status).toBe('accepted');
  const apiKey = printedApiKey(curl!)!;
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const delivered = await waitForMessage(
    apiUrl,
    apiKey,
    accepted.id,
    (m) => m.status === 'delivered',
    30_000,
  );
  expect(delivered.price).not.toBe('0.000000');

  // The Temporal UI's list view is a visibility query over our search attributes.
  const connection = await Connection.connect({ address: `127.0.0.1:${ports.temporal}` });
  try {
    const client = new Client({ connection });
    const query = `WorkflowId = '${accepted.id}' AND HeraldStatus = 'delivered' AND HeraldCountry = 'US' AND HeraldCarrier = '${delivered.carrier}'`;
    let found = 0;
    for (let i = 0; i < 50 && found === 0; i++) {
      for await (const _ of client.workflow.list({ query })) found++;
      if (found === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toBe(1);
  } finally {
    await connection.close();
  }

  expect(await first.stop()).toBe(0);

  const second = await startDevStack({ dataDir, ports });
  expect(second.output).toContain(apiKey);
  const again = await fetch(`${apiUrl}/v1/messages/${accepted.id}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  expect(again.status).toBe(200);
  expect(((await again.json()) as { status: string }).status).toBe('delivered');
  expect(await second.stop()).toBe(0);
}, 240_000);
