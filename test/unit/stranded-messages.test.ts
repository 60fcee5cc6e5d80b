import { describe, expect, it, vi } from 'vitest';
import { loadEnv } from '../../config/env.ts';
import type { Message } from '../../db/schema.ts';
import {
  messageWorkflowOptions,
  type StartOutcome,
  workflowDetails,
  workflowSummary,
} from '../../services/message-workflow.ts';
import { startInTurn } from '../../services/stranded-messages.ts';
import {
  HeraldAccount,
  HeraldCountry,
  HeraldPriority,
  HeraldStatus,
  MAIN_TASK_QUEUE,
} from '../../workflows/definitions.ts';

const items = (...ids: string[]) => ids.map((id) => ({ id }));

/** A start that answers per id: an outcome, or `fail` to throw. */
function fakeStart(plan: Record<string, StartOutcome | 'fail'>) {
  return vi.fn(async ({ id }: { id: string }): Promise<StartOutcome> => {
    const step = plan[id];
    if (step === undefined || step === 'fail') throw new Error(`unavailable: ${id}`);
    return step;
  });
}

describe('startInTurn', () => {
  it('sorts every item into started, already started and failed', async () => {
    const onFailure = vi.fn();
    const result = await startInTurn(
      items('a', 'b', 'c', 'd'),
      fakeStart({ a: 'started', b: 'already_started', c: 'fail', d: 'started' }),
      { maxConsecutiveFailures: 3, onFailure },
    );
    expect(result).toEqual({ started: ['a', 'd'], alreadyStarted: ['b'], failed: ['c'], skipped: [] });
    expect(onFailure).toHaveBeenCalledOnce();
    expect(onFailure.mock.calls[0]?.[0]).toEqual({ id: 'c' });
  });

  it('gives up after maxConsecutiveFailures failures in a row, listing the rest as skipped', async () => {
    const start = fakeStart({});
    const result = await startInTurn(items('a', 'b', 'c', 'd', 'e'), start, { maxConsecutiveFailures: 3 });
    expect(result).toEqual({ started: [], alreadyStarted: [], failed: ['a', 'b', 'c'], skipped: ['d', 'e'] });
    expect(start).toHaveBeenCalledTimes(3);
  });

  it('a success resets the count, so isolated bad rows never block the ones behind them', async () => {
    const result = await startInTurn(
      items('a', 'b', 'c', 'd', 'e'),
      fakeStart({ b: 'started', d: 'started', e: 'started' }),
      { maxConsecutiveFailures: 2 },
    );
    expect(result).toEqual({ started: ['b', 'd', 'e'], alreadyStarted: [], failed: ['a', 'c'], skipped: [] });
  });

  it('starts one at a time, in order', async () => {
    const order: string[] = [];
    let inFlight = 0;
    await startInTurn(
      items('a', 'b', 'c'),
      async ({ id }) => {
        inFlight++;
        expect(inFlight).toBe(1);
        await new Promise((r) => setTimeout(r, 1));
        order.push(id);
        inFlight--;
        return 'started';
      },
      { maxConsecutiveFailures: 1 },
    );
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('nothing to do → nothing done', async () => {
    expect(await startInTurn([], fakeStart({}), { maxConsecutiveFailures: 3 })).toEqual({
      started: [],
      alreadyStarted: [],
      failed: [],
      skipped: [],
    });
  });
});

const message: Message = {
  id: 'msg_0123456789abcdefghjkmnpqrs',
  account_id: 'acc_0123456789abcdefghjkmnpqrs',
  idempotency_key: null,
  request_hash: 'h',
  to_number: '+14155552671',
  from_sender: 'Herald',
  body: 'Your code is 987654',
  country: 'US',
  encoding: 'GSM-7',
  segments: 2,
  quote_micros: 17_000n,
  price_micros: null,
  status: 'accepted',
  carrier_id: null,
  carrier_message_id: null,
  error_code: null,
  error_message: null,
  carrier_error_code: null,
  validity_seconds: 600,
  priority: 'normal',
  verification_id: null,
  api_format: 'herald',
  callback_url: null,
  created_at: new Date('2026-11-27T00:00:00Z'),
  updated_at: new Date('2026-11-27T00:00:00Z'),
};

describe('messageWorkflowOptions', () => {
  it('addresses the run by message id and never starts a second one', () => {
    const opts = messageWorkflowOptions(message);
    expect(opts).toMatchObject({
      taskQueue: MAIN_TASK_QUEUE,
      workflowId: message.id,
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      args: [
        {
          messageId: message.id,
          accountId: message.account_id,
          to: message.to_number,
          from: 'Herald',
          body: message.body,
          country: 'US',
          encoding: 'GSM-7',
          segments: 2,
          validitySeconds: 600,
          priority: 'normal',
        },
      ],
      priority: { priorityKey: 3, fairnessKey: message.account_id },
    });
    expect(opts.typedSearchAttributes).toEqual([
      { key: HeraldStatus, value: 'accepted' },
      { key: HeraldAccount, value: message.account_id },
      { key: HeraldCountry, value: 'US' },
      { key: HeraldPriority, value: 'normal' },
    ]);
  });

  it('shows neither the number nor the body outside the (encrypted) input', () => {
    const opts = messageWorkflowOptions(message);
    const visible = JSON.stringify([opts.staticSummary, opts.staticDetails, opts.typedSearchAttributes]);
    expect(visible).not.toContain('4155552671');
    expect(visible).not.toContain('987654');
    expect(opts.staticSummary).toBe(workflowSummary(message));
    expect(workflowSummary(message)).toBe(`US · ${message.account_id} · GSM-7 · 2 segments · normal`);
    expect(opts.staticDetails).toBe(workflowDetails(message));
  });
});

describe('stranded-message configuration', () => {
  it('defaults to a 30 s grace period and a pass every 15 s', () => {
    const env = loadEnv({});
    expect(env.STRANDED_MESSAGE_GRACE_MS).toBe(30_000);
    expect(env.STRANDED_MESSAGE_INTERVAL_MS).toBe(15_000);
  });

  it('reads both from the environment and refuses nonsense', () => {
    const env = loadEnv({ STRANDED_MESSAGE_GRACE_MS: '60000', STRANDED_MESSAGE_INTERVAL_MS: '5000' });
    expect(env.STRANDED_MESSAGE_GRACE_MS).toBe(60_000);
    expect(env.STRANDED_MESSAGE_INTERVAL_MS).toBe(5_000);
    expect(() => loadEnv({ STRANDED_MESSAGE_GRACE_MS: '10' })).toThrow(/STRANDED_MESSAGE_GRACE_MS/);
    expect(() => loadEnv({ STRANDED_MESSAGE_INTERVAL_MS: 'soon' })).toThrow(/STRANDED_MESSAGE_INTERVAL_MS/);
  });
});
