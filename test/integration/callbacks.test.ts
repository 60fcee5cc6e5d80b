/**
 * Signed status callbacks end to end: API → message workflow → status changes → callback
 * workflow → a receiver on 127.0.0.1 (allowed through the SSRF allow-list), with retries,
 * signatures, secret rotation, and private URLs refused at send time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyHeraldSignature } from '../../services/callback-signature.ts';
import { type Received, startReceiver, until } from '../support/http-receiver.ts';
import { apiClient, createFundedAccount, type Stack, startStack, waitForMessage } from '../support/stack.ts';

const US = '+14155552671';
// The Temporal server rounds activity retry delays up to whole seconds, so backoff is visible
// from 1 s on: 1 s, 2 s, 4 s.
const RETRY_INITIAL_MS = 1_000;

type CallbackBody = { eventId: string; status: string; sequence: number; [k: string]: unknown };

const receiver = startReceiver<CallbackBody>((path, n) => {
  if (path === '/flaky') return n < 3 ? 500 : 200;
  if (path === '/gone') return 410;
  return 200;
});
let receiverUrl: string;
let stack: Stack;
let account: { id: string; apiKey: string };
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  receiverUrl = await receiver.listen();
  stack = await startStack({ callbacks: { allowedHosts: ['127.0.0.1'], retryInitialMs: RETRY_INITIAL_MS } });
  account = await createFundedAccount(stack.apiUrl, '5.00');
  api = apiClient(stack.apiUrl, account.apiKey);
});
afterAll(async () => {
  await stack?.stop();
  await receiver.close();
});

async function send(path: string): Promise<string> {
  const res = await api('POST', '/v1/messages', {
    to: US,
    body: 'Your code is 123456',
    callbackUrl: `${receiverUrl}${path}`,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(202);
  return res.body.id;
}

/** Waits until the receiver has acknowledged (2xx) the message's final status. */
async function deliveredCallbacks(messageId: string): Promise<Array<Received<CallbackBody>>> {
  await until('the final callback', () =>
    receiver.received.find(
      (r) => r.body.messageId === messageId && r.body.status === 'delivered' && r.answered === 200,
    ),
  );
  return receiver.received.filter((r) => r.body.messageId === messageId);
}

async function currentSecret(): Promise<string> {
  const res = await api('GET', '/v1/webhook-secret');
  expect(res.status).toBe(200);
  return res.body.secret;
}

describe('status callbacks', () => {
  it('a receiver failing 3 times then succeeding gets every status once, in order, signed, with backoff', async () => {
    const secret = await currentSecret();
    const id = await send('/flaky');
    const all = await deliveredCallbacks(id);

    // Every attempt is signed with the account's secret by the documented algorithm.
    for (const r of all) {
      expect(verifyHeraldSignature(r.headers['herald-signature'] as string, r.raw, secret)).toBe(true);
      expect(r.headers['herald-event-id']).toBe(r.body.eventId);
      expect(r.headers['content-type']).toBe('application/json');
    }
    // The first event was retried three times, with growing delays, before anything else was sent.
    expect(all.slice(0, 4).map((r) => [r.body.status, r.answered])).toEqual([
      ['queued', 500],
      ['queued', 500],
      ['queued', 500],
      ['queued', 200],
    ]);
    const gaps = [1, 2, 3].map((i) => (all[i]?.at ?? 0) - (all[i - 1]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(RETRY_INITIAL_MS * 0.9);
    expect(gaps[1]).toBeGreaterThanOrEqual(RETRY_INITIAL_MS * 2 * 0.9);
    expect(gaps[2]).toBeGreaterThanOrEqual(RETRY_INITIAL_MS * 4 * 0.9);

    // Each status acknowledged exactly once, in order.
    const acked = all.filter((r) => r.answered === 200).map((r) => r.body);
    expect(acked.map((b) => b.status)).toEqual(['queued', 'sending', 'sent', 'delivered']);
    expect(new Set(acked.map((b) => b.eventId)).size).toBe(4);
    expect(acked.map((b) => b.sequence)).toEqual([2, 3, 4, 5]);
    expect(acked.map((b) => b.previousStatus)).toEqual(['accepted', 'queued', 'sending', 'sent']);
    expect(all).toHaveLength(7);
    const final = acked[3];
    expect(final).toMatchObject({
      messageId: id,
      carrier: 'twilio-sim',
      price: '0.007900',
      error: null,
      segments: 1,
    });
    // Never the number or the text.
    expect(all.map((r) => r.raw).join('')).not.toContain('14155552671');
    expect(all.map((r) => r.raw).join('')).not.toContain('123456');

    // The attempts are visible on the message.
    const msg = await waitForMessage(stack.apiUrl, account.apiKey, id, (m) => m.callbacks?.length === 7);
    expect(
      msg.callbacks.map((c: { outcome: string; httpStatus: number; attempt: number }) => [
        c.outcome,
        c.httpStatus,
        c.attempt,
      ]),
    ).toEqual([
      ['failed', 500, 1],
      ['failed', 500, 2],
      ['failed', 500, 3],
      ['delivered', 200, 4],
      ['delivered', 200, 1],
      ['delivered', 200, 1],
      ['delivered', 200, 1],
    ]);
    expect(msg.callbacks[0]).toMatchObject({
      eventId: acked[0]?.eventId,
      status: 'queued',
      error: 'receiver answered 500',
    });
  });

  it('refuses callback URLs at private addresses at send time, creating nothing', async () => {
    const before = await api('GET', '/v1/messages?limit=100');
    const balanceBefore = await api('GET', '/v1/balance');
    for (const [url, what] of [
      ['http://10.0.0.5/cb', 'private'],
      ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
      ['http://[::1]:8080/cb', 'loopback'],
      ['http://192.168.1.20/cb', 'private'],
    ] as const) {
      const res = await api(
        'POST',
        '/v1/messages',
        { to: US, body: 'hello', callbackUrl: url },
        { 'Idempotency-Key': `ssrf-${url}` },
      );
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_callback_url');
      expect(res.body.error.message).toContain(what);
      expect(res.body.error.message).toContain('callbacks only go to public addresses');
    }
    const after = await api('GET', '/v1/messages?limit=100');
    expect(after.body.data).toHaveLength(before.body.data.length);
    expect((await api('GET', '/v1/balance')).body).toEqual(balanceBefore.body);
    const rows = await stack.db
      .selectFrom('messages')
      .select('id')
      .where('account_id', '=', account.id)
      .execute();
    expect(rows).toHaveLength(before.body.data.length);
  });

  it('rotating the webhook secret changes the signing secret (with an optional grace period)', async () => {
    const s1 = await currentSecret();
    const rotated = await api('POST', '/v1/webhook-secret/rotate', { gracePeriodSeconds: 0 });
    expect(rotated.status).toBe(200);
    const s2 = rotated.body.secret as string;
    expect(s2).not.toBe(s1);
    expect(rotated.body.previousSecretExpiresAt).toBeNull();
    expect(await currentSecret()).toBe(s2);

    const a = await deliveredCallbacks(await send('/rotation-a'));
    for (const r of a) {
      const header = r.headers['herald-signature'] as string;
      expect(header.match(/v1=/g)).toHaveLength(1);
      expect(verifyHeraldSignature(header, r.raw, s2)).toBe(true);
      expect(verifyHeraldSignature(header, r.raw, s1)).toBe(false);
    }

    // Default grace period: the old secret signs too (a second v1=) until it expires.
    const graceful = await api('POST', '/v1/webhook-secret/rotate');
    expect(graceful.status).toBe(200);
    const s3 = graceful.body.secret as string;
    expect(Date.parse(graceful.body.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(86_000_000);
    const b = await deliveredCallbacks(await send('/rotation-b'));
    for (const r of b) {
      const header = r.headers['herald-signature'] as string;
      expect(header.match(/v1=/g)).toHaveLength(2);
      expect(verifyHeraldSignature(header, r.raw, s3)).toBe(true);
      expect(verifyHeraldSignature(header, r.raw, s2)).toBe(true);
      expect(verifyHeraldSignature(header, r.raw, s1)).toBe(false);
    }
    const bad = await api('POST', '/v1/webhook-secret/rotate', { gracePeriodSeconds: -1 });
    expect(bad.status).toBe(400);
  });

  it('stops all callbacks of a message when the receiver answers 410 Gone', async () => {
    const id = await send('/gone');
    await waitForMessage(stack.apiUrl, account.apiKey, id, (m) => m.status === 'delivered');
    const msg = await waitForMessage(stack.apiUrl, account.apiKey, id, (m) => m.callbacks?.length >= 1);
    // Let the later statuses come and go: none of them may be posted.
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received.filter((r) => r.body.messageId === id).map((r) => r.body.status)).toEqual([
      'queued',
    ]);
    expect(msg.callbacks).toEqual([
      expect.objectContaining({ status: 'queued', outcome: 'gone', httpStatus: 410 }),
    ]);
    const handle = stack.client.workflow.getHandle(`cb-${id}`);
    expect((await handle.describe()).status.name).toBe('COMPLETED');
  });
});
