/**
 * Stranded messages on real parts: a row stored as `accepted` whose workflow never started (the
 * API crashed after the insert, or Temporal was down) is started by the reconciler, delivered and
 * charged once; the API answers 202 when Temporal is unreachable after the row is stored.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../api/log.ts';
import { type RunningApi, startApi } from '../../api/server.ts';
import { heraldDataConverter } from '../../codec/data-converter.ts';
import { getMessage, insertMessage } from '../../db/messages.ts';
import type { Message } from '../../db/schema.ts';
import { ID_RANDOM_BYTES, newMessageId } from '../../domain/ids.ts';
import { startMessageWorkflow } from '../../services/message-workflow.ts';
import { reconcileStrandedMessages } from '../../services/stranded-messages.ts';
import { messageRow } from '../support/db.ts';
import { listEntriesForMessage } from '../support/ledger.ts';
import {
  ADMIN_KEY,
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

const US = '+14155552671';
const BODY = 'stranded code 424242';
/** The worker's own reconciler only sees rows older than this, so the cases below control it by age. */
const WORKER_GRACE_MS = 60 * 60_000;

let stack: Stack;
let account: { id: string; apiKey: string };

beforeAll(async () => {
  stack = await startStack({ strandedMessages: { graceMs: WORKER_GRACE_MS, intervalMs: 200 } });
  account = await createFundedAccount(stack.apiUrl, '1.00');
}, 60_000);
afterAll(async () => {
  await stack?.stop();
});
beforeEach(() => {
  stack.twilio.resetStats();
  stack.vonage.resetStats();
});

/** A row as the API stores it before starting the workflow, created `ageMs` ago. */
async function insertAccepted(ageMs: number): Promise<Message> {
  const { message } = await insertMessage(
    stack.db,
    messageRow(account.id, {
      id: newMessageId(randomBytes(ID_RANDOM_BYTES)),
      to_number: US,
      body: BODY,
      quote_micros: 8_500n,
      validity_seconds: 600,
    }),
  );
  await backdate(message.id, ageMs);
  return message;
}

async function backdate(id: string, ageMs: number): Promise<void> {
  await stack.db
    .updateTable('messages')
    .set({ created_at: sql`now() - make_interval(secs => ${ageMs / 1000})` })
    .where('id', '=', id)
    .execute();
}

async function hasWorkflow(id: string): Promise<boolean> {
  try {
    await stack.client.workflow.getHandle(id).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

function submissions(): number {
  return stack.twilio.stats().submissions + stack.vonage.stats().submissions;
}

async function captures(id: string): Promise<string[]> {
  return (await listEntriesForMessage(stack.db, id)).filter((e) => e.kind === 'capture').map((e) => e.amount);
}

function logSpy(): { log: Logger; lines: Array<{ level: string; msg: string; fields: unknown }> } {
  const lines: Array<{ level: string; msg: string; fields: unknown }> = [];
  return { lines, log: (level, msg, fields) => lines.push({ level, msg, fields }) };
}

describe('stranded messages', () => {
  it('one pass starts a stranded message: delivered and charged once; later passes do nothing', async () => {
    const message = await insertAccepted(5 * 60_000);
    expect(await hasWorkflow(message.id)).toBe(false);
    const spy = logSpy();

    const first = await reconcileStrandedMessages({ db: stack.db, temporal: stack.client, log: spy.log });
    expect(first).toEqual({ started: [message.id], alreadyStarted: [], failed: [], skipped: [] });
    expect(spy.lines).toEqual([
      expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ messageId: message.id }) }),
    ]);
    const logged = JSON.stringify(spy.lines);
    expect(logged).not.toContain(BODY);
    expect(logged).not.toContain(US);
    // Straight away, while the run is open (or just closed): never started a second time.
    const again = await reconcileStrandedMessages({ db: stack.db, temporal: stack.client, log: spy.log });
    expect(again.started).toEqual([]);

    const done = await waitForMessage(stack.apiUrl, account.apiKey, message.id, terminal);
    expect(done.status).toBe('delivered');
    expect(done.events.map((e: { status: string }) => e.status)).toEqual([
      'accepted',
      'queued',
      'sending',
      'sent',
      'delivered',
    ]);
    expect(await captures(message.id)).toEqual(['0.007900']);
    expect(submissions()).toBe(1);

    const after = await reconcileStrandedMessages({ db: stack.db, temporal: stack.client, log: spy.log });
    expect(after).toEqual({ started: [], alreadyStarted: [], failed: [], skipped: [] });
    // The API's own start for a completed message: REJECT_DUPLICATE, nothing sent again.
    expect(
      await startMessageWorkflow(stack.client, (await getMessage(stack.db, message.id)) as Message),
    ).toBe('already_started');
    expect(spy.lines).toHaveLength(1);
    expect(submissions()).toBe(1);
    expect(await captures(message.id)).toEqual(['0.007900']);
  });

  it('the API answers 202 when Temporal is unreachable after storing; the worker starts the message', async () => {
    // A Temporal client pointing at a closed port, without the SDK's retries: every call fails fast.
    const port = await closedPort();
    const connection = Connection.lazy({ address: `127.0.0.1:${port}`, interceptors: [] });
    const spy = logSpy();
    let api: RunningApi | undefined;
    try {
      api = await startApi({
        db: stack.db,
        temporal: new Client({ connection, dataConverter: heraldDataConverter(stack.keyring) }),
        adminApiKey: ADMIN_KEY,
        currency: 'USD',
        port: 0,
        log: spy.log,
      });
      const call = apiClient(api.url, account.apiKey);
      const sent = await call(
        'POST',
        '/v1/messages',
        { to: US, body: BODY },
        { 'Idempotency-Key': 'strand-1' },
      );
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
      expect(sent.body).toMatchObject({ status: 'accepted', to: US });
      const id: string = sent.body.id;
      expect(spy.lines).toContainEqual(
        expect.objectContaining({ level: 'warn', fields: expect.objectContaining({ messageId: id }) }),
      );
      // The same request again: the same stored message, still no 503.
      const replay = await call(
        'POST',
        '/v1/messages',
        { to: US, body: BODY },
        { 'Idempotency-Key': 'strand-1' },
      );
      expect(replay.status).toBe(202);
      expect(replay.body.id).toBe(id);
      expect((await getMessage(stack.db, id))?.status).toBe('accepted');
      expect(await hasWorkflow(id)).toBe(false);

      // Old enough for the in-process worker's reconciler (graceMs 1 h, every 200 ms).
      await backdate(id, 2 * WORKER_GRACE_MS);
      const done = await waitForMessage(stack.apiUrl, account.apiKey, id, terminal);
      expect(done.status).toBe('delivered');
      expect(await captures(id)).toEqual(['0.007900']);
      expect(submissions()).toBe(1);
    } finally {
      await api?.close();
      await connection.close();
    }
  });

  it('leaves rows younger than the grace period alone', async () => {
    const old = await insertAccepted(10_000);
    const young = await insertAccepted(0);
    const pass = await reconcileStrandedMessages({
      db: stack.db,
      temporal: stack.client,
      graceMs: 5_000,
      log: () => {},
    });
    expect(pass.started).toEqual([old.id]);
    expect((await getMessage(stack.db, young.id))?.status).toBe('accepted');
    expect(await hasWorkflow(young.id)).toBe(false);
    // Default grace (30 s): neither is stranded yet.
    const byDefault = await reconcileStrandedMessages({
      db: stack.db,
      temporal: stack.client,
      log: () => {},
    });
    expect(byDefault.started).toEqual([]);
    expect(await hasWorkflow(young.id)).toBe(false);
    expect((await waitForMessage(stack.apiUrl, account.apiKey, old.id, terminal)).status).toBe('delivered');
  });

  it('a message stranded past its validity fails validity_expired: nothing reserved, sent or charged', async () => {
    // 600 s of validity, stored 15 minutes ago.
    const message = await insertAccepted(15 * 60_000);
    const pass = await reconcileStrandedMessages({ db: stack.db, temporal: stack.client, log: () => {} });
    expect(pass.started).toEqual([message.id]);

    const done = await waitForMessage(stack.apiUrl, account.apiKey, message.id, terminal);
    expect(done.status).toBe('failed');
    expect(done.error).toMatchObject({ code: 'validity_expired' });
    expect(submissions()).toBe(0);
    expect(await listEntriesForMessage(stack.db, message.id)).toEqual([]);
  });

  it('a stranded message can be canceled: its workflow starts only to cancel, nothing is sent or kept', async () => {
    const message = await insertAccepted(0); // younger than the worker's grace: only the cancel starts it
    expect(await hasWorkflow(message.id)).toBe(false);
    const api = apiClient(stack.apiUrl, account.apiKey);

    const canceled = await api('POST', `/v1/messages/${message.id}/cancel`);
    expect(canceled.status, JSON.stringify(canceled.body)).toBe(200);
    const done = await waitForMessage(stack.apiUrl, account.apiKey, message.id, terminal);
    expect(done.status).toBe('canceled');
    expect(submissions()).toBe(0);
    const entries = await listEntriesForMessage(stack.db, message.id);
    expect(entries.filter((e) => e.kind === 'capture')).toEqual([]);
    // Whatever was reserved came back.
    const reserved = entries.filter((e) => e.kind === 'reserve').map((e) => e.amount);
    expect(entries.filter((e) => e.kind === 'release').map((e) => e.amount)).toEqual(reserved);
    // Too late now: the run is closed, never started again.
    expect((await api('POST', `/v1/messages/${message.id}/cancel`)).status).toBe(409);
    expect(
      (await reconcileStrandedMessages({ db: stack.db, temporal: stack.client, log: () => {} })).started,
    ).toEqual([]);
  });
});

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise<void>((ok) => server.close(() => ok()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
