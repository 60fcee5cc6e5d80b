/**
 * The account's webhook secret, which signs its status callbacks (`Herald-Signature`): read it,
 * rotate it. After a rotation the previous secret keeps signing, as a second `v1=`, for a grace
 * period, so receivers can switch without rejecting a callback.
 */
import { Router } from 'express';
import { rotateWebhookSecret } from '../../db/callbacks.ts';
import { currentAccount, requireAccount } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { notFound } from '../errors.ts';
import { rotateWebhookSecretBody } from '../schemas.ts';
import { isoTime } from '../serialize.ts';
import { parseInput } from '../validate.ts';

export function webhookSecretRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = requireAccount(ctx.db);

  // { secret, previousSecretExpiresAt }: the secret receivers verify callbacks with.
  router.get('/v1/webhook-secret', auth, (_req, res) => {
    const account = currentAccount(res);
    const until = account.previous_webhook_secret_expires_at;
    res.json({
      secret: account.webhook_secret,
      previousSecretExpiresAt: until && until.getTime() > Date.now() ? isoTime(until) : null,
    });
  });

  router.post('/v1/webhook-secret/rotate', auth, jsonBody, async (req, res) => {
    const { gracePeriodSeconds } = parseInput(rotateWebhookSecretBody, req.body ?? {});
    const rotated = await rotateWebhookSecret(ctx.db, currentAccount(res).id, gracePeriodSeconds);
    if (!rotated) throw notFound('account');
    res.json({
      secret: rotated.secret,
      previousSecretExpiresAt: rotated.previousExpiresAt ? isoTime(rotated.previousExpiresAt) : null,
    });
  });

  return router;
}
