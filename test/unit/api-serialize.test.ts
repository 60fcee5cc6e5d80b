import { describe, expect, it } from 'vitest';
import { toBalanceJson, toMessageJson } from '../../api/serialize.ts';
import type { Message, MessageAttempt, MessageEvent } from '../../db/schema.ts';

const created = new Date('2026-01-02T03:04:05.678Z');
const updated = new Date('2026-01-02T03:04:09.000Z');

const message: Message = {
  id: 'msg_0123456789abcdefghjkmnpqrs',
  account_id: 'acc_0123456789abcdefghjkmnpqrs',
  idempotency_key: 'k1',
  request_hash: 'ff',
  to_number: '+14155550100',
  from_sender: 'Herald',
  body: 'Your code is 123456',
  country: 'US',
  encoding: 'GSM-7',
  segments: 1,
  quote_micros: 9_000n,
  price_micros: 7_900n,
  status: 'delivered',
  carrier_id: 'twilio-sim',
  carrier_message_id: 'SM123',
  error_code: null,
  error_message: null,
  carrier_error_code: null,
  validity_seconds: 14_400,
  priority: 'normal',
  verification_id: null,
  api_format: 'herald',
  callback_url: 'https://example.com/cb',
  created_at: created,
  updated_at: updated,
};

const attempt: MessageAttempt = {
  id: 1n,
  message_id: message.id,
  carrier_id: 'twilio-sim',
  attempt: 1,
  outcome: 'accepted',
  error_code: null,
  carrier_error_code: null,
  error_message: null,
  carrier_message_id: 'SM123',
  carrier_cost_micros: 7_900n,
  started_at: new Date('2026-01-02T03:04:06.000Z'),
  finished_at: new Date('2026-01-02T03:04:06.250Z'),
};

const event = (id: bigint, status: MessageEvent['status'], at: string): MessageEvent => ({
  id,
  message_id: message.id,
  status,
  detail: null,
  at: new Date(at),
});

describe('toMessageJson', () => {
  it('has exactly the documented shape (DESIGN §7)', () => {
    const events = [
      event(1n, 'queued', '2026-01-02T03:04:05.700Z'),
      event(2n, 'sent', '2026-01-02T03:04:06.300Z'),
    ];
    expect(toMessageJson(message, [attempt], events)).toStrictEqual({
      id: message.id,
      status: 'delivered',
      to: '+14155550100',
      from: 'Herald',
      body: 'Your code is 123456',
      country: 'US',
      encoding: 'GSM-7',
      segments: 1,
      priority: 'normal',
      quote: '0.009000',
      price: '0.007900',
      carrierCost: '0.007900',
      carrier: 'twilio-sim',
      carrierMessageId: 'SM123',
      error: null,
      attempts: [
        {
          carrier: 'twilio-sim',
          outcome: 'accepted',
          errorCode: null,
          carrierCost: '0.007900',
          at: '2026-01-02T03:04:06.250Z',
        },
      ],
      events: [
        { status: 'queued', at: '2026-01-02T03:04:05.700Z' },
        { status: 'sent', at: '2026-01-02T03:04:06.300Z' },
      ],
      createdAt: '2026-01-02T03:04:05.678Z',
      updatedAt: '2026-01-02T03:04:09.000Z',
    });
  });

  it('leaves attempts and events out when not given, and shows no internal fields', () => {
    const json = toMessageJson(message);
    expect(json).not.toHaveProperty('attempts');
    expect(json).not.toHaveProperty('events');
    for (const key of ['account_id', 'accountId', 'request_hash', 'idempotency_key', 'callback_url']) {
      expect(json).not.toHaveProperty(key);
    }
  });

  it('shows a missing price as null and an accepted message with no carrier', () => {
    const json = toMessageJson({
      ...message,
      status: 'accepted',
      price_micros: null,
      carrier_id: null,
      carrier_message_id: null,
    });
    expect(json).toMatchObject({
      status: 'accepted',
      price: null,
      carrier: null,
      carrierMessageId: null,
      quote: '0.009000',
    });
  });

  it('shows the error with the carrier code when there is one', () => {
    const failed = {
      ...message,
      status: 'undelivered' as const,
      error_code: 'undelivered',
      error_message: 'handset unreachable',
      carrier_error_code: '30003',
    };
    expect(toMessageJson(failed).error).toStrictEqual({
      code: 'undelivered',
      message: 'handset unreachable',
      carrierCode: '30003',
    });
    const noCarrierCode = { ...failed, carrier_error_code: null, error_message: null };
    expect(toMessageJson(noCarrierCode).error).toStrictEqual({ code: 'undelivered', message: 'undelivered' });
  });

  it('times an attempt still in flight by its start', () => {
    const inFlight = { ...attempt, outcome: null, finished_at: null, carrier_cost_micros: null };
    const view = toMessageJson(message, [inFlight], []);
    expect(view.attempts).toStrictEqual([
      {
        carrier: 'twilio-sim',
        outcome: null,
        errorCode: null,
        carrierCost: null,
        at: '2026-01-02T03:04:06.000Z',
      },
    ]);
    // Nothing accepted reported a price: no carrier cost to show.
    expect(view.carrierCost).toBeNull();
  });

  it('formats large amounts exactly, without floats', () => {
    const big = { ...message, quote_micros: 9_007_199_254_740_993n, price_micros: 0n };
    expect(toMessageJson(big)).toMatchObject({ quote: '9007199254.740993', price: '0.000000' });
  });
});

describe('toBalanceJson', () => {
  it('formats both amounts with six places', () => {
    expect(toBalanceJson({ availableMicros: 9_992_100n, reservedMicros: 0n }, 'USD')).toStrictEqual({
      available: '9.992100',
      reserved: '0.000000',
      currency: 'USD',
    });
  });
});
