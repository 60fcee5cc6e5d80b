/** Verifications (DESIGN §10): create, check, resend, cancel, read one, list. */
import { randomBytes } from 'node:crypto';
import { Router } from 'express';
import { InvalidCursorError } from '../../db/cursor.ts';
import { geoAllowed, insertVerificationGuarded } from '../../db/fraud.ts';
import type { Verification } from '../../db/schema.ts';
import { getVerificationForAccount, listVerifications, recordVerification } from '../../db/verifications.ts';
import { type GuardRefusal, numberPrefix } from '../../domain/fraud.ts';
import { ID_RANDOM_BYTES, newFraudBlockId, newVerificationId } from '../../domain/ids.ts';
import { formatMoney } from '../../domain/money.ts';
import { normalizePhone } from '../../domain/phone.ts';
import {
  CODE_LENGTH,
  isWellFormedCode,
  MAX_CHECKS,
  renderMaskedBody,
  TTL_SECONDS,
  verificationTemplate,
} from '../../domain/verification.ts';
import { checkProof, expectedProof } from '../../services/verification-codes.ts';
import { priceMessage, refuseOptedOut } from '../accept-message.ts';
import { currentAccount, requireAccount } from '../auth.ts';
import { jsonBody } from '../body-parsers.ts';
import type { AppContext } from '../context.ts';
import { ApiError, notFound, serviceUnavailable, tooManyRequests } from '../errors.ts';
import { checkVerificationBody, createVerificationBody, listVerificationsQuery } from '../schemas.ts';
import { toVerificationJson } from '../serialize.ts';
import { parseInput, pathParam } from '../validate.ts';
import {
  cancelVerification,
  checkVerification,
  resendVerification,
  startVerifyWorkflow,
  verificationState,
} from '../verification-client.ts';

export function verificationRoutes(ctx: AppContext): Router {
  const router = Router();
  const auth = requireAccount(ctx.db);

  /** The server secret, or 503: without it no code can be derived or checked. */
  const secret = (): string => {
    if (!ctx.verifySecret)
      throw serviceUnavailable('verifications are not configured on this server (VERIFY_SECRET)');
    return ctx.verifySecret;
  };
  const loadOwn = async (accountId: string, id: string): Promise<Verification> => {
    const v = await getVerificationForAccount(ctx.db, accountId, id);
    if (!v) throw notFound('verification');
    return v;
  };
  const reload = async (v: Verification): Promise<Verification> => loadOwn(v.account_id, v.id);
  /**
   * The row once its workflow has closed. A run an operator terminated never wrote its decision:
   * it can decide nothing more, so the row is settled here — expired when its time is up, else
   * canceled (a guarded write: a decision already written stays).
   */
  const closedRow = async (v: Verification): Promise<Verification> => {
    const now = await reload(v);
    if (now.status !== 'pending') return now;
    const status = now.expires_at.getTime() <= Date.now() ? 'expired' : 'canceled';
    return (await recordVerification(ctx.db, now.id, { status })) ?? now;
  };

  router.post('/v1/verifications', auth, jsonBody, async (req, res) => {
    const input = parseInput(createVerificationBody, req.body);
    const key = secret();
    const account = currentAccount(res);
    const phone = normalizePhone(input.to);
    if (!phone.ok) throw new ApiError(400, 'invalid_phone_number', `to: ${phone.reason}`);
    // Geo permissions first: a country the account may not verify is refused before it is priced.
    const prefix = numberPrefix(phone.e164);
    if (
      !(await geoAllowed(ctx.db, { accountId: account.id, numberPrefix: prefix, country: phone.country }))
    ) {
      throw refused({ reason: 'geo_blocked', country: phone.country });
    }
    await refuseOptedOut(ctx, account.id, phone.e164);
    const codeLength = input.codeLength ?? CODE_LENGTH.default;
    const locale = input.locale ?? 'en';
    const appName = input.appName ?? null;
    const masked = renderMaskedBody(
      verificationTemplate({ locale, appName, template: input.template ?? null }),
      appName,
      codeLength,
    );
    // Priced like the message it sends; a pre-check only, as for sending (the run reserves).
    const pricing = await priceMessage(ctx, phone.country, masked.body);
    if (account.available_micros < pricing.maxMicros) {
      throw new ApiError(402, 'insufficient_funds', 'the balance does not cover the verification message', {
        quote: formatMoney(pricing.maxMicros),
        available: formatMoney(account.available_micros),
      });
    }
    const id = newVerificationId(randomBytes(ID_RANDOM_BYTES));
    const now = Date.now();
    // The fraud guard decides before anything is stored, sent or charged (db/fraud.ts).
    const guarded = await insertVerificationGuarded(
      ctx.db,
      {
        id,
        number_prefix: prefix,
        account_id: account.id,
        to_number: phone.e164,
        country: phone.country,
        status: 'pending',
        code_length: codeLength,
        locale,
        app_name: appName,
        template: input.template ?? null,
        expires_at: new Date(now + (input.ttlSeconds ?? TTL_SECONDS.default) * 1000),
        checks_left: MAX_CHECKS,
        // The first send is under way from here (the workflow records its message).
        sends: 1,
        last_sent_at: new Date(now),
      },
      () => newFraudBlockId(randomBytes(ID_RANDOM_BYTES)),
    );
    if (!guarded.ok) throw refused(guarded.refusal);
    const v = guarded.verification;
    try {
      await startVerifyWorkflow(ctx.temporal, v, expectedProof(key, v.id, codeLength));
    } catch (err) {
      // Nothing was sent: the verification is withdrawn, and the client may simply ask again.
      await recordVerification(ctx.db, v.id, { status: 'canceled' }).catch(() => undefined);
      throw err;
    }
    res.status(201).json(toVerificationJson(v));
  });

  router.post('/v1/verifications/:id/check', auth, jsonBody, async (req, res) => {
    const { code } = parseInput(checkVerificationBody, req.body);
    const key = secret();
    const v = await loadOwn(currentAccount(res).id, pathParam(req, 'id', 'verification'));
    // A malformed code is no check: it costs the user none of their five.
    if (!isWellFormedCode(code, v.code_length)) {
      throw new ApiError(400, 'invalid_request', `code must be ${v.code_length} digits`, [
        { field: 'code', message: `must be ${v.code_length} digits` },
      ]);
    }
    if (v.status !== 'pending') {
      res.json({ status: v.status, checksLeft: v.checks_left });
      return;
    }
    const asked = await checkVerification(ctx.temporal, v.id, checkProof(key, v.id, code));
    if (asked.closed) {
      const now = await closedRow(v);
      res.json({ status: now.status, checksLeft: now.checks_left });
      return;
    }
    res.json({ status: asked.answer.status, checksLeft: asked.answer.checksLeft });
  });

  router.post('/v1/verifications/:id/resend', auth, async (req, res) => {
    const v = await loadOwn(currentAccount(res).id, pathParam(req, 'id', 'verification'));
    secret();
    if (v.status !== 'pending') throw notPending(v);
    const asked = await resendVerification(ctx.temporal, v.id);
    if (asked.closed) throw notPending(await closedRow(v));
    if (asked.answer.outcome === 'not_pending') throw notPending(await reload(v));
    const answer = asked.answer;
    if (answer.outcome === 'cooldown') {
      throw tooManyRequests('resend_too_soon', 'wait before sending the code again', answer.retryAfterMs);
    }
    if (answer.outcome === 'no_sends_left') {
      throw new ApiError(409, 'no_sends_left', 'this verification has been sent as often as it may be');
    }
    // The row has the new send; the checks are counted in the workflow, whose answer says how many are left.
    res.json(toVerificationJson(await reload(v), answer.state));
  });

  router.post('/v1/verifications/:id/cancel', auth, async (req, res) => {
    const v = await loadOwn(currentAccount(res).id, pathParam(req, 'id', 'verification'));
    if (v.status !== 'pending') throw notPending(v);
    const asked = await cancelVerification(ctx.temporal, v.id);
    const now = asked.closed ? await closedRow(v) : await reload(v);
    if (now.status !== 'canceled' || (!asked.closed && asked.answer.status !== 'canceled'))
      throw notPending(now);
    res.json(toVerificationJson(now));
  });

  // A pending verification's checks are counted in its workflow (the row is written at decisions).
  router.get('/v1/verifications/:id', auth, async (req, res) => {
    const v = await loadOwn(currentAccount(res).id, pathParam(req, 'id', 'verification'));
    const live = v.status === 'pending' ? await verificationState(ctx.temporal, v.id) : undefined;
    res.json(toVerificationJson(v, live));
  });

  router.get('/v1/verifications', auth, async (req, res) => {
    const query = parseInput(listVerificationsQuery, req.query, 'query');
    let to: string | undefined;
    if (query.to !== undefined) {
      const phone = normalizePhone(query.to);
      if (!phone.ok) throw new ApiError(400, 'invalid_request', `query field "to": ${phone.reason}`);
      to = phone.e164;
    }
    try {
      const page = await listVerifications(ctx.db, currentAccount(res).id, {
        limit: query.limit,
        ...(query.status ? { status: query.status } : {}),
        ...(to ? { to } : {}),
        ...(query.cursor ? { cursor: query.cursor } : {}),
      });
      res.json({ data: page.data.map((v) => toVerificationJson(v)), nextCursor: page.nextCursor });
    } catch (err) {
      if (err instanceof InvalidCursorError) {
        throw new ApiError(400, 'invalid_request', 'query field "cursor" is invalid');
      }
      throw err;
    }
  });

  return router;
}

/** A hint for clients refused by a block: an admin must lift it, so not before an hour. */
const BLOCKED_RETRY_AFTER_MS = 3_600_000;

/** What the fraud guard's refusal is answered. */
function refused(refusal: GuardRefusal): ApiError {
  switch (refusal.reason) {
    case 'geo_blocked':
      return new ApiError(
        403,
        'geo_blocked',
        `verifications to ${refusal.country} are not enabled for this account`,
      );
    case 'rate_limited':
      return tooManyRequests(
        'rate_limited',
        `too many verifications for this ${refusal.scope}; retry later`,
        refusal.retryAfterMs,
      );
    case 'fraud_suspected':
      return tooManyRequests(
        'fraud_suspected',
        `verifications to this ${refusal.scope} are blocked: suspected SMS pumping`,
        BLOCKED_RETRY_AFTER_MS,
      );
  }
}

/** 409: the verification was already decided (its status says how). */
function notPending(v: Verification): ApiError {
  return new ApiError(409, 'invalid_state', `the verification is ${v.status}`);
}
