/**
 * What an operator reads in the Temporal UI: the run's static summary and details (never the
 * number or body), a summary on each carrier submit ("submit to twilio-sim, attempt 2"), current
 * details with status, carrier, attempts and last error, and search attributes that filter
 * `HeraldStatus = "failed" AND HeraldCarrier = "vonage-sim"`.
 */
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

const TO = '+14155552671';
const HEALTHY = {
  mix: { accept: 1, serverError: 0, timeout: 0, permanent: 0, throttle: 0, authFail: 0 },
  down: false,
  receipts: { delivered: 1, undelivered: 0, failed: 0, expired: 0, none: 0 },
  receiptDelayMs: 20,
};

let stack: Stack;
let account: { id: string; apiKey: string };
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  stack = await startStack();
  account = await createFundedAccount(stack.apiUrl, '2.00');
  api = apiClient(stack.apiUrl, account.apiKey);
});
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.twilio.setConfig(HEALTHY);
  stack.vonage.setConfig(HEALTHY);
});

async function send(body: string): Promise<{ id: string; status: string; carrier: string | null }> {
  const res = await api('POST', '/v1/messages', { to: TO, body });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  const settled = await waitForMessage(stack.apiUrl, account.apiKey, res.body.id, terminal);
  // The row turns terminal inside the last step; the run closes just after it.
  await stack.client.workflow.getHandle(settled.id).result();
  return settled;
}

/** The summaries of the run's activities, decoded with the stack's codec, in history order. */
async function activitySummaries(client: Client, workflowId: string): Promise<string[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const out: string[] = [];
  for (const event of history.events ?? []) {
    // Submits run as local activities (markers) and, when the carrier has a line, as activities.
    if (!(event.activityTaskScheduledEventAttributes || event.markerRecordedEventAttributes)) continue;
    if (!event.userMetadata?.summary) continue;
    const [plain] = await stack.codec.decode([event.userMetadata.summary as Payload]);
    const summary = defaultPayloadConverter.fromPayload<string>(plain!);
    if (summary.startsWith('submit to ')) out.push(summary);
  }
  return out;
}

async function currentDetails(workflowId: string): Promise<string> {
  const meta = await stack.client.workflow
    .getHandle(workflowId)
    .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return meta.currentDetails ?? '';
}

/** Visibility is eventually consistent: poll the query until it returns `want` ids. */
async function listIds(query: string, want: number): Promise<string[]> {
  let ids: string[] = [];
  for (let i = 0; i < 50; i++) {
    ids = [];
    for await (const w of stack.client.workflow.list({ query })) ids.push(w.workflowId);
    if (ids.length >= want) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return ids;
}

describe('the Temporal UI tells the story', () => {
  it('summary, details and per-attempt activity summaries, never the number or body', async () => {
    stack.twilio.setConfig({ mix: { ...HEALTHY.mix, accept: 0, serverError: 1 } });
    const msg = await send('Your code is 552211');
    expect(msg.status).toBe('delivered');
    expect(msg.carrier).toBe('vonage-sim');

    const described = await stack.client.workflow.getHandle(msg.id).describe();
    const summary = await described.staticSummary();
    expect(summary).toBe(`US · ${account.id} · GSM-7 · 1 segment · normal`);
    const details = (await described.staticDetails()) ?? '';
    expect(details).toContain(msg.id);
    for (const text of [summary ?? '', details]) {
      expect(text).not.toContain(TO);
      expect(text).not.toContain('552211');
    }

    expect(await activitySummaries(stack.client, msg.id)).toEqual([
      'submit to twilio-sim, attempt 1',
      'submit to twilio-sim, attempt 2',
      'submit to twilio-sim, attempt 3',
      'submit to vonage-sim, attempt 1',
    ]);
    const now = await currentDetails(msg.id);
    expect(now).toContain('**Status** delivered');
    expect(now).toContain('**Carrier** vonage-sim');
    expect(now).toContain('**Attempts** 4');
    expect(now).toMatch(/\*\*Last error\*\* \S+/);
    expect(now).not.toMatch(/\*\*Last error\*\* —/);
  });

  it('runs without stack capture (workflows/sandbox-setup.ts): the stack-trace query names no frame', async () => {
    // No receipt: the run stays open, waiting, long enough to be asked.
    stack.twilio.setConfig({ ...HEALTHY, receipts: { ...HEALTHY.receipts, delivered: 0, none: 1 } });
    stack.vonage.setConfig({ ...HEALTHY, receipts: { ...HEALTHY.receipts, delivered: 0, none: 1 } });
    const res = await api('POST', '/v1/messages', {
      to: TO,
      body: 'no receipt for this one',
      validitySeconds: 60,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await waitForMessage(stack.apiUrl, account.apiKey, res.body.id, (m) => m.status === 'sent');
    const handle = stack.client.workflow.getHandle(res.body.id);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    // With the SDK's default capture this lists a frame per pending promise (`    at sendMessage …`).
    const trace = await handle.query<string>('__stack_trace');
    expect(trace).not.toMatch(/^\s+at /m);
    await handle.cancel(); // an operator's cancel settles it
  });

  it('an operator finds failed messages on one carrier by search attributes', async () => {
    // Twilio is down (fail over at once), Vonage refuses permanently: failed on vonage-sim.
    stack.twilio.setConfig({ down: true });
    stack.vonage.setConfig({ mix: { ...HEALTHY.mix, accept: 0, permanent: 1 } });
    const failed = await send('Your code is 118833');
    expect(failed.status).toBe('failed');
    stack.twilio.setConfig(HEALTHY);
    stack.vonage.setConfig(HEALTHY);
    const delivered = await send('Your code is 440022');
    expect(delivered.status).toBe('delivered');

    const query = `HeraldStatus = "failed" AND HeraldCarrier = "vonage-sim"`;
    const ids = await listIds(query, 1);
    expect(ids).toContain(failed.id);
    expect(ids).not.toContain(delivered.id);
    const byAccount = await listIds(`HeraldAccount = "${account.id}" AND HeraldStatus = "delivered"`, 2);
    expect(byAccount).toContain(delivered.id);
    expect(byAccount).not.toContain(failed.id);

    const now = await currentDetails(failed.id);
    expect(now).toContain('**Status** failed');
    expect(now).toContain('**Carrier** vonage-sim');
    expect(now).toMatch(/\*\*Last error\*\* \S+/);
    expect(now).not.toMatch(/\*\*Last error\*\* —/);
  });
});
