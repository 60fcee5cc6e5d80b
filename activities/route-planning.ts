/**
 * Route planning for one message (DESIGN §6): live stats from `route_stats`, overlaid with this
 * worker's unflushed breaker view, ranked by the pure score in domain/routing.ts, half-open
 * probes claimed atomically, and the exploration dice rolled here, in the activity, so the
 * workflow stays deterministic.
 */
import { z } from 'zod';
import { claimProbe, listRoutes, type RouteRow } from '../db/route-stats.ts';
import { type Circuit, circuitState, probeAvailable } from '../domain/circuit.ts';
import { explore, type RouteCandidate, rankRoutes } from '../domain/routing.ts';
import { type ActivityDeps, DEFAULT_ROUTING, type RoutingSettings } from './deps.ts';

/** A ranked route with what the workflow and the reservation need. */
export interface PlannedCandidate extends RouteCandidate {
  readonly failoverReceiptCodes: readonly string[];
}

const failoverCodesSchema = z.array(z.union([z.string(), z.number()]).transform(String)).catch([]);

/** `failoverReceiptCodes` from a carrier's config; a bad value counts as none. */
export function failoverReceiptCodes(config: Record<string, unknown>): string[] {
  return config.failoverReceiptCodes === undefined
    ? []
    : failoverCodesSchema.parse(config.failoverReceiptCodes);
}

/** The routing settings with defaults filled in. */
export function routingSettings(deps: ActivityDeps): RoutingSettings {
  return { ...DEFAULT_ROUTING, ...deps.routing };
}

/**
 * Every eligible route for `country`, best first, and the full candidate list (for the
 * worst-case reservation, which covers every route the message may end up on).
 */
export async function planRoutes(
  deps: ActivityDeps,
  country: string,
  random: () => number = Math.random,
): Promise<{ ranked: PlannedCandidate[]; all: PlannedCandidate[] }> {
  const settings = routingSettings(deps);
  const breaker = { failureThreshold: settings.failureThreshold, coolDownMs: settings.coolDownMs };
  const rows = await listRoutes(deps.db, country);
  const now = Date.now();
  const all: PlannedCandidate[] = [];
  for (const row of rows) {
    const circuit = effectiveCircuit(row, deps.routeStats?.circuit(row.carrierId, country));
    const state = circuitState(circuit, now, breaker);
    // Only a circuit open in the row can hand out a probe; claim it atomically across workers.
    const probe =
      state === 'half_open' &&
      circuit === row.circuit &&
      probeAvailable(circuit, now, breaker) &&
      (await claimProbe(deps.db, { carrierId: row.carrierId, country, coolDownMs: settings.coolDownMs }));
    all.push(toCandidate(row, circuit, state, probe));
  }
  const ranked = explore(rankRoutes(all, { weights: settings.weights }), settings.explorationShare, random);
  return { ranked, all };
}

/**
 * The row is the truth shared by all workers, but this worker may have tripped the breaker since
 * its last flush: then its own (open) view wins until the flush lands.
 */
function effectiveCircuit(row: RouteRow, local: Circuit | undefined): Circuit {
  if (local && local.state === 'open' && row.circuit.state === 'closed') return local;
  return row.circuit;
}

function toCandidate(
  row: RouteRow,
  circuit: Circuit,
  state: RouteCandidate['circuit'],
  probe: boolean,
): PlannedCandidate {
  return {
    carrierId: row.carrierId,
    kind: row.kind,
    priceMicros: row.priceMicros,
    acceptanceEwma: row.acceptanceEwma,
    deliveryEwma: row.deliveryEwma,
    submitLatencyMs: row.submitLatencyMs,
    receiptLatencyMs: row.receiptLatencyMs,
    consecutiveFailures: circuit.consecutiveFailures,
    circuit: state,
    ...(probe ? { probe: true } : {}),
    failoverReceiptCodes: failoverReceiptCodes(row.config),
  };
}
