/**
 * The Express app (DESIGN §7): a factory over its dependencies, no globals, so tests and
 * processes can run as many instances as they like.
 */
import express from 'express';
import { listRouteCandidates } from '../db/carriers.ts';
import { createAdapterCache } from './adapter-cache.ts';
import type { AppContext, AppDeps } from './context.ts';
import { errorHandler, notFoundHandler } from './errors.ts';
import { createJsonLogger } from './log.ts';
import { methodNotAllowedHandler, optionsHandler } from './method-not-allowed.ts';
import { createApiMetrics } from './metrics.ts';
import { requestLog } from './request-log.ts';
import { createRouteCandidatesCache } from './route-candidates-cache.ts';
import { accountRoutes } from './routes/accounts.ts';
import { balanceRoutes } from './routes/balance.ts';
import { carrierRoutes } from './routes/carriers.ts';
import { fraudRoutes } from './routes/fraud.ts';
import { healthRoutes } from './routes/health.ts';
import { inboundRoutes } from './routes/inbound.ts';
import { ledgerRoutes } from './routes/ledger.ts';
import { messageRoutes } from './routes/messages.ts';
import { numberRoutes } from './routes/numbers.ts';
import { observabilityRoutes } from './routes/observability.ts';
import { optOutRoutes } from './routes/opt-outs.ts';
import { priceRoutes } from './routes/prices.ts';
import { settingsRoutes } from './routes/settings.ts';
import { twilioCredentialRoutes } from './routes/twilio-credentials.ts';
import { twilioMessageRoutes } from './routes/twilio-messages.ts';
import { verificationRoutes } from './routes/verifications.ts';
import { webhookSecretRoutes } from './routes/webhook-secret.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export type { AppDeps } from './context.ts';

/** Builds the API. Each route authenticates and parses its own body, so order here does not matter. */
export function createApp(deps: AppDeps): express.Express {
  const ctx: AppContext = {
    ...deps,
    log: deps.log ?? createJsonLogger('info'),
    adapters: createAdapterCache(deps.db),
    routeCandidates: createRouteCandidatesCache((country) => listRouteCandidates(deps.db, country)),
  };
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(ctx.log));
  app.use(optionsHandler());
  app.use(healthRoutes(ctx), accountRoutes(ctx), balanceRoutes(ctx), messageRoutes(ctx), webhookRoutes(ctx));
  app.use(
    webhookSecretRoutes(ctx),
    verificationRoutes(ctx),
    fraudRoutes(ctx),
    optOutRoutes(ctx),
    numberRoutes(ctx),
    settingsRoutes(ctx),
    inboundRoutes(ctx),
  );
  app.use(carrierRoutes(ctx));
  app.use(ledgerRoutes(ctx), priceRoutes(ctx));
  app.use(twilioCredentialRoutes(ctx), twilioMessageRoutes(ctx));
  const metrics = createApiMetrics(ctx.db, {
    ...(ctx.routing?.coolDownMs === undefined ? {} : { coolDownMs: ctx.routing.coolDownMs }),
  });
  app.use(observabilityRoutes(metrics));
  app.use(methodNotAllowedHandler());
  app.use(notFoundHandler);
  app.use(errorHandler(ctx.log));
  return app;
}
