/** The simulators' shared machinery (dice, segment count, config patches). */
import { describe, expect, it } from 'vitest';
import {
  applySimConfigPatch,
  countSegments,
  defaultSimConfig,
  mulberry32,
  pickWeighted,
} from '../../simulators/sim-core.ts';
import { startTwilioSimulator } from '../../simulators/twilio-sim.ts';

describe('mulberry32 and pickWeighted', () => {
  it('repeats for a seed and differs across seeds', () => {
    const take = (seed: number) => Array.from({ length: 5 }, mulberry32(seed));
    expect(take(42)).toEqual(take(42));
    expect(take(42)).not.toEqual(take(43));
    for (const x of take(7)) expect(x >= 0 && x < 1).toBe(true);
  });

  it('follows the weights and never picks a zero weight', () => {
    const rng = mulberry32(1);
    const counts = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 4_000; i++) counts[pickWeighted(rng, { a: 1, b: 3, c: 0 })]++;
    expect(counts.c).toBe(0);
    expect(counts.b / counts.a).toBeGreaterThan(2.5);
    expect(counts.b / counts.a).toBeLessThan(3.5);
    expect(() => pickWeighted(rng, { a: 0 })).toThrow();
  });
});

describe('countSegments', () => {
  it('GSM-7 160/153, extension characters count twice, UCS-2 70/67', () => {
    expect(countSegments('a'.repeat(160))).toBe(1);
    expect(countSegments('a'.repeat(161))).toBe(2);
    expect(countSegments('€'.repeat(80))).toBe(1);
    expect(countSegments('€'.repeat(81))).toBe(2);
    expect(countSegments('й'.repeat(70))).toBe(1);
    expect(countSegments('й'.repeat(71))).toBe(2);
    expect(countSegments('a'.repeat(70), true)).toBe(1);
    expect(countSegments('a'.repeat(71), true)).toBe(2);
  });
});

describe('applySimConfigPatch', () => {
  const base = defaultSimConfig(7_900);

  it('a given mix is the whole mix', () => {
    const next = applySimConfigPatch(base, { mix: { serverError: 1 }, latencyMs: 5 });
    expect(next.mix).toMatchObject({ accept: 0, serverError: 1 });
    expect(next.latencyMs).toBe(5);
    expect(next.receipts).toEqual(base.receipts);
  });

  it('refuses unknown keys, negative values and all-zero mixes', () => {
    expect(() => applySimConfigPatch(base, { nope: 1 })).toThrow(/invalid simulator config/);
    expect(() => applySimConfigPatch(base, { latencyMs: -1 })).toThrow(/latencyMs/);
    expect(() => applySimConfigPatch(base, { mix: { accept: 0 } })).toThrow(/mix/);
    expect(() => applySimConfigPatch(base, { receipts: { delivered: 0 } })).toThrow(/receipts/);
  });
});

describe('control endpoints over HTTP', () => {
  it('reads and patches the config, reports and resets stats, and goes down for a while', async () => {
    const sim = await startTwilioSimulator({ credentials: { accountSid: 'AC1', authToken: 't' }, seed: 3 });
    try {
      const get = async (path: string) => (await fetch(`${sim.url}${path}`)).json();
      const post = (path: string, body?: unknown) =>
        fetch(`${sim.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        });
      expect(await get('/_sim/config')).toMatchObject({
        priceMicros: 7_900,
        down: false,
        receiptDelayMs: 50,
      });
      const patched = await post('/_sim/config', { latencyMs: 5, mix: { accept: 1, throttle: 1 } });
      expect(patched.status).toBe(200);
      expect(sim.config()).toMatchObject({ latencyMs: 5, mix: { accept: 1, throttle: 1, serverError: 0 } });
      const bad = await post('/_sim/config', { latencyMs: 'slow' });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/latencyMs/);

      const submit = await fetch(`${sim.url}/2010-04-01/Accounts/AC1/Messages.json`, {
        method: 'POST',
        body: '',
      });
      expect(submit.status).toBe(401);
      expect(await submit.json()).toMatchObject({ code: 20003, status: 401 });
      expect(await get('/_sim/stats')).toMatchObject({ submissions: 1, rejected: 1 });
      await post('/_sim/reset');
      expect(sim.stats()).toMatchObject({ submissions: 0, rejected: 0 });

      expect((await post('/_sim/config', { down: true, downForMs: 150 })).status).toBe(200);
      await new Promise((r) => setTimeout(r, 30));
      await expect(fetch(`${sim.url}/_sim/stats`)).rejects.toThrow();
      await new Promise((r) => setTimeout(r, 250));
      expect((await fetch(`${sim.url}/_sim/stats`)).status).toBe(200);
      expect(sim.config().down).toBe(false);
    } finally {
      await sim.close();
    }
  });
});
