import type { Kysely } from 'kysely';
import type { CarrierAdapter } from '../adapters/types.ts';
import type { Database } from '../db/schema.ts';
import type { CallbackDeps } from './callbacks.ts';

/** Everything activities touch, handed in by the worker process (no globals). */
export interface ActivityDeps {
  readonly db: Kysely<Database>;
  /** The adapter for a carrier id, or undefined when the carrier is unknown or disabled. */
  readonly adapterFor: (carrierId: string) => CarrierAdapter | undefined;
  /** Base of our webhook URLs as carriers reach them, e.g. `https://herald.example`. */
  readonly publicBaseUrl: string;
  /** Signed status callbacks; without it no callback is queued or sent. */
  readonly callbacks?: CallbackDeps;
}

/** The per-message receipt URL: our message id rides along so early receipts can be matched. */
export function statusCallbackUrl(publicBaseUrl: string, carrierId: string, messageId: string): string {
  const base = publicBaseUrl.replace(/\/+$/, '');
  return `${base}/webhooks/carriers/${encodeURIComponent(carrierId)}?mid=${encodeURIComponent(messageId)}`;
}
