import type { Kysely } from 'kysely';
import type { CarrierAdapter } from '../adapters/types.ts';
import { DEFAULT_EXPLORATION_SHARE } from '../config/defaults.ts';
import { DEFAULT_CARRIER_QUEUE_TIMEOUT_MS } from '../config/worker-defaults.ts';
import type { Database } from '../db/schema.ts';
import { type Circuit, DEFAULT_COOL_DOWN_MS, DEFAULT_FAILURE_THRESHOLD } from '../domain/circuit.ts';
import { DEFAULT_WEIGHTS, type RoutingWeights } from '../domain/routing.ts';
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
  /** Where route observations go (workers/route-stats-buffer.ts); without it none are recorded. */
  readonly routeStats?: RouteFeedback;
  /** Routing settings (score weights, exploration, breaker); defaults in {@link DEFAULT_ROUTING}. */
  readonly routing?: Partial<RoutingSettings>;
  /** The server secret verification codes are derived under (VERIFY_SECRET); without it none is sent. */
  readonly verifySecret?: string;
  /** A carrier's throughput limit in segments per second; undefined = not paced by us. */
  readonly carrierSegmentsPerSecond?: (carrierId: string) => number | undefined;
}

/** Route observations from the activities, batched into `route_stats` by the worker. */
export interface RouteFeedback {
  /** A submit's outcome (accepted or a route failure) and its round trip, ms. */
  submitOutcome(carrierId: string, country: string, ok: boolean, latencyMs: number): void;
  /** A final receipt: delivered or not, and the time from acceptance to it, ms. */
  receiptOutcome(carrierId: string, country: string, delivered: boolean, latencyMs: number): void;
  /** This worker's latest view of a route's circuit (undefined when it has none). */
  circuit(carrierId: string, country: string): Circuit | undefined;
}

/** How admission ranks routes and the breaker behaves (env: see config/env.ts). */
export interface RoutingSettings {
  readonly weights: RoutingWeights;
  /** Share of messages that try a non-top route first, 0..1. */
  readonly explorationShare: number;
  readonly failureThreshold: number;
  readonly coolDownMs: number;
  /**
   * How long a submit may wait on a carrier's task queue for a worker before the message fails
   * over, ms: long enough for a lane's backlog under the carrier's TPS, short enough that a carrier
   * no worker polls (enabled after the workers started) does not hold its messages. Default 300000.
   */
  readonly carrierQueueTimeoutMs: number;
}

export const DEFAULT_ROUTING: RoutingSettings = {
  weights: DEFAULT_WEIGHTS,
  explorationShare: DEFAULT_EXPLORATION_SHARE,
  failureThreshold: DEFAULT_FAILURE_THRESHOLD,
  coolDownMs: DEFAULT_COOL_DOWN_MS,
  carrierQueueTimeoutMs: DEFAULT_CARRIER_QUEUE_TIMEOUT_MS,
};

/** The per-message receipt URL: our message id rides along so early receipts can be matched. */
export function statusCallbackUrl(publicBaseUrl: string, carrierId: string, messageId: string): string {
  const base = publicBaseUrl.replace(/\/+$/, '');
  return `${base}/webhooks/carriers/${encodeURIComponent(carrierId)}?mid=${encodeURIComponent(messageId)}`;
}
