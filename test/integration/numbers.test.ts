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

it('a sender provisioned on one carrier sends through that carrier only', async () => {
  const admin = apiClient(stack.apiUrl, ADMIN_KEY);
  const account = await createFundedAccount(stack.apiUrl, '1.00');
  const call = apiClient(stack.apiUrl, account.apiKey);
  expect(
    (await admin('POST', '/v1/numbers', { sender: '+14155550120', accountId: account.id, carrierId: 'nope' }))
      .status,
  ).toBe(404);
  const pinned = await admin('POST', '/v1/numbers', {
    sender: '+14155550120',
    accountId: account.id,
    carrierId: 'vonage-sim',
  });
  expect(pinned.status).toBe(201);

  // Twilio is the cheaper route to the US, yet the number's carrier carries it.
  const sent = await call('POST', '/v1/messages', { to: '+14155552671', body: 'hi', from: '+14155550120' });
  expect(sent.status).toBe(202);
  const done = await waitForMessage(stack.apiUrl, account.apiKey, sent.body.id, terminal);
  expect(done).toMatchObject({ status: 'delivered', carrier: 'vonage-sim' });
  const fromDefault = await call('POST', '/v1/messages', { to: '+14155552671', body: 'hi' });
  expect((await waitForMessage(stack.apiUrl, account.apiKey, fromDefault.body.id, terminal)).carrier).toBe(
    'twilio-sim',
  );

  // Where its carrier does not go, the number cannot send (the default sender still can).
  await stack.db
    .updateTable('carrier_prices')
    .set({ enabled: false })
    .where('carrier_id', '=', 'vonage-sim')
    .where('country', '=', 'CA')
    .execute();
  await new Promise((r) => setTimeout(r, 1_100)); // the API's route cache lives a second
  const refused = await call('POST', '/v1/messages', {
    to: '+16135550123',
    body: 'hi',
    from: '+14155550120',
  });
  expect(refused.status).toBe(422);
  expect(refused.body.error).toMatchObject({ code: 'no_route' });
  expect(refused.body.error.message).toContain('vonage-sim');
  expect((await call('POST', '/v1/messages', { to: '+16135550123', body: 'hi' })).status).toBe(202);
});
