import { describe, expect, it } from 'vitest';
import { createRouteCandidatesCache } from '../../api/route-candidates-cache.ts';
import type { RouteCandidate } from '../../db/carriers.ts';

function candidate(carrierId: string, priceMicros: bigint): RouteCandidate {
  return {
    carrierId,
    kind: 'twilio',
    priceMicros,
    successEwma: 1,
    attempts: 0,
    consecutiveFailures: 0,
    updatedAt: null,
  };
}

function setup(ttlMs?: number) {
  let clock = 0;
  const reads: string[] = [];
  let price = 10n;
  let fail = false;
  const cache = createRouteCandidatesCache(
    async (country) => {
      reads.push(country);
      if (fail) throw new Error('db down');
      return [candidate('a', price)];
    },
    { now: () => clock, ...(ttlMs === undefined ? {} : { ttlMs }) },
  );
  return {
    cache,
    reads,
    tick: (ms: number) => {
      clock += ms;
    },
    setPrice: (p: bigint) => {
      price = p;
    },
    setFail: (f: boolean) => {
      fail = f;
    },
  };
}

describe('route candidates cache', () => {
  it('reads once per country within the TTL, concurrent misses included, and again after it', async () => {
    const s = setup(1_000);
    await Promise.all([s.cache.get('US'), s.cache.get('US'), s.cache.get('DE')]);
    expect(s.reads).toEqual(['US', 'DE']);
    s.tick(999);
    await s.cache.get('US');
    expect(s.reads).toEqual(['US', 'DE']);
    s.setPrice(20n);
    s.tick(1);
    expect((await s.cache.get('US'))[0]?.priceMicros).toBe(20n);
    expect(s.reads).toEqual(['US', 'DE', 'US']);
  });

  it('forgets everything on invalidate', async () => {
    const s = setup();
    await s.cache.get('US');
    s.setPrice(30n);
    s.cache.invalidate();
    expect((await s.cache.get('US'))[0]?.priceMicros).toBe(30n);
    expect(s.reads).toEqual(['US', 'US']);
  });

  it('keeps no failed read, and reads every time with a TTL of 0', async () => {
    const s = setup();
    s.setFail(true);
    await expect(s.cache.get('US')).rejects.toThrow('db down');
    s.setFail(false);
    await expect(s.cache.get('US')).resolves.toHaveLength(1);
    expect(s.reads).toEqual(['US', 'US']);

    const uncached = setup(0);
    await uncached.cache.get('US');
    await uncached.cache.get('US');
    expect(uncached.reads).toEqual(['US', 'US']);
  });
});
