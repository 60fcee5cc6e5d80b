/**
 * `POST /v1/twilio-credentials` (DESIGN §11): the account's Twilio-style pair for the
 * Twilio-compatible API — an `AC…` alias (stable) and an auth token shown once; a second call
 * rotates the token (the old one stops working at once).
 */
import { Router } from 'express';
import { issueTwilioCredentials } from '../../db/twilio-credentials.ts';
import { currentAccount, requireAccount } from '../auth.ts';
import type { AppContext } from '../context.ts';

export function twilioCredentialRoutes(ctx: AppContext): Router {
  const router = Router();
  router.post('/v1/twilio-credentials', requireAccount(ctx.db), async (_req, res) => {
    const { credentials, rotated } = await issueTwilioCredentials(ctx.db, currentAccount(res).id);
    res.status(rotated ? 200 : 201).json({
      accountSid: credentials.account_sid,
      authToken: credentials.auth_token,
      rotated,
    });
  });
  return router;
}
