import { describe, expect, it } from 'vitest';
import type { Message, MessageEvent } from '../../db/schema.ts';
import { callbackEvents } from '../../services/status-callbacks.ts';

const base: Message = {
  id: 'msg_0123456789abcdefghjkmnpqrs',
  account_id: 'acc_0123456789abcdefghjkmnpqrs',
  idempotency_key: null,
  request_hash: 'ff',
  to_number: '+14155550100',
  from_sender: 'Herald',
  body: 'Your code is 123456',
  country: 'US',
  encoding: 'GSM-7',
  segments: 2,
  quote_micros: 18_000n,
  price_micros: 15_800n,
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
  created_at: new Date('2026-01-02T03:04:05.000Z'),
  updated_at: new Date('2026-01-02T03:04:09.000Z'),
};

const history = (...statuses: MessageEvent['status'][]): MessageEvent[] =>
  statuses.map((status, i) => ({
    id: BigInt(100 + i),
    message_id: base.id,
    status,
    detail: null,
    at: new Date(Date.UTC(2026, 0, 2, 3, 4, 5 + i)),
  }));

describe('callbackEvents', () => {
  it('is one event per status after accepted, numbered by position, chained by previousStatus', () => {
    const events = callbackEvents(base, history('accepted', 'queued', 'sending', 'sent', 'delivered'));
    expect(events.map((e) => [e.sequence, e.eventId, e.previousStatus, e.status])).toEqual([
      [2, `${base.id}.2`, 'accepted', 'queued'],
      [3, `${base.id}.3`, 'queued', 'sending'],
      [4, `${base.id}.4`, 'sending', 'sent'],
      [5, `${base.id}.5`, 'sent', 'delivered'],
    ]);
    expect(events[0]).toMatchObject({
      carrier: null,
      price: null,
      error: null,
      at: '2026-01-02T03:04:06.000Z',
    });
    expect(events[1]).toMatchObject({ carrier: 'twilio-sim', carrierMessageId: 'SM123', price: null });
    expect(events[3]).toMatchObject({ carrier: 'twilio-sim', price: '0.015800', segments: 2, error: null });
  });

  it('puts the error on the final status it belongs to, and never the number or the text', () => {
    const failed: Message = {
      ...base,
      status: 'undelivered',
      error_code: 'undelivered',
      error_message: 'carrier reported undelivered',
      carrier_error_code: '30003',
    };
    const events = callbackEvents(failed, history('accepted', 'queued', 'sending', 'sent', 'undelivered'));
    expect(events.at(-1)?.error).toEqual({
      code: 'undelivered',
      message: 'carrier reported undelivered',
      carrierCode: '30003',
    });
    expect(events.slice(0, -1).every((e) => e.error === null)).toBe(true);
    const json = JSON.stringify(events);
    expect(json).not.toContain('14155550100');
    expect(json).not.toContain('Your code');
  });

  it('is empty while only accepted happened', () => {
    expect(callbackEvents(base, history('accepted'))).toEqual([]);
  });
});
