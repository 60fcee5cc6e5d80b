/**
 * The load generator: `count` `POST /v1/messages` requests with at most `concurrency` in flight,
 * over keep-alive connections, timing each one to its complete answer (the 202). Given several
 * API URLs, request `i` goes to URL `i mod n` (round robin).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';

/** Options of {@link sendMessages}. */
export interface LoadOptions {
  /** One API, or several taken in turn (request `i` → `apiUrl[i % n]`). */
  readonly apiUrl: string | readonly string[];
  readonly apiKey: string;
  readonly count: number;
  readonly concurrency: number;
  /** The destination of request `i` (0-based). */
  readonly to: (i: number) => string;
  /** Message body. Default: a one-segment GSM-7 OTP text. */
  readonly body?: (i: number) => string;
  /** A request without an answer after this long counts as an error. Default 30 000 ms. */
  readonly timeoutMs?: number;
  /** The `priority` field of request `i` (`high` / `normal` / `low`). Default: none sent. */
  readonly priority?: (i: number) => string | undefined;
  /** Called on each 202 with the message id and `Date.now()` at the answer. */
  readonly onAccepted?: (id: string, at: number) => void;
}

/** One request that did not end in a 202. */
export interface LoadError {
  readonly status: number | null;
  readonly detail: string;
}

/** What the load produced. */
export interface LoadResult {
  /** Ids of accepted messages, in completion order. */
  readonly ids: string[];
  /** Accept latency of each 202, ms. */
  readonly latenciesMs: number[];
  readonly errors: LoadError[];
  /** `Date.now()` when the first request was sent and when the last answer arrived. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

interface Answer {
  readonly status: number;
  readonly text: string;
}

/** Sends the requests; never throws for an HTTP failure (it is counted in `errors`). */
export async function sendMessages(opts: LoadOptions): Promise<LoadResult> {
  const urls = (typeof opts.apiUrl === 'string' ? [opts.apiUrl] : [...opts.apiUrl]).map(
    (u) => new URL('/v1/messages', u),
  );
  if (urls.length === 0) throw new Error('sendMessages: no API URL');
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const ids: string[] = [];
  const latenciesMs: number[] = [];
  const errors: LoadError[] = [];
  const bodyOf = opts.body ?? ((i: number) => `Your Herald code is ${String(100000 + (i % 900000))}`);
  let next = 0;

  const post = (url: URL, payload: string): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        url,
        {
          method: 'POST',
          agent,
          headers: {
            authorization: `Bearer ${opts.apiKey}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(payload),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      // A stuck API must fail the run, not hang it.
      req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error('no answer in time')));
      req.end(payload);
    });

  const lane = async (): Promise<void> => {
    for (let i = next++; i < opts.count; i = next++) {
      const priority = opts.priority?.(i);
      const payload = JSON.stringify({
        to: opts.to(i),
        body: bodyOf(i),
        ...(priority === undefined ? {} : { priority }),
      });
      const t0 = performance.now();
      try {
        const answer = await post(urls[i % urls.length] as URL, payload);
        const elapsed = performance.now() - t0;
        const id = answer.status === 202 ? messageId(answer.text) : undefined;
        if (id === undefined) {
          errors.push({ status: answer.status, detail: answer.text.slice(0, 300) });
          continue;
        }
        ids.push(id);
        latenciesMs.push(elapsed);
        opts.onAccepted?.(id, Date.now());
      } catch (err) {
        errors.push({ status: null, detail: err instanceof Error ? err.message : String(err) });
      }
    }
  };

  const startedAt = Date.now();
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.count) }, lane));
  const finishedAt = Date.now();
  agent.destroy();
  return { ids, latenciesMs, errors, startedAt, finishedAt };
}

function messageId(text: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && 'id' in parsed && typeof parsed.id === 'string') {
      return parsed.id;
    }
  } catch {
    // not JSON: reported as an error by the caller
  }
  return undefined;
}
