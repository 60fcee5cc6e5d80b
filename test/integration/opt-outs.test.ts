/**
 * Opt-outs (issue 13, DESIGN §11): a number the account opted out gets no message and no code —
 * 422 `recipient_opted_out`, nothing stored, nothing reserved — until the opt-out is removed; the
 * list pages by number; another account's list is its own.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { getBalance } from '../../db/ledger.ts';
import {
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
  waitForMessage,
} from '../support/stack.ts';

let stack: Stack;
let account: { id: string; apiKey: string };
let call: ReturnType<typeof apiClient>;

beforeAll(async () => {
  stack = await startStack();
  account = await createFundedAccount(stack.apiUrl, '1.00');
  call = apiClient(stack.apiUrl, account.apiKey);
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

it('refuses sends and codes to an opted-out number, charging nothing, until it is removed', async () => {
  const number = '+1 (415) 555-2671';
  const added = await call('POST', '/v1/opt-outs', { number });
  expect(added.status).toBe(201);
  expect(added.body).toMatchObject({ number: '+14155552671', source: 'api' });
  expect((await call('POST', '/v1/opt-outs', { number: '+14155552671' })).status).toBe(200);

  const before = await getBalance(stack.db, account.id);
  const messagesBefore = await stack.db
    .selectFrom('messages')
    .select('id')
    .where('account_id', '=', account.id)
    .execute();
  const send = await call('POST', '/v1/messages', { to: '+14155552671', body: 'hello' });
  expect(send.status).toBe(422);
  expect(send.body.error.code).toBe('recipient_opted_out');
  const code = await call('POST', '/v1/verifications', { to: '+14155552671' });
  expect(code.status).toBe(422);
  expect(code.body.error.code).toBe('recipient_opted_out');
  expect(await getBalance(stack.db, account.id)).toEqual(before);
  expect(
    await stack.db.selectFrom('messages').select('id').where('account_id', '=', account.id).execute(),
  ).toEqual(messagesBefore);
  expect(stack.twilio.acceptedSubmissions().filter((s) => s.to === '+14155552671')).toHaveLength(0);

  // Another account is not affected by this one's list.
  const other = await createFundedAccount(stack.apiUrl, '1.00');
  expect(
    (await apiClient(stack.apiUrl, other.apiKey)('POST', '/v1/messages', { to: '+14155552671', body: 'hi' }))
      .status,
  ).toBe(202);

  expect((await call('DELETE', `/v1/opt-outs/${encodeURIComponent('+14155552671')}`)).status).toBe(204);
  expect((await call('DELETE', `/v1/opt-outs/${encodeURIComponent('+14155552671')}`)).status).toBe(404);
  const again = await call('POST', '/v1/messages', { to: '+14155552671', body: 'hello again' });
  expect(again.status).toBe(202);
  expect((await waitForMessage(stack.apiUrl, account.apiKey, again.body.id, terminal)).status).toBe(
    'delivered',
  );
});

it('lists opt-outs by number, in pages, and refuses a bad number or cursor', async () => {
  for (const n of ['+14155550103', '+14155550101', '+14155550102']) {
    expect((await call('POST', '/v1/opt-outs', { number: n })).status).toBe(201);
  }
  const first = await call('GET', '/v1/opt-outs?limit=2');
  expect(first.body.data.map((o: { number: string }) => o.number)).toEqual(['+14155550101', '+14155550102']);
  const second = await call('GET', `/v1/opt-outs?limit=2&cursor=${first.body.nextCursor}`);
  expect(second.body.data.map((o: { number: string }) => o.number)).toEqual(['+14155550103']);
  expect(second.body.nextCursor).toBeNull();
  expect((await call('GET', '/v1/opt-outs?cursor=nope')).status).toBe(400);
  expect((await call('POST', '/v1/opt-outs', { number: '+1415' })).status).toBe(400);
});
