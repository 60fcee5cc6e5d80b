/**
 * Verifications on the real stack (issue 12, DESIGN §10): a code goes out as a `high` message and
 * only the carrier sees it in clear; checks are Updates the verification's workflow decides once;
 * wrong codes, expiry, resend cool-down, cancel, and 20 concurrent right checks.
 */
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CHECKS } from '../../domain/verification.ts';
import { deriveCode } from '../../services/verification-codes.ts';
import { verifyWorkflowId } from '../../workflows/verification-definitions.ts';
import { apiClient, createFundedAccount, type Stack, startStack, waitForMessage } from '../support/stack.ts';

let stack: Stack;
let key: string;
let call: ReturnType<typeof apiClient>;
let nextNumber = 0;
/** Made first, with the shortest ttl (60 s), and checked last: the expiry is a real timer. */
let expiring: { id: string; to: string; status: string };
/** Made first too, and resent in the last test, once its 30 s cool-down has passed. */
let resent: { id: string; to: string; status: string };

beforeAll(async () => {
  stack = await startStack();
  key = (await createFundedAccount(stack.apiUrl, '10.00')).apiKey;
  call = apiClient(stack.apiUrl, key);
  expiring = await create({ ttlSeconds: 60 });
  resent = await create();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

/** A fresh US number per verification, so the simulator's log tells them apart. */
function freshNumber(): string {
  nextNumber += 1;
  return `+1415555${String(2600 + nextNumber).padStart(4, '0')}`;
}

async function create(
  body: Record<string, unknown> = {},
): Promise<{ id: string; to: string; status: string }> {
  const res = await call('POST', '/v1/verifications', { to: freshNumber(), ...body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Waits until the carrier simulator took a message to `to`; answers the texts it received. */
async function textsTo(to: string, count = 1): Promise<string[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const texts = stack.twilio
      .acceptedSubmissions()
      .filter((s) => s.to === to)
      .map((s) => s.text ?? '');
    if (texts.length >= count) return texts;
    if (Date.now() > deadline) throw new Error(`no ${count} message(s) to ${to}: ${JSON.stringify(texts)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The verification's row once `done` holds (the workflow writes its decision just after answering). */
async function rowWhen(id: string, done: (row: { status: string }) => boolean) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const row = await stack.db
      .selectFrom('verifications')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    if (done(row) || Date.now() > deadline) return row;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const check = (id: string, code: string) => call('POST', `/v1/verifications/${id}/check`, { code });

describe('verifications', () => {
  it('sends the code as a high message, masked everywhere but on the wire, and approves it once', async () => {
    const v = await create({ appName: 'Acme' });
    expect(v.status).toBe('pending');
    const [text] = await textsTo(v.to);
    const code = deriveCode(stack.verifySecret, v.id, 6);
    expect(text).toBe(`Your Acme verification code is ${code}`);

    const shown = (await call('GET', `/v1/verifications/${v.id}`)).body;
    expect(shown).toMatchObject({ status: 'pending', checksLeft: MAX_CHECKS, sendsLeft: 4 });
    const message = await waitForMessage(stack.apiUrl, key, shown.messageId, (m) => m.status === 'delivered');
    expect(message.priority).toBe('high');
    expect(message.body).toBe('Your Acme verification code is ******');
    expect(Number(message.price)).toBeGreaterThan(0);

    const ok = await check(v.id, code);
    expect(ok).toEqual({ status: 200, body: { status: 'approved', checksLeft: MAX_CHECKS - 1 } });
    // Decided once: a later check (even a wrong one) answers the decision and counts nothing.
    expect((await check(v.id, '000000')).body).toEqual({ status: 'approved', checksLeft: MAX_CHECKS - 1 });
    const row = await rowWhen(v.id, (r) => r.status !== 'pending');
    expect(row.status).toBe('approved');
    expect(row.decided_at).not.toBeNull();
    // The code is stored nowhere: not in the verification row, not in any message row.
    expect(JSON.stringify(row)).not.toContain(code);
    const rows = await stack.db
      .selectFrom('messages')
      .select('body')
      .where('verification_id', '=', v.id)
      .execute();
    expect(rows.map((r) => r.body)).toEqual(['Your Acme verification code is ******']);
  });

  it('the code is in no Temporal history, even decrypted: the verification run and its message run', async () => {
    const v = await create({ codeLength: 10 });
    const [text] = await textsTo(v.to);
    const code = deriveCode(stack.verifySecret, v.id, 10);
    expect(text).toContain(code);
    expect((await check(v.id, code)).body.status).toBe('approved');
    const messageId = (await call('GET', `/v1/verifications/${v.id}`)).body.messageId as string;
    await waitForMessage(stack.apiUrl, key, messageId, (m) => m.status === 'delivered');
    for (const workflowId of [verifyWorkflowId(v.id), messageId]) {
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      const payloads: Payload[] = [];
      const collect = (value: unknown): void => {
        if (value instanceof Uint8Array || value === null || typeof value !== 'object') return;
        const record = value as Record<string, unknown>;
        if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') {
          payloads.push(record as Payload);
          return;
        }
        for (const child of Object.values(record)) collect(child);
      };
      collect(history);
      expect(payloads.length).toBeGreaterThan(3);
      const decoded = await stack.codec.decode(payloads);
      const texts = decoded.map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8'));
      // The decrypted history holds the masked body, so the scan reads real content.
      if (workflowId === messageId) expect(texts.join('\n')).toContain('**********');
      expect(texts.join('\n')).not.toContain(code);
      expect(
        JSON.stringify(history, (_k, x) => (x instanceof Uint8Array ? Buffer.from(x).toString('latin1') : x)),
      ).not.toContain(code);
    }
  });

  it('a malformed code is 400 and no check; five wrong codes fail it', async () => {
    const v = await create({ codeLength: 4, locale: 'de' });
    const [text] = await textsTo(v.to);
    const code = deriveCode(stack.verifySecret, v.id, 4);
    expect(text).toBe(`Ihr Bestätigungscode lautet ${code}`);
    expect((await check(v.id, '123456')).status).toBe(400); // six digits, not four
    expect((await check(v.id, '12a4')).status).toBe(400);
    const wrong = code === '0000' ? '1111' : '0000';
    const answers: Array<{ status: string; checksLeft: number }> = [];
    for (let i = 0; i < MAX_CHECKS; i++) answers.push((await check(v.id, wrong)).body);
    expect(answers.map((a) => a.checksLeft)).toEqual([4, 3, 2, 1, 0]);
    expect(answers.map((a) => a.status)).toEqual(['pending', 'pending', 'pending', 'pending', 'failed']);
    // Failed for good: the right code no longer approves it.
    expect((await check(v.id, code)).body).toEqual({ status: 'failed', checksLeft: 0 });
  });

  it('resend: a second send within 30 s is 429 with Retry-After; cancel ends it', async () => {
    const v = await create();
    await textsTo(v.to);
    const early = await fetch(`${stack.apiUrl}/v1/verifications/${v.id}/resend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
    });
    expect(early.status).toBe(429);
    const retryAfter = Number(early.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe('resend_too_soon');
    expect(await textsTo(v.to)).toHaveLength(1);

    const canceled = await call('POST', `/v1/verifications/${v.id}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body.status).toBe('canceled');
    expect((await check(v.id, deriveCode(stack.verifySecret, v.id, 6))).body.status).toBe('canceled');
    expect((await call('POST', `/v1/verifications/${v.id}/cancel`)).status).toBe(409);
    expect((await call('POST', `/v1/verifications/${v.id}/resend`)).status).toBe(409);
  });

  it('an operator cancel or terminate of the run ends the verification canceled, row included', async () => {
    const canceled = await create();
    await textsTo(canceled.to);
    await stack.client.workflow.getHandle(verifyWorkflowId(canceled.id)).cancel();
    expect((await rowWhen(canceled.id, (r) => r.status !== 'pending')).status).toBe('canceled');
    const code = deriveCode(stack.verifySecret, canceled.id, 6);
    expect((await check(canceled.id, code)).body.status).toBe('canceled');

    const terminated = await create();
    await textsTo(terminated.to);
    await stack.client.workflow.getHandle(verifyWorkflowId(terminated.id)).terminate('operator test');
    // The run wrote nothing; the first call that finds it closed settles the row.
    const answer = await check(terminated.id, deriveCode(stack.verifySecret, terminated.id, 6));
    expect(answer).toEqual({ status: 200, body: { status: 'canceled', checksLeft: MAX_CHECKS } });
    expect((await rowWhen(terminated.id, (r) => r.status !== 'pending')).status).toBe('canceled');
    expect((await call('POST', `/v1/verifications/${terminated.id}/resend`)).status).toBe(409);
  });

  it('20 concurrent right checks all answer approved, and one approval is recorded', async () => {
    const v = await create();
    await textsTo(v.to);
    const code = deriveCode(stack.verifySecret, v.id, 6);
    const answers = await Promise.all(Array.from({ length: 20 }, () => check(v.id, code)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.map((a) => a.body.status)).toEqual(Array(20).fill('approved'));
    // One check was spent deciding; the others found it decided.
    expect(new Set(answers.map((a) => a.body.checksLeft))).toEqual(new Set([MAX_CHECKS - 1]));
    // The decision is written in the task after the Update answered: wait for it, as above.
    const row = await rowWhen(v.id, (r) => r.status !== 'pending');
    expect(row).toMatchObject({ status: 'approved', checks_left: MAX_CHECKS - 1 });
  });

  it('lists and filters, and refuses bad input without storing anything', async () => {
    const before = await stack.db
      .selectFrom('verifications')
      .select(({ fn }) => fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect((await call('POST', '/v1/verifications', { to: '+1415' })).status).toBe(400);
    expect((await call('POST', '/v1/verifications', { to: freshNumber(), codeLength: 3 })).status).toBe(400);
    expect(
      (await call('POST', '/v1/verifications', { to: freshNumber(), template: 'no code here' })).status,
    ).toBe(400);
    const after = await stack.db
      .selectFrom('verifications')
      .select(({ fn }) => fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
    const approved = await call('GET', '/v1/verifications?status=approved');
    expect(approved.status).toBe(200);
    expect(approved.body.data.length).toBeGreaterThanOrEqual(2);
    expect(approved.body.data.every((v: { status: string }) => v.status === 'approved')).toBe(true);
    expect((await call('GET', '/v1/verifications/ver_unknown')).status).toBe(404);
  });

  it('resends the same code once the cool-down has passed, as a second message', async () => {
    const [first] = await textsTo(resent.to);
    const shown = (await call('GET', `/v1/verifications/${resent.id}`)).body;
    const due = Date.parse(shown.createdAt) + 31_000;
    while (Date.now() < due) await new Promise((r) => setTimeout(r, 500));
    // One wrong check first: the resend's answer counts it (it lives in the workflow, not the row).
    const code = deriveCode(stack.verifySecret, resent.id, 6);
    expect((await check(resent.id, code === '000000' ? '000001' : '000000')).body.checksLeft).toBe(
      MAX_CHECKS - 1,
    );
    const again = await call('POST', `/v1/verifications/${resent.id}/resend`);
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body).toMatchObject({ status: 'pending', sendsLeft: 3, checksLeft: MAX_CHECKS - 1 });
    expect(again.body.messageId).not.toBe(shown.messageId);
    const texts = await textsTo(resent.to, 2);
    expect(texts[1]).toBe(first); // the same code: it is derived, not drawn again
    expect(texts[1]).toContain(deriveCode(stack.verifySecret, resent.id, 6));
    // Too soon again: the cool-down restarts with each send.
    expect((await call('POST', `/v1/verifications/${resent.id}/resend`)).status).toBe(429);
  }, 60_000);

  it('expires at the end of its ttl; a check then answers expired and counts nothing', async () => {
    const shown = (await call('GET', `/v1/verifications/${expiring.id}`)).body;
    const due = Date.parse(shown.expiresAt) + 3_000;
    while (Date.now() < due) await new Promise((r) => setTimeout(r, 500));
    const after = (await call('GET', `/v1/verifications/${expiring.id}`)).body;
    expect(after).toMatchObject({ status: 'expired', checksLeft: MAX_CHECKS });
    expect(after.decidedAt).not.toBeNull();
    const late = await check(expiring.id, deriveCode(stack.verifySecret, expiring.id, 6));
    expect(late).toEqual({ status: 200, body: { status: 'expired', checksLeft: MAX_CHECKS } });
  }, 90_000);
});
