/** What the app factory takes, and what every route module receives from it. */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { RoutingWeights } from '../domain/routing.ts';
import type { AdapterCache } from './adapter-cache.ts';
import type { Logger } from './log.ts';
import type { RouteCandidatesCache } from './route-candidates-cache.ts';

/** Dependencies of {@link createApp}; the app holds no other state. */
export interface AppDeps {
  readonly db: Kysely<Database>;
  readonly temporal: Client;
  /** Compared in constant time with the bearer key of admin calls. */
  readonly adminApiKey: string;
  /**
   * Base URL carriers post receipts to (signatures such as Twilio's cover the full URL).
   * Default: taken from each request's protocol and Host header.
   */
  readonly publicBaseUrl?: string;
  /** Currency code shown with balances, e.g. `USD`. */
  readonly currency: string;
  /** Default: JSON lines at `info` and above. */
  readonly log?: Logger;
  /**
   * Callback URLs may point at these hosts, addresses or CIDR ranges despite the SSRF rules
   * (services/ssrf.ts); `CALLBACK_ALLOWED_HOSTS`. Default none.
   */
  readonly callbackAllowedHosts?: readonly string[];
  /** Secret verification codes are derived under (VERIFY_SECRET). Default none: verifications answer 503. */
  readonly verifySecret?: string;
  /** Score weights and breaker cool-down, as the workers use them (for `GET /v1/carriers`). Default: the defaults. */
  readonly routing?: { readonly weights?: RoutingWeights; readonly coolDownMs?: number };
}

/** AppDeps with defaults applied, plus the per-app caches. */
export interface AppContext extends Omit<AppDeps, 'log'> {
  readonly log: Logger;
  readonly adapters: AdapterCache;
  /** Route candidates per country for quotes (api/route-candidates-cache.ts). */
  readonly routeCandidates: RouteCandidatesCache;
}
