/**
 * The Temporal dev server's Prometheus metrics (`--metrics-port`), read before and after the
 * measured phase: how many persistence calls and RPCs each message costs the server, and how long
 * they took. The dev server persists to SQLite, so persistence calls are what it spends its time on.
 */

/** One Prometheus sample: metric name, its labels, its value. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A scrape: samples keyed by their exact `name{labels}` text, for diffing two scrapes. */
export type MetricsScrape = ReadonlyMap<string, Sample>;

const LINE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** Parses the Prometheus text exposition format (comments and malformed lines are skipped). */
export function parseMetrics(text: string): MetricsScrape {
  const out = new Map<string, Sample>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line.trim());
    if (!m?.[1] || m[3] === undefined) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) if (l[1] && l[2] !== undefined) labels[l[1]] = l[2];
    out.set(`${m[1]}{${m[2] ?? ''}}`, { name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

/** Fetches and parses `url` (the server's `/metrics`); undefined when it does not answer. */
export async function scrapeMetrics(url: string): Promise<MetricsScrape | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return undefined;
    return parseMetrics(await res.text());
  } catch {
    return undefined;
  }
}

/** Calls of one operation between two scrapes. */
export interface OperationCost {
  /** `service operation`, e.g. `history GetWorkflowExecution`. */
  readonly operation: string;
  readonly perMessage: number;
  /** Mean latency, ms (includes waiting for SQLite's single writer). */
  readonly avgMs: number;
}

/** What the measured messages cost the Temporal server. */
export interface TemporalCost {
  /** Persistence calls per message, all operations. */
  readonly persistencePerMessage: number;
  /** Persistence operations, most frequent first (top 12). */
  readonly persistence: readonly OperationCost[];
  /** Frontend RPCs per message (the SDK clients' calls: starts, signals, polls, completions). */
  readonly frontendPerMessage: number;
  readonly frontend: readonly OperationCost[];
}

/** Diffs `<metric>_count` / `<metric>_sum` per (service, operation) between two scrapes. */
function perOperation(
  before: MetricsScrape,
  after: MetricsScrape,
  metric: string,
  keep: (s: Sample) => boolean,
): Map<string, { count: number; sumSec: number }> {
  const out = new Map<string, { count: number; sumSec: number }>();
  for (const [key, s] of after) {
    const isCount = s.name === `${metric}_count`;
    if ((!isCount && s.name !== `${metric}_sum`) || !keep(s)) continue;
    const delta = s.value - (before.get(key)?.value ?? 0);
    const op = `${s.labels.service_name ?? '?'} ${s.labels.operation ?? '?'}`;
    const acc = out.get(op) ?? { count: 0, sumSec: 0 };
    if (isCount) acc.count += delta;
    else acc.sumSec += delta;
    out.set(op, acc);
  }
  return out;
}

function costs(ops: Map<string, { count: number; sumSec: number }>, messages: number): OperationCost[] {
  return [...ops.entries()]
    .filter(([, v]) => v.count > 0)
    .sort((a, b) => b[1].count - a[1].count)
    .slice(0, 12)
    .map(([operation, v]) => ({
      operation,
      perMessage: v.count / messages,
      avgMs: (v.sumSec / v.count) * 1000,
    }));
}

/** Per-message Temporal cost of `messages` messages between two scrapes. */
export function temporalCost(before: MetricsScrape, after: MetricsScrape, messages: number): TemporalCost {
  const n = Math.max(1, messages);
  // Visibility (search attributes, list filters) is its own SQLite store with its own metric.
  const persistence = new Map([
    ...perOperation(before, after, 'persistence_latency', () => true),
    ...[...perOperation(before, after, 'visibility_persistence_latency', () => true)].map(
      ([op, v]): [string, { count: number; sumSec: number }] => [op.replace(/^\S+/, 'visibility'), v],
    ),
  ]);
  // Long polls are RPCs too but mostly wait; they are listed with the rest.
  const frontend = perOperation(
    before,
    after,
    'service_latency',
    (s) => s.labels.service_name === 'frontend',
  );
  const total = (m: Map<string, { count: number }>): number =>
    [...m.values()].reduce((sum, v) => sum + v.count, 0) / n;
  return {
    persistencePerMessage: total(persistence),
    persistence: costs(persistence, n),
    frontendPerMessage: total(frontend),
    frontend: costs(frontend, n),
  };
}
