/**
 * Route prices (admin): per (carrier, country), per segment (DESIGN §4, §6). A change applies to
 * the next message admitted: the workers' ranking and reservation read the table each time, and
 * this instance's quote cache is dropped (other API instances' quotes follow within a second).
 */
import { Router } from 'express';
import { getCarrier, listPrices, setPriceEnabled, upsertPrice } from '../../db/carriers.ts';
import { requireAdmin } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { countryCode, listPricesQuery, upsertPriceBody } from '../schemas.ts';
import { toPriceJson } from '../serialize.ts';
import { parseInput, pathParam } from '../validate.ts';

export function priceRoutes(ctx: AppContext): Router {
  const router = Router();
  const admin = requireAdmin(ctx.db, ctx.adminApiKey);

  router.get('/v1/prices', admin, async (req, res) => {
    const filter = parseInput(listPricesQuery, req.query, 'query');
    const prices = await listPrices(ctx.db, {
      ...(filter.carrierId ? { carrierId: filter.carrierId } : {}),
      ...(filter.country ? { country: filter.country } : {}),
    });
    res.json({ data: prices.map(toPriceJson) });
  });

  router.put('/v1/prices/:carrierId/:country', admin, jsonBody, async (req, res) => {
    const { price, enabled } = parseInput(upsertPriceBody, req.body);
    const { carrierId, country } = await routeOf(ctx, req);
    const row = await upsertPrice(ctx.db, { carrierId, country, priceMicros: price, enabled });
    ctx.routeCandidates.invalidate();
    res.json(toPriceJson(row));
  });

  router.post('/v1/prices/:carrierId/:country/disable', admin, async (req, res) => {
    const { carrierId, country } = await routeOf(ctx, req);
    const row = await setPriceEnabled(ctx.db, { carrierId, country, enabled: false });
    ctx.routeCandidates.invalidate();
    if (!row) throw notFound('price');
    res.json(toPriceJson(row));
  });

  return router;
}

/**
 * The route named by the path: a known carrier and a valid country.
 * @throws ApiError 404 for an unknown carrier, 400 for a bad country code.
 */
async function routeOf(
  ctx: AppContext,
  req: Parameters<typeof pathParam>[0],
): Promise<{ carrierId: string; country: string }> {
  const carrierId = pathParam(req, 'carrierId', 'carrier');
  const country = parseInput(countryCode, pathParam(req, 'country', 'country'), 'path parameter "country"');
  if (!(await getCarrier(ctx.db, carrierId))) throw notFound('carrier');
  return { carrierId, country };
}
