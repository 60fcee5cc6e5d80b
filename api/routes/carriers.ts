/**
 * `GET /v1/carriers` (admin): every carrier and, per country it serves, the live route score
 * with its inputs (DESIGN §6) and the circuit breaker's state, as the workers rank them.
 * Scores are relative within a country (latency and price terms compare against the best route).
 */
import { Router } from 'express';
import { listCarriers, listRouteBilling, type RouteBilling } from '../../db/carriers.ts';
import { listAllRoutes, type RouteRow } from '../../db/route-stats.ts';
import { circuitState } from '../../domain/circuit.ts';
import { formatMoney } from '../../domain/money.ts';
import { DEFAULT_WEIGHTS, type RouteCandidate, type RouteScore, scoreRoutes } from '../../domain/routing.ts';
import { requireAdmin } from '../auth.ts';
import type { AppContext } from '../context.ts';
import { isoTime } from '../serialize.ts';

/** Rounded for display; the ranking uses full precision. */
const round = (x: number, places = 4): number => Number(x.toFixed(places));

export function carrierRoutes(ctx: AppContext): Router {
  const router = Router();
  const admin = requireAdmin(ctx.db, ctx.adminApiKey);
  const weights = ctx.routing?.weights ?? DEFAULT_WEIGHTS;
  const breaker = ctx.routing?.coolDownMs !== undefined ? { coolDownMs: ctx.routing.coolDownMs } : {};

  router.get('/v1/carriers', admin, async (_req, res) => {
    const [carriers, routes, billing] = await Promise.all([
      listCarriers(ctx.db),
      listAllRoutes(ctx.db),
      listRouteBilling(ctx.db),
    ]);
    const billed = new Map(billing.map((b) => [`${b.carrierId}/${b.country}`, b]));
    const now = Date.now();
    const byCountry = new Map<string, RouteRow[]>();
    for (const r of routes) byCountry.set(r.country, [...(byCountry.get(r.country) ?? []), r]);
    const scores = new Map<string, { score: RouteScore; rank: number }>();
    for (const [country, rows] of byCountry) {
      const candidates: RouteCandidate[] = rows.map((r) => ({
        carrierId: r.carrierId,
        kind: r.kind,
        priceMicros: r.priceMicros,
        acceptanceEwma: r.acceptanceEwma,
        deliveryEwma: r.deliveryEwma,
        submitLatencyMs: r.submitLatencyMs,
        receiptLatencyMs: r.receiptLatencyMs,
        consecutiveFailures: r.circuit.consecutiveFailures,
        circuit: circuitState(r.circuit, now, breaker),
      }));
      const scored = scoreRoutes(candidates, weights);
      const order = [...scored].sort((a, b) => b.score - a.score);
      for (const s of scored)
        scores.set(`${s.carrierId}/${country}`, { score: s, rank: order.indexOf(s) + 1 });
    }
    res.json({
      weights,
      data: carriers.map((c) => ({
        id: c.id,
        kind: c.kind,
        enabled: c.enabled,
        segmentsPerSecond: c.tps,
        routes: routes
          .filter((r) => r.carrierId === c.id)
          .map((r) => {
            const s = scores.get(`${r.carrierId}/${r.country}`);
            return {
              country: r.country,
              price: formatMoney(r.priceMicros),
              score: round(s?.score.score ?? 0),
              rank: s?.rank ?? null,
              inputs: {
                acceptance: round(r.acceptanceEwma),
                delivery: round(r.deliveryEwma),
                submitLatencyMs: Math.round(r.submitLatencyMs),
                receiptLatencyMs: Math.round(r.receiptLatencyMs),
                price: formatMoney(r.priceMicros),
              },
              terms: s
                ? Object.fromEntries(Object.entries(s.score.terms).map(([k, v]) => [k, round(v)]))
                : null,
              attempts: r.attempts,
              receipts: r.receipts,
              consecutiveFailures: r.circuit.consecutiveFailures,
              circuit: {
                state: circuitState(r.circuit, now, breaker),
                openedAt: r.circuit.openedAt === null ? null : isoTime(new Date(r.circuit.openedAt)),
                probeStartedAt:
                  r.circuit.probeStartedAt === null ? null : isoTime(new Date(r.circuit.probeStartedAt)),
              },
              billing: routeBilling(billed.get(`${r.carrierId}/${r.country}`), r.priceMicros),
              updatedAt: r.updatedAt ? isoTime(r.updatedAt) : null,
            };
          }),
      })),
    });
  });

  return router;
}

/**
 * Billed vs configured over the last 7 days: what the carrier reported per segment on average,
 * against the route's configured price per segment (drift = billed − configured; positive: the
 * carrier bills more than Herald charges). Null when the carrier reported no price.
 */
function routeBilling(b: RouteBilling | undefined, priceMicros: bigint) {
  if (!b || b.segments === 0) return null;
  const perSegment = b.billedMicros / BigInt(b.segments);
  return {
    attempts: b.attempts,
    billedPerSegment: formatMoney(perSegment),
    configuredPerSegment: formatMoney(priceMicros),
    drift: formatMoney(perSegment - priceMicros),
  };
}
