/**
 * The chaos run's judge (bench/chaos.ts `judgeChaos`) on made-up observations: a clean run counts
 * no violation, and each kind of fault is counted, so the chaos test can fail.
 */
import { describe, expect, it } from 'vitest';
import { type ChaosObservations, judgeChaos, NO_VIOLATIONS } from '../../bench/chaos.ts';

const clean: ChaosObservations = {
  expectedKeys: ['k1', 'k2'],
  rows: [
    { id: 'msg_1', status: 'delivered', idempotencyKey: 'k1', priceMicros: 7_900n },
    { id: 'msg_2', status: 'failed', idempotencyKey: 'k2', priceMicros: 0n },
  ],
  captures: [{ messageId: 'msg_1', count: 1, totalMicros: 7_900n }],
  accountsSettled: [true],
  accepted: [
    { carrier: 'twilio-sim', to: '+14155550001', clientRef: 'msg_1' },
    // A resubmission to the same carrier under the same reference is fine.
    { carrier: 'twilio-sim', to: '+14155550001', clientRef: 'msg_1' },
  ],
  responses5xx: [{ status: 503, retryAfter: '1' }],
  idsByKey: new Map([
    ['k1', new Set(['msg_1'])],
    ['k2', new Set(['msg_2'])],
  ]),
  gaveUp: 0,
  apiExitMs: [120],
};

const zero = NO_VIOLATIONS;

describe('judgeChaos', () => {
  it('finds nothing wrong with a clean run', () => {
    expect(judgeChaos(clean)).toEqual(zero);
  });

  it.each<[string, Partial<ChaosObservations>, Partial<typeof zero>]>([
    ['a key that never got a row', { expectedKeys: ['k1', 'k2', 'k3'] }, { lost: 1 }],
    [
      'a message left open',
      {
        rows: [
          clean.rows[0] as ChaosObservations['rows'][number],
          { id: 'msg_2', status: 'sent', idempotencyKey: 'k2', priceMicros: 0n },
        ],
      },
      { lost: 1 },
    ],
    ['a send given up', { gaveUp: 1 }, { lost: 1 }],
    [
      'a price that is not what the ledger captured',
      { captures: [{ messageId: 'msg_1', count: 1, totalMicros: 15_800n }] },
      { doubleCharged: 1 },
    ],
    [
      'two captures on a leg',
      { captures: [{ messageId: 'msg_1', count: 2, totalMicros: 7_900n }] },
      { doubleCharged: 1 },
    ],
    [
      'two carriers took one destination',
      {
        accepted: [
          { carrier: 'twilio-sim', to: '+14155550001', clientRef: 'msg_1' },
          { carrier: 'smpp-sim', to: '14155550001' },
        ],
      },
      { blindDuplicates: 1 },
    ],
    [
      'one carrier took it twice under two references',
      {
        accepted: [
          { carrier: 'vonage-sim', to: '447400100001', clientRef: 'msg_1' },
          { carrier: 'vonage-sim', to: '447400100001', clientRef: 'msg_9' },
        ],
      },
      { resubmissionsWithoutSameReference: 1 },
    ],
    ['an account with a reservation left', { accountsSettled: [true, false] }, { booksOff: 1 }],
    ['a 500', { responses5xx: [{ status: 500, retryAfter: null }] }, { bad5xx: 1 }],
    ['a 503 without Retry-After', { responses5xx: [{ status: 503, retryAfter: null }] }, { bad5xx: 1 }],
    [
      'one key, two ids',
      { idsByKey: new Map([['k1', new Set(['msg_1', 'msg_3'])]]) },
      { idempotencyBroken: 1 },
    ],
    ['an API that took 6 s to exit', { apiExitMs: [6_000] }, { slowApiExits: 1 }],
  ])('counts %s', (_name, fault, counted) => {
    expect(judgeChaos({ ...clean, ...fault })).toEqual({ ...zero, ...counted });
  });
});
