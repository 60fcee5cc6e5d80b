/** The warm-up both scenarios run before measuring: messages on the warm-up account, all awaited. */
import type { BenchStack } from './bench-stack.ts';
import { waitForTerminal } from './db-figures.ts';
import { sendMessages } from './load.ts';

/**
 * Sends `count` messages from the warm-up account (to every API in turn) and waits until all are
 * terminal, so the measured phase starts on warm processes.
 *
 * @throws when the API refuses one or they do not all finish within 60 s.
 */
export async function warmUp(
  stack: BenchStack,
  opts: { readonly count: number; readonly concurrency: number; readonly to: (i: number) => string },
  log: (msg: string) => void,
): Promise<void> {
  if (opts.count <= 0) return;
  log(`warm-up: ${opts.count} messages`);
  const warm = await sendMessages({
    apiUrl: stack.apiUrls,
    apiKey: stack.warmupAccount.apiKey,
    count: opts.count,
    concurrency: Math.min(opts.concurrency, opts.count),
    to: opts.to,
  });
  if (warm.errors.length > 0) throw new Error(`warm-up: the API failed: ${warm.errors[0]?.detail}`);
  const done = await waitForTerminal(stack.db, stack.warmupAccount.id, {
    expected: warm.ids.length,
    timeoutMs: 60_000,
    stallMs: 30_000,
    onProgress: (n) => log(`warm-up: ${n} of ${warm.ids.length} terminal`),
  });
  if (done.reason !== 'done')
    throw new Error(`warm-up: only ${done.terminal} of ${warm.ids.length} finished`);
  log(`warm-up: ${opts.count} messages done`);
}
