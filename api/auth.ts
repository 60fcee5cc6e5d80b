/**
 * Authentication: `Authorization: Bearer <key>`. Account keys resolve to an account through the
 * database (keys are stored hashed); the admin key is compared in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { Kysely } from 'kysely';
import { findAccountByApiKey } from '../db/accounts.ts';
import type { Account, Database } from '../db/schema.ts';
import { ApiError } from './errors.ts';

/** Requires a valid account key; the account is then available through {@link currentAccount}. */
export function requireAccount(db: Kysely<Database>): RequestHandler {
  return async (req, res, next) => {
    const key = bearerToken(req);
    const account = key === undefined ? undefined : await findAccountByApiKey(db, key);
    if (!account) throw unauthorized();
    res.locals.account = account;
    next();
  };
}

/**
 * Requires the admin key: 401 when it is missing or wrong, 403 when the caller presents a valid
 * account key instead (they are known, just not allowed).
 */
export function requireAdmin(db: Kysely<Database>, adminApiKey: string): RequestHandler {
  const adminDigest = digest(adminApiKey);
  return async (req, _res, next) => {
    const key = bearerToken(req);
    if (key === undefined) throw unauthorized();
    if (timingSafeEqual(digest(key), adminDigest)) {
      next();
      return;
    }
    if (await findAccountByApiKey(db, key))
      throw new ApiError(403, 'forbidden', 'this call needs the admin key');
    throw unauthorized();
  };
}

/** The account {@link requireAccount} authenticated for this request. */
export function currentAccount(res: Response): Account {
  const account: unknown = res.locals.account;
  if (account === undefined) throw new Error('currentAccount: the route is missing requireAccount');
  return account as Account;
}

function bearerToken(req: Request): string | undefined {
  const match = /^Bearer +(\S+) *$/i.exec(req.get('authorization') ?? '');
  return match?.[1];
}

function unauthorized(): ApiError {
  return new ApiError(401, 'unauthorized', 'missing or invalid API key (Authorization: Bearer <key>)');
}

/** Fixed-length digests, so timingSafeEqual never sees different lengths and leaks none. */
function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
