/** `GET/PUT /v1/settings` (DESIGN §11): where inbound messages and default status callbacks go, keyword replies. */
import { Router } from 'express';
import { updateAccountSettings } from '../../db/accounts.ts';
import { checkCallbackUrl } from '../../services/ssrf.ts';
import { currentAccount, requireAccount } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError, notFound } from '../errors.ts';
import { accountSettingsBody } from '../schemas.ts';
import { toSettingsJson } from '../serialize.ts';
import { parseInput } from '../validate.ts';

export function settingsRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = requireAccount(ctx.db);

  router.get('/v1/settings', auth, (_req, res) => {
    res.json(toSettingsJson(currentAccount(res)));
  });

  router.put('/v1/settings', auth, jsonBody, async (req, res) => {
    const body = parseInput(accountSettingsBody, req.body);
    // SSRF: refused before anything changes; checked again before each delivery.
    for (const [field, url] of [
      ['inboundUrl', body.inboundUrl],
      ['callbackUrl', body.callbackUrl],
    ] as const) {
      if (typeof url !== 'string') continue;
      const checked = await checkCallbackUrl(url, { allowedHosts: ctx.callbackAllowedHosts ?? [] });
      if (!checked.ok) throw new ApiError(400, 'invalid_callback_url', `${field}: ${checked.reason}`);
    }
    const account = await updateAccountSettings(ctx.db, currentAccount(res).id, {
      inbound_url: body.inboundUrl,
      callback_url: body.callbackUrl,
      inbound_format: body.inboundFormat,
      stop_reply: body.stopReply,
      start_reply: body.startReply,
      help_reply: body.helpReply,
    });
    if (!account) throw notFound('account');
    res.json(toSettingsJson(account));
  });

  return router;
}
