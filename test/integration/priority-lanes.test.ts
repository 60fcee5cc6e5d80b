/**
 * Priority lanes (issue 9, DESIGN §9) on the real stack, on PostgreSQL and on embedded PGlite:
 * one account floods 1,500 `low` messages, then sends a `high` one every 2 s from the same
 * account. Each `high` message must be sent before at least 90 % of the `low` messages still
 * waiting when it was accepted. The same run with every message `normal` must miss that mark
 * (first come, first served), which shows the assertion can fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LaneScenarioResult, runLaneScenario, type UrgentPlacement } from '../support/lane-scenario.ts';
import { type Stack, startStack } from '../support/stack.ts';

const BULK = 1_500;
/**
 * An urgent message is judged where a backlog stood in front of it: the 10–20 bulk messages a
 * worker already holds (its slots, a booked pacer slot, the request in flight) cannot be overtaken,
 * and in a line of 60 they alone are a quarter of it.
 */
const MIN_WAITING = 200;
const REQUIRED_SHARE = 0.9;

/** The urgent messages that had a line in front of them. */
function judged(result: LaneScenarioResult): UrgentPlacement[] {
  return result.urgent.filter((u) => u.waiting >= MIN_WAITING);
}

function report(label: string, result: LaneScenarioResult): void {
  const rows = result.urgent.map(
    (u) => `${u.waiting}→${(u.overtaken * 100).toFixed(0)}%/${(u.acceptedToSentMs / 1000).toFixed(2)}s`,
  );
  console.log(
    `${label}: bulk sent ${result.bulkSent}; urgent (waiting→overtaken/accepted→sent): ${rows.join(' ')}`,
  );
}

for (const db of ['postgres', 'pglite'] as const) {
  describe(`priority lanes on ${db}`, () => {
    let stack: Stack;
    beforeAll(async () => {
      stack = await startStack({ db, twilio: { receiptDelayMs: 10 }, vonage: { receiptDelayMs: 10 } });
    }, 120_000);
    afterAll(async () => {
      await stack?.stop();
    });

    it('sends each high message before 90 % of the low backlog waiting when it was accepted', async () => {
      const result = await runLaneScenario(stack.apiUrl, stack.db, {
        bulk: BULK,
        bulkPriority: 'low',
        urgentPriority: 'high',
      });
      report(`${db} low/high`, result);
      expect(result.bulkSent).toBe(BULK);
      expect(judged(result).length).toBeGreaterThanOrEqual(3);
      for (const u of judged(result))
        expect(u.overtaken, JSON.stringify(u)).toBeGreaterThanOrEqual(REQUIRED_SHARE);
    }, 400_000);

    // The control once is enough; PostgreSQL is the faster stack.
    if (db === 'postgres')
      it('the same run with every message normal misses that mark', async () => {
        const result = await runLaneScenario(stack.apiUrl, stack.db, {
          bulk: BULK,
          bulkPriority: 'normal',
          urgentPriority: 'normal',
        });
        report(`${db} normal/normal`, result);
        expect(judged(result).length).toBeGreaterThanOrEqual(3);
        expect(Math.min(...judged(result).map((u) => u.overtaken))).toBeLessThan(REQUIRED_SHARE);
      }, 400_000);
  });
}
