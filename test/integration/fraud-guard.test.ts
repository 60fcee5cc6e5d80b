/**
 * The verification fraud guard on the real stack with its default settings (issue 12): SMS pumping
 * — 300 requests to sequential numbers of one prefix, none approved — meets the prefix's velocity
 * limit, then its automatic block, exactly at the documented thresholds; refused requests reach no
 * carrier and cost nothing; an admin sees the block and lifts it; a normal user in another prefix
 * keeps working throughout. On PostgreSQL and on embedded PGlite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberPrefix, PREFIX_AUTO_BLOCK, PREFIX_LIMIT } from '../../domain/fraud.ts';
import { deriveCode } from '../../services/verification-codes.ts';
import { ADMIN_KEY, apiClient, createFundedAccount, type Stack, startStack } from '../support/stack.ts';

const PUMPED = (i: number): string => `+14155550${String(i).padStart(3, '0')}`;
const NORMAL = (i: number): string => `+12125550${String(i).padStart(3, '0')}`;

describe.each(['postgres', 'pglite'] as const)('fraud guard on %s', (db) => {
  let stack: Stack;
  let account: { id: string; apiKey: string };
  let call: ReturnType<typeof apiClient>;
  const admin = () => apiClient(stack.apiUrl, ADMIN_KEY);

  beforeAll(async () => {
    stack = await startStack({ db });
    account = await createFundedAccount(stack.apiUrl, '10.00');
    call = apiClient(stack.apiUrl, account.apiKey);
  }, 120_000);
  afterAll(async () => {
    await stack?.stop();
  });

  /** The normal user: a verification in another prefix, its code typed in, approved. */
  async function normalUserVerifies(i: number): Promise<void> {
    const created = await call('POST', '/v1/verifications', { to: NORMAL(i) });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const code = deriveCode(stack.verifySecret, created.body.id, 6);
    const checked = await call('POST', `/v1/verifications/${created.body.id}/check`, { code });
    expect(checked.body.status).toBe('approved');
  }

  it('limits, then blocks the pumped prefix at the documented thresholds; lifting lets it through', async () => {
    const outcomes: string[] = [];
    const retryAfter: string[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 30 === 0) await normalUserVerifies(i / 30);
      const res = await fetch(`${stack.apiUrl}/v1/verifications`, {
        method: 'POST',
        headers: { authorization: `Bearer ${account.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ to: PUMPED(i) }),
      });
      const body = (await res.json()) as { error?: { code: string } };
      outcomes.push(res.status === 201 ? 'created' : `${res.status} ${body.error?.code}`);
      if (res.status === 429) retryAfter.push(res.headers.get('retry-after') ?? '');
    }
    const limited = PREFIX_LIMIT.max; // the 21st request is the first over the limit
    const blockedAt = PREFIX_AUTO_BLOCK.minAttempts - 1; // the 30th request trips the block
    expect(outcomes.slice(0, limited)).toEqual(Array(limited).fill('created'));
    expect(outcomes.slice(limited, blockedAt)).toEqual(Array(blockedAt - limited).fill('429 rate_limited'));
    expect(outcomes.slice(blockedAt)).toEqual(Array(300 - blockedAt).fill('429 fraud_suspected'));
    expect(retryAfter.every((s) => Number(s) >= 1)).toBe(true);

    // The admin sees the block with the counts that tripped it.
    const blocks = await admin()('GET', '/v1/fraud/blocks');
    expect(blocks.status).toBe(200);
    expect(blocks.body.data).toHaveLength(1);
    const [block] = blocks.body.data;
    expect(block).toMatchObject({
      scope: 'prefix',
      value: numberPrefix(PUMPED(0)),
      reason: 'low_conversion_spike',
      attempts: PREFIX_AUTO_BLOCK.minAttempts,
      verifications: PREFIX_LIMIT.max,
      approved: 0,
      liftedAt: null,
    });

    // Only the allowed requests made messages: the carrier saw 20 to the prefix, and 20 + the
    // normal user's 10 reservations are all the account paid for.
    const deadline = Date.now() + 20_000;
    const toPrefix = () =>
      stack.twilio.acceptedSubmissions().filter((s) => s.to.startsWith('+14155550')).length;
    while (toPrefix() < limited && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 500));
    expect(toPrefix()).toBe(limited);
    const messages = await stack.db
      .selectFrom('messages')
      .select('id')
      .where('account_id', '=', account.id)
      .execute();
    expect(messages).toHaveLength(limited + 10);
    const reserves = await stack.db
      .selectFrom('ledger_entries')
      .select('id')
      .where('account_id', '=', account.id)
      .where('kind', '=', 'reserve')
      .execute();
    expect(reserves).toHaveLength(limited + 10);

    // Operators see it in the metrics: the block, the refusals by reason, conversion by country.
    const metrics = await (await fetch(`${stack.apiUrl}/metrics`)).text();
    expect(metrics).toContain('herald_fraud_blocks{scope="prefix",reason="low_conversion_spike"} 1');
    expect(metrics).toContain(
      `herald_verification_requests_total{outcome="fraud_suspected"} ${300 - blockedAt}`,
    );
    expect(metrics).toContain(
      `herald_verification_requests_total{outcome="rate_limited"} ${blockedAt - limited}`,
    );
    expect(metrics).toMatch(/herald_verification_conversion_ratio\{country="US"\} 1\b/);

    // Lifted: the prefix takes verifications again, its count started afresh.
    expect((await admin()('DELETE', `/v1/fraud/blocks/${block.id}`)).status).toBe(200);
    expect((await admin()('DELETE', `/v1/fraud/blocks/${block.id}`)).status).toBe(404);
    expect((await admin()('GET', '/v1/fraud/blocks')).body.data).toHaveLength(0);
    expect((await call('POST', '/v1/verifications', { to: PUMPED(300) })).status).toBe(201);
    // The normal user never noticed.
    await normalUserVerifies(10);
  }, 180_000);

  it('refuses a country outside the account’s geo permissions with 403 until an admin allows it', async () => {
    const brazil = '+5511987654321';
    const refused = await call('POST', '/v1/verifications', { to: brazil });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('geo_blocked');
    const settings = await admin()('GET', `/v1/accounts/${account.id}/verification-settings`);
    expect(settings.body.allowedCountries).not.toContain('BR');
    const updated = await admin()('PUT', `/v1/accounts/${account.id}/verification-settings`, {
      allowedCountries: [...settings.body.allowedCountries, 'BR'],
    });
    expect(updated.status).toBe(200);
    expect(updated.body.allowedCountries).toContain('BR');
    // Allowed now; no carrier serves Brazil in the test stack, so the next answer is the route's.
    expect((await call('POST', '/v1/verifications', { to: brazil })).body.error?.code).toBe('no_route');
    expect(
      (await admin()('PUT', '/v1/accounts/acc_unknown/verification-settings', { allowedCountries: [] }))
        .status,
    ).toBe(404);
  });
});
