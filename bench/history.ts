/** Temporal history size of sample message workflows: events per message, and which events. */
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { z } from 'zod';

/** History figures over the sampled workflows. */
export interface HistoryFigures {
  readonly sampled: number;
  readonly avgEvents: number;
  readonly minEvents: number;
  readonly maxEvents: number;
  /** Event type (without the `EVENT_TYPE_` prefix) → average count per workflow. */
  readonly avgByType: Record<string, number>;
}

const historyJsonSchema = z.object({ events: z.array(z.object({ eventType: z.string() })).default([]) });

/** Fetches the histories of up to `sampleSize` (default 20) workflows picked evenly from `ids`. */
export async function sampleHistories(
  client: Client,
  ids: readonly string[],
  sampleSize = 20,
): Promise<HistoryFigures> {
  const step = Math.max(1, Math.floor(ids.length / sampleSize));
  const picked = ids.filter((_, i) => i % step === 0).slice(0, sampleSize);
  const counts: number[] = [];
  const byType = new Map<string, number>();
  for (const id of picked) {
    const history = await client.workflow.getHandle(id).fetchHistory();
    // historyToJSON names the event types; the raw history has enum numbers.
    const { events } = historyJsonSchema.parse(JSON.parse(historyToJSON(history)));
    counts.push(events.length);
    for (const e of events) {
      const type = e.eventType.replace(/^EVENT_TYPE_/, '');
      byType.set(type, (byType.get(type) ?? 0) + 1);
    }
  }
  const n = counts.length;
  return {
    sampled: n,
    avgEvents: n === 0 ? 0 : counts.reduce((s, c) => s + c, 0) / n,
    minEvents: n === 0 ? 0 : Math.min(...counts),
    maxEvents: n === 0 ? 0 : Math.max(...counts),
    avgByType: Object.fromEntries(
      [...byType.entries()].sort((a, b) => b[1] - a[1]).map(([type, total]) => [type, total / n]),
    ),
  };
}
