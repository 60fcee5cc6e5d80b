/**
 * `npm start`'s own path (scripts/start.ts) on embedded defaults: Temporal dev server, PGlite,
 * simulators, worker and API come up; the printed curl sends a message that reaches
 * `delivered`, visible in the API and in Temporal with its search attributes; Ctrl-C stops
 * everything, and a second start keeps the data.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { afterAll, expect, it } from 'vitest';
import { getFreePort } from '../../scripts/ports.ts';
import { waitForMessage } from '../support/stack.ts';

const projectRoot = resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(join(tmpdir(), 'herald-start-'));
let running: ChildProcess | undefined;

afterAll(async () => {
  if (running && running.exitCode === null && running.signalCode === null) await stopStack(running);
  rmSync(dataDir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  output: string;
  seconds: number;
}

async function startStack(ports: Record<string, number>): Promise<Started> {
  const t0 = Date.now();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    HERALD_DATA_DIR: dataDir,
    PORT: String(ports.api),
    TEMPORAL_PORT: String(ports.temporal),
    TEMPORAL_UI_PORT: String(ports.ui),
    TWILIO_SIM_PORT: '0',
    VONAGE_SIM_PORT: '0',
    CODEC_PORT: '0',
  };
  delete env.DATABASE_URL;
  delete env.TEMPORAL_ADDRESS;
  delete env.ADMIN_API_KEY;
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'scripts/start.ts')], {
    cwd: projectRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running = child;
  let output = '';
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`not ready within 90 s:\n${output}`)), 90_000);
    const onData = (c: Buffer): void => {
      output += c.toString();
      if (output.includes('[herald] ready')) {
        clearTimeout(timer);
        ok();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
  return { child, output, seconds: (Date.now() - t0) / 1000 };
}

function stopStack(child: ChildProcess): Promise<number | null> {
  return new Promise((ok) => {
    child.once('exit', (code) => ok(code));
    child.kill('SIGINT');
  });
}

it('npm start brings up the stack; the printed curl delivers; a restart keeps the data', async () => {
  const ports = { api: await getFreePort(), temporal: await getFreePort(), ui: await getFreePort() };
  const first = await startStack(ports);
  console.log(`npm start ready in ${first.seconds.toFixed(1)} s`);
  expect(first.seconds).toBeLessThan(60);
  expect(first.output).toContain(`http://127.0.0.1:${ports.ui}`);

  const curl = first.output.split('\n').find((l) => l.trim().startsWith('curl -s -X POST'));
  expect(curl).toBeDefined();
  const { stdout } = await promisify(execFile)('bash', ['-c', curl!.trim()]);
  const accepted = JSON.parse(stdout) as { id: string; status: string };
  expect(accepted.status).toBe('accepted');
  const apiKey = /Bearer ([^']+)'/.exec(curl!)![1]!;
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

  expect(await stopStack(first.child)).toBe(0);

  const second = await startStack(ports);
  expect(second.output).toContain(apiKey);
  const again = await fetch(`${apiUrl}/v1/messages/${accepted.id}`, {
    headers: { authorization: `Bearer ${apiKey}` },
  });
  expect(again.status).toBe(200);
  expect(((await again.json()) as { status: string }).status).toBe('delivered');
  expect(await stopStack(second.child)).toBe(0);
}, 240_000);
