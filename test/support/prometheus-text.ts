/**
 * A strict parser of the Prometheus text exposition format (0.0.4): any malformed line, a sample
 * before its family's TYPE, a repeated series or a histogram whose buckets are not cumulative is
 * an error, so a test that parses a scrape also proves the scrape is well-formed.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Scrape {
  readonly samples: readonly Sample[];
  /** Family name → type. */
  readonly types: ReadonlyMap<string, string>;
  /** Sum of the samples named `name` whose labels include `labels`. */
  sum(name: string, labels?: Readonly<Record<string, string>>): number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: (-?\\d+))?$`);
const LABEL = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/;
/** Go's ParseFloat, as Prometheus reads values: `NaN` and `Inf` in any case. */
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]?inf|nan)$/i;

export class PrometheusParseError extends Error {
  override readonly name = 'PrometheusParseError';
}

/** Parses `text`; throws {@link PrometheusParseError} naming the line for anything malformed. */
export function parsePrometheusText(text: string): Scrape {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const series = new Set<string>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new PrometheusParseError('exposition must end with a newline');
  for (const [i, line] of lines.entries()) {
    const fail = (why: string): never => {
      throw new PrometheusParseError(`line ${i + 1}: ${why}: ${JSON.stringify(line)}`);
    };
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = new RegExp(`^# (HELP|TYPE) (${NAME}) ?(.*)$`).exec(line);
      if (!m) continue; // other comments are allowed
      const [, kind, name = '', rest = ''] = m;
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) fail('unknown type');
        if (types.has(name)) fail('second TYPE for a family');
        if (samples.some((s) => familyOf(s.name, types) === name)) fail('TYPE after samples');
        types.set(name, rest);
      } else {
        if (helps.has(name)) fail('second HELP for a family');
        helps.add(name);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) return fail('not a sample');
    const [, name = '', labelText = '', valueText = ''] = m;
    if (!VALUE.test(valueText)) fail('bad value');
    const labels: Record<string, string> = {};
    let rest = labelText;
    while (rest !== '') {
      const l = LABEL.exec(rest);
      if (!l) return fail('bad labels');
      const [whole, key = '', raw = ''] = l;
      if (key in labels) fail(`label ${key} twice`);
      labels[key] = raw.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(whole.length);
    }
    const key = `${name}{${Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`;
    if (series.has(key)) fail('repeated series');
    series.add(key);
    const lower = valueText.toLowerCase();
    const value = lower.endsWith('inf') ? (lower.startsWith('-') ? -Infinity : Infinity) : Number(valueText);
    samples.push({ name, labels, value });
  }
  checkHistograms(samples, types);
  return {
    samples,
    types,
    sum(name, want = {}) {
      return samples
        .filter((s) => s.name === name && Object.entries(want).every(([k, v]) => s.labels[k] === v))
        .reduce((acc, s) => acc + s.value, 0);
    },
  };
}

function familyOf(sampleName: string, types: ReadonlyMap<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '']) {
    if (!sampleName.endsWith(suffix)) continue;
    const base = sampleName.slice(0, sampleName.length - suffix.length);
    if (types.has(base)) return base;
  }
  return sampleName;
}

/** Buckets never decrease as `le` grows, and `+Inf` equals `_count`. */
function checkHistograms(samples: readonly Sample[], types: ReadonlyMap<string, string>): void {
  for (const [family, type] of types) {
    if (type !== 'histogram') continue;
    const groups = new Map<string, Sample[]>();
    for (const s of samples) {
      if (s.name !== `${family}_bucket`) continue;
      const { le: _le, ...rest } = s.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    for (const [key, buckets] of groups) {
      const sorted = [...buckets].sort((a, b) => leOf(a) - leOf(b));
      for (let i = 1; i < sorted.length; i++) {
        if ((sorted[i]?.value ?? 0) < (sorted[i - 1]?.value ?? 0)) {
          throw new PrometheusParseError(`${family}${key}: buckets not cumulative`);
        }
      }
      const inf = sorted.at(-1);
      if (!inf || leOf(inf) !== Infinity) throw new PrometheusParseError(`${family}${key}: no +Inf bucket`);
      const labels = Object.fromEntries(JSON.parse(key) as Array<[string, string]>);
      const count = samples.find(
        (s) =>
          s.name === `${family}_count` &&
          Object.keys(s.labels).length === Object.keys(labels).length &&
          Object.entries(labels).every(([k, v]) => s.labels[k] === v),
      );
      if (!count || count.value !== inf.value) {
        throw new PrometheusParseError(`${family}${key}: +Inf bucket differs from _count`);
      }
    }
  }
}

function leOf(s: Sample): number {
  const le = s.labels.le;
  if (le === undefined) throw new PrometheusParseError(`${s.name}: bucket without le`);
  return le === '+Inf' ? Infinity : Number(le);
}
