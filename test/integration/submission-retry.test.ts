/**
 * A retried submit answers from its attempt row before anything may refuse it (issue 10, bug 3):
 * when the first try of an attempt was accepted by carrier A and A's circuit opened meanwhile,
 * the retry must report A's acceptance, not `failover` — which would have carrier B send the
 * message a second time. The activity runs against a real database, with a scripted carrier.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { ActivityDeps } from '../../activities/deps.ts';
import { createSubmissionActivities } from '../../activities/submission.ts';
import type { SubmitInput } from '../../activities/types.ts';
import type { CarrierAdapter, SubmitRequest, SubmitResult } from '../../adapters/types.ts';
import { createAccount } from '../../db/accounts.ts';
import { beginAttempt, getMessage, insertMessage, transitionMessage } from '../../db/messages.ts';
import type { Circuit } from '../../domain/circuit.ts';
import { createTestDatabase, messageRow, type TestDatabase } from '../support/db.ts';

let t: TestDatabase;
let accountId: string;
let circuit: Circuit | undefined;
let submitted: SubmitRequest[] = [];

const OPEN: Circuit = { state: 'open', consecutiveFailures: 5, openedAt: Date.now(), probeStartedAt: null };

const carrierA: CarrierAdapter = {
  kind: 'scripted',
  async submit(req): Promise<SubmitResult> {
    submitted.push(req);
    return { ok: true, carrierMessageId: `A-${submitted.length}` };
  },
  parseReceipts: () => [],
  verify: () => true,
};

function deps(): ActivityDeps {
  return {
    db: t.db,
    adapterFor: (id) => (id === 'carrier-a' ? carrierA : undefined),
    publicBaseUrl: 'http://127.0.0.1:1',
    routeStats: {
      submitOutcome: () => undefined,
      receiptOutcome: () => undefined,
      circuit: () => circuit,
    },
  };
}

beforeAll(async () => {
  t = await createTestDatabase();
  accountId = (await createAccount(t.db, { name: 'submission-retry' })).account.id;
});
afterAll(async () => {
  await t?.drop();
});
beforeEach(() => {
  circuit = undefined;
  submitted = [];
});

async function newMessage(): Promise<SubmitInput> {
  const { id } = (await insertMessage(t.db, messageRow(accountId, { status: 'queued' }))).message;
  return {
    messageId: id,
    carrierId: 'carrier-a',
    country: 'US',
    attempt: 1,
    to: '+14155550100',
    from: 'Herald',
    body: 'hello',
    encoding: 'GSM-7',
    segments: 1,
    validitySeconds: 3600,
    skipIfOpen: true,
  };
}

const submit = (input: SubmitInput) =>
  new MockActivityEnvironment().run(createSubmissionActivities(deps()).submitToCarrier, input);

it('a retry of an accepted attempt answers the acceptance although the circuit opened since', async () => {
  const input = await newMessage();
  const first = await submit(input);
  expect(first).toMatchObject({ ok: true, carrierMessageId: 'A-1' });
  circuit = OPEN;
  // The same attempt again (the activity's result was lost with its worker): no failover.
  const retry = await submit(input);
  expect(retry).toMatchObject({ ok: true, carrierMessageId: 'A-1' });
  expect(submitted).toHaveLength(1);
});

it('a retry of an attempt cut short is ambiguous, not a failover, when the circuit is open', async () => {
  const input = await newMessage();
  await beginAttempt(t.db, { messageId: input.messageId, carrierId: 'carrier-a', attempt: 1 });
  circuit = OPEN;
  const retry = await submit(input);
  expect(retry).toMatchObject({ ok: false, error: { class: 'ambiguous', code: 'submit_interrupted' } });
  expect(submitted).toHaveLength(0);
});

it('an attempt cut short before the row moved to sending leaves it sending, not stuck at queued', async () => {
  const input = await newMessage();
  // The worker died between writing the attempt row and moving the message on.
  await beginAttempt(t.db, { messageId: input.messageId, carrierId: 'carrier-a', attempt: 1 });
  const retry = await submit(input);
  expect(retry).toMatchObject({ ok: false, error: { class: 'ambiguous', code: 'submit_interrupted' } });
  expect(submitted).toHaveLength(0);
  // From `sending` the validity's end (or a receipt) can finish it; from `queued` it never could.
  expect((await getMessage(t.db, input.messageId))?.status).toBe('sending');
  expect((await transitionMessage(t.db, input.messageId, 'expired')).changed).toBe(true);
});

it('an attempt that never began is refused by an open circuit (failover), nothing sent', async () => {
  const input = await newMessage();
  circuit = OPEN;
  expect(await submit(input)).toMatchObject({
    ok: false,
    error: { class: 'failover', code: 'circuit_open' },
  });
  expect(submitted).toHaveLength(0);
});
