/**
 * The Twilio-compatible API (issue 13, DESIGN §11) driven by Twilio's official Node SDK (`twilio`
 * on npm), pointed at Herald by the README's two-line change: create, fetch and list messages;
 * Twilio's error codes reach the SDK's RestException; status callbacks and forwarded inbound
 * messages are Twilio's form posts that the SDK's `validateRequest` accepts — and rejects once
 * tampered with.
 */
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getBalance } from '../../db/ledger.ts';
import { startReceiver, until } from '../support/http-receiver.ts';
import {
  ADMIN_KEY,
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  terminal,
} from '../support/stack.ts';

const OUR_NUMBER = '+14155550199';
const TO = '+14155552671';

const receiver = startReceiver<Record<string, string>>();
let receiverUrl: string;
let stack: Stack;
let account: { id: string; apiKey: string };
let call: ReturnType<typeof apiClient>;
let creds: { accountSid: string; authToken: string };

/** The two-line change of the README: Herald's pair, Herald's base URL. */
function heraldTwilioClient(accountSid: string, authToken: string) {
  const client = twilio(accountSid, authToken);
  client.api.baseUrl = stack.apiUrl;
  return client;
}

beforeAll(async () => {
  receiverUrl = await receiver.listen();
  stack = await startStack({ callbacks: { allowedHosts: ['127.0.0.1'], retryInitialMs: 1_000 } });
  account = await createFundedAccount(stack.apiUrl, '5.00');
  call = apiClient(stack.apiUrl, account.apiKey);
  const assigned = await apiClient(stack.apiUrl, ADMIN_KEY)('POST', '/v1/numbers', {
    sender: OUR_NUMBER,
    accountId: account.id,
  });
  expect(assigned.status).toBe(201);
  const first = await call('POST', '/v1/twilio-credentials');
  expect(first.status).toBe(201);
  expect(first.body.accountSid).toMatch(/^AC[0-9a-f]{32}$/);
  const rotated = await call('POST', '/v1/twilio-credentials');
  expect(rotated.status).toBe(200);
  expect(rotated.body.accountSid).toBe(first.body.accountSid);
  expect(rotated.body.authToken).not.toBe(first.body.authToken);
  creds = rotated.body;
  // The token it replaced no longer authenticates.
  await expect(
    heraldTwilioClient(first.body.accountSid, first.body.authToken).messages.list({ limit: 1 }),
  ).rejects.toMatchObject({ status: 401, code: 20003 });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
  await receiver.close();
});

describe('Twilio SDK against Herald', () => {
  it('creates, fetches and lists messages in Twilio’s shapes', async () => {
    const client = heraldTwilioClient(creds.accountSid, creds.authToken);
    const created = await client.messages.create({
      to: TO,
      from: OUR_NUMBER,
      body: 'Hello from the Twilio SDK',
      statusCallback: `${receiverUrl}/twilio-status`,
    });
    expect(created.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(created).toMatchObject({
      accountSid: creds.accountSid,
      to: TO,
      from: OUR_NUMBER,
      body: 'Hello from the Twilio SDK',
      status: 'queued',
      direction: 'outbound-api',
      numSegments: '1',
      apiVersion: '2010-04-01',
      errorCode: null,
    });
    expect(created.dateCreated).toBeInstanceOf(Date);

    const delivered = await until(
      'the message delivered',
      async () => {
        const m = await client.messages(created.sid).fetch();
        return m.status === 'delivered' ? m : undefined;
      },
      30_000,
    );
    expect(delivered).toMatchObject({ sid: created.sid, price: '-0.00790', priceUnit: 'USD' });
    // Herald's own API sees the same message.
    const own = await call('GET', '/v1/messages?limit=5');
    expect(own.body.data.some((m: { body: string }) => m.body === 'Hello from the Twilio SDK')).toBe(true);

    for (const n of [1, 2, 3]) {
      await client.messages.create({ to: '+14155552672', from: OUR_NUMBER, body: `page test ${n}` });
    }
    const page = await client.messages.page({ to: '+14155552672', pageSize: 2 });
    expect(page.instances.map((m) => m.body)).toEqual(['page test 3', 'page test 2']);
    expect(page.nextPageUrl).toBeTruthy();
    const all = await client.messages.list({ to: '+14155552672', pageSize: 2 });
    expect(all.map((m) => m.body)).toEqual(['page test 3', 'page test 2', 'page test 1']);
    await expect(client.messages('SM00000000000000000000000000000000').fetch()).rejects.toMatchObject({
      status: 404,
      code: 20404,
    });
  });

  it('answers Twilio’s error codes, charging nothing', async () => {
    const client = heraldTwilioClient(creds.accountSid, creds.authToken);
    // The last test's messages settle first, so the balance moves only if a refusal charged.
    await until(
      'earlier messages settled',
      async () => {
        const page = await call('GET', '/v1/messages?limit=100');
        return page.body.data.every((m: { status: string }) => terminal(m)) ? true : undefined;
      },
      30_000,
    );
    const before = await getBalance(stack.db, account.id);
    await expect(client.messages.create({ to: '+1415', from: OUR_NUMBER, body: 'x' })).rejects.toMatchObject({
      status: 400,
      code: 21211,
    });
    await expect(
      client.messages.create({ to: TO, from: OUR_NUMBER, body: 'x'.repeat(1601) }),
    ).rejects.toMatchObject({ status: 400, code: 21617 });
    expect((await call('POST', '/v1/opt-outs', { number: '+14155552673' })).status).toBe(201);
    await expect(
      client.messages.create({ to: '+14155552673', from: OUR_NUMBER, body: 'promo' }),
    ).rejects.toMatchObject({ status: 400, code: 21610 });
    await expect(client.messages.create({ to: TO, from: '+14155550000', body: 'x' })).rejects.toMatchObject({
      status: 400,
      code: 21606,
    });
    expect(await getBalance(stack.db, account.id)).toEqual(before);
    await expect(heraldTwilioClient(creds.accountSid, 'f'.repeat(32)).messages.list()).rejects.toMatchObject({
      status: 401,
      code: 20003,
    });
  });

  it('signs status callbacks so validateRequest accepts them, and rejects a tampered one', async () => {
    const url = `${receiverUrl}/twilio-status`;
    const delivered = await until('the delivered status callback', () =>
      receiver.received.find((r) => r.path === '/twilio-status' && r.body.MessageStatus === 'delivered'),
    );
    expect(delivered.body).toMatchObject({
      AccountSid: creds.accountSid,
      To: TO,
      From: OUR_NUMBER,
      ApiVersion: '2010-04-01',
      SmsStatus: 'delivered',
    });
    expect(delivered.body.MessageSid).toMatch(/^SM[0-9a-f]{32}$/);
    const signature = String(delivered.headers['x-twilio-signature']);
    expect(twilio.validateRequest(creds.authToken, signature, url, delivered.body)).toBe(true);
    expect(
      twilio.validateRequest(creds.authToken, signature, url, { ...delivered.body, MessageStatus: 'failed' }),
    ).toBe(false);
    expect(twilio.validateRequest('0'.repeat(32), signature, url, delivered.body)).toBe(false);
  });

  it('forwards inbound messages in Twilio’s format to accounts that ask for it', async () => {
    const settings = await call('PUT', '/v1/settings', {
      inboundUrl: `${receiverUrl}/twilio-inbound`,
      inboundFormat: 'twilio',
    });
    expect(settings.status).toBe(200);
    const res = await fetch(`${stack.twilio.url}/_sim/inbound`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        from: '+14155554001',
        to: OUR_NUMBER,
        text: 'Is my order ready?',
        url: `${stack.apiUrl}/webhooks/carriers/twilio-sim/inbound`,
      }),
    });
    expect(((await res.json()) as { delivered: boolean }).delivered).toBe(true);
    const post = await until('the forwarded inbound message', () =>
      receiver.received.find((r) => r.path === '/twilio-inbound'),
    );
    expect(post.body).toMatchObject({
      From: '+14155554001',
      To: OUR_NUMBER,
      Body: 'Is my order ready?',
      AccountSid: creds.accountSid,
      SmsStatus: 'received',
    });
    const signature = String(post.headers['x-twilio-signature']);
    const url = `${receiverUrl}/twilio-inbound`;
    expect(twilio.validateRequest(creds.authToken, signature, url, post.body)).toBe(true);
    expect(twilio.validateRequest(creds.authToken, signature, url, { ...post.body, Body: 'STOP' })).toBe(
      false,
    );
  });
});
