/**
 * Senders (issue 13, DESIGN §11): an account sends `from` the default sender or one an admin
 * assigned to it; anything else is 422 `sender_not_allowed` and stores nothing. A sender belongs to
 * one account at a time.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  ADMIN_KEY,
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

it('sends only from the default sender or an assigned one; an admin assigns and releases', async () => {
  const admin = apiClient(stack.apiUrl, ADMIN_KEY);
  const account = await createFundedAccount(stack.apiUrl, '1.00');
  const other = await createFundedAccount(stack.apiUrl, '1.00');
  const call = apiClient(stack.apiUrl, account.apiKey);
  const send = (from?: string) =>
    call('POST', '/v1/messages', { to: '+14155552671', body: 'hi', ...(from ? { from } : {}) });

  const refused = await send('Acme');
  expect(refused.status).toBe(422);
  expect(refused.body.error.code).toBe('sender_not_allowed');
  expect(
    await stack.db.selectFrom('messages').select('id').where('account_id', '=', account.id).execute(),
  ).toHaveLength(0);
  expect((await send()).status).toBe(202); // the default sender needs no assignment

  const assigned = await admin('POST', '/v1/numbers', { sender: 'Acme', accountId: account.id });
  expect(assigned.status, JSON.stringify(assigned.body)).toBe(201);
  expect(assigned.body).toMatchObject({ sender: 'Acme', accountId: account.id, kind: 'alphanumeric' });
  expect((await admin('POST', '/v1/numbers', { sender: 'Acme', accountId: account.id })).status).toBe(200);
  const taken = await admin('POST', '/v1/numbers', { sender: 'Acme', accountId: other.id });
  expect(taken.status).toBe(409);
  expect(taken.body.error.code).toBe('number_taken');
  const number = await admin('POST', '/v1/numbers', { sender: '+14155550100', accountId: account.id });
  expect(number.body.kind).toBe('number');

  const ok = await send('Acme');
  expect(ok.status).toBe(202);
  expect((await waitForMessage(stack.apiUrl, account.apiKey, ok.body.id, terminal)).from).toBe('Acme');
  expect(
    (
      await apiClient(stack.apiUrl, other.apiKey)('POST', '/v1/messages', {
        to: '+14155552671',
        body: 'hi',
        from: 'Acme',
      })
    ).status,
  ).toBe(422);

  const listed = await admin('GET', `/v1/numbers?accountId=${account.id}`);
  expect(listed.body.data.map((n: { sender: string }) => n.sender)).toEqual(['+14155550100', 'Acme']);
  expect((await admin('DELETE', '/v1/numbers/Acme')).status).toBe(204);
  expect((await admin('DELETE', '/v1/numbers/Acme')).status).toBe(404);
  expect((await send('Acme')).status).toBe(422);
  expect(
    (await admin('POST', '/v1/numbers', { sender: 'Acme', accountId: 'acc_0000000000000000000000000a' }))
      .status,
  ).toBe(404);
});
