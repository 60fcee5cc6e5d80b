/**
 * A country's route candidates for the accept path's quote, kept for a short while: every send
 * would otherwise read the same few rows. Price changes made through this app instance drop the
 * cache at once; changes made elsewhere (another API instance, scripts) show within the TTL. The
 * quote only gates acceptance: the workflow plans and reserves from the tables themselves.
 */
import type { RouteCandidate } from '../db/carriers.ts';

/** Default of {@link RouteCandidatesCacheOptions.ttlMs}. */
export const ROUTE_CANDIDATES_TTL_MS = 1_000;

export interface RouteCandidatesCacheOptions {
  /** How long a country's candidates are reused, ms; 0 reads every time. Default 1000. */
  readonly ttlMs?: number;
  /** Clock, ms (tests). Default `Date.now`. */
  readonly now?: () => number;
}

export interface RouteCandidatesCache {
  /** `load(country)`, at most `ttlMs` old; concurrent misses share one read. */
  get(country: string): Promise<RouteCandidate[]>;
  /** Forgets everything (after a price change); reads already under way are not kept. */
  invalidate(): void;
}

/** @param load - reads a country's candidates (`listRouteCandidates` over the app's database). */
export function createRouteCandidatesCache(
  load: (country: string) => Promise<RouteCandidate[]>,
  opts: RouteCandidatesCacheOptions = {},
): RouteCandidatesCache {
  const ttlMs = opts.ttlMs ?? ROUTE_CANDIDATES_TTL_MS;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { readonly at: number; readonly value: Promise<RouteCandidate[]> }>();
  return {
    get(country) {
      const at = now();
      const hit = entries.get(country);
      if (hit && at - hit.at < ttlMs) return hit.value;
      const value = load(country);
      if (ttlMs <= 0) return value;
      entries.set(country, { at, value });
      // A failed read is not kept: the next call tries again.
      value.catch(() => {
        if (entries.get(country)?.value === value) entries.delete(country);
      });
      return value;
    },
    invalidate() {
      entries.clear();
    },
  };
}
