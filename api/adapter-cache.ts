/**
 * Carrier adapters for the webhook route, created on first use from the carriers table and kept
 * for the life of the app instance (a carrier's config change needs an API restart).
 */
import type { Kysely } from 'kysely';
import { createAdapter } from '../adapters/registry.ts';
import type { CarrierAdapter } from '../adapters/types.ts';
import { getCarrier } from '../db/carriers.ts';
import type { Database } from '../db/schema.ts';

export interface AdapterCache {
  /** The adapter for `carrierId`, or undefined when no such carrier exists (not cached, so it may appear later). */
  get(carrierId: string): Promise<CarrierAdapter | undefined>;
}

export function createAdapterCache(db: Kysely<Database>): AdapterCache {
  const adapters = new Map<string, CarrierAdapter>();
  return {
    async get(carrierId) {
      const cached = adapters.get(carrierId);
      if (cached) return cached;
      const carrier = await getCarrier(db, carrierId);
      if (!carrier) return undefined;
      // Receipts are still accepted for a disabled carrier: its messages in flight need them.
      const adapter = createAdapter({ id: carrier.id, kind: carrier.kind, config: carrier.config });
      adapters.set(carrierId, adapter);
      return adapter;
    },
  };
}
