/**
 * The verification fraud guard's rules (DESIGN §10), pure: what counts as one number prefix, the
 * velocity limits, the automatic block, and the countries a new account may verify. The counts
 * themselves live in PostgreSQL (db/fraud.ts), so every API process shares them.
 */

/** Digits dropped from the end of an E.164 number to get its prefix: a block of 1,000 numbers. */
export const PREFIX_DROPPED_DIGITS = 3;

/** A number's prefix, e.g. `+1415555` for `+14155552671`: pumping walks sequential numbers in one. */
export function numberPrefix(e164: string): string {
  return e164.slice(0, Math.max(2, e164.length - PREFIX_DROPPED_DIGITS));
}

/** One velocity limit: at most `max` verifications per `windowMs`. */
export interface VelocityLimit {
  readonly max: number;
  readonly windowMs: number;
}

const HOUR_MS = 3_600_000;

/** Verifications per destination number: a user retrying is fine, a loop is not. */
export const NUMBER_LIMIT: VelocityLimit = { max: 5, windowMs: HOUR_MS };
/** Verifications per number prefix ({@link numberPrefix}), counted since the prefix's last unblock. */
export const PREFIX_LIMIT: VelocityLimit = { max: 20, windowMs: HOUR_MS };
/** Verifications per account. */
export const ACCOUNT_LIMIT: VelocityLimit = { max: 1_000, windowMs: HOUR_MS };

/**
 * The automatic block: a scope (a prefix, or a country) with at least `minAttempts` verification
 * requests (refused ones included) within `spikeWindowMs`, whose verifications of the last
 * `conversionWindowMs` were approved less than `maxApprovalRate` of the time, is blocked until an
 * admin lifts it: traffic that volume, which almost never completes, is SMS pumping.
 */
export interface AutoBlockRule {
  readonly minAttempts: number;
  readonly spikeWindowMs: number;
  readonly conversionWindowMs: number;
  readonly maxApprovalRate: number;
}

export const PREFIX_AUTO_BLOCK: AutoBlockRule = {
  minAttempts: 30,
  spikeWindowMs: 600_000,
  conversionWindowMs: HOUR_MS,
  maxApprovalRate: 0.1,
};
export const COUNTRY_AUTO_BLOCK: AutoBlockRule = {
  minAttempts: 300,
  spikeWindowMs: 600_000,
  conversionWindowMs: HOUR_MS,
  maxApprovalRate: 0.1,
};

/** Whether a scope's numbers make it pumping by `rule`. */
export function looksLikePumping(
  rule: AutoBlockRule,
  counts: { readonly attempts: number; readonly verifications: number; readonly approved: number },
): boolean {
  if (counts.attempts < rule.minAttempts) return false;
  const rate = counts.verifications === 0 ? 0 : counts.approved / counts.verifications;
  return rate < rule.maxApprovalRate;
}

/**
 * Countries a new account may send verification codes to (geo permissions): the markets Herald
 * has demo routes for and their neighbours. Premium-rate pumping targets far-away ranges, so
 * anything else is opt-in, per account, by an admin.
 */
export const DEFAULT_VERIFY_COUNTRIES: readonly string[] = [
  'US',
  'CA',
  'GB',
  'IE',
  'DE',
  'AT',
  'CH',
  'FR',
  'BE',
  'NL',
  'LU',
  'ES',
  'PT',
  'IT',
  'DK',
  'SE',
  'NO',
  'FI',
  'AU',
  'NZ',
];

/** What a request that the guard refuses is answered. */
export type GuardRefusal =
  | { readonly reason: 'geo_blocked'; readonly country: string }
  | {
      readonly reason: 'rate_limited';
      readonly scope: 'number' | 'prefix' | 'account';
      readonly retryAfterMs: number;
    }
  | { readonly reason: 'fraud_suspected'; readonly scope: 'prefix' | 'country'; readonly value: string };

export const BLOCK_SCOPES = ['prefix', 'country'] as const;
export type BlockScope = (typeof BLOCK_SCOPES)[number];
