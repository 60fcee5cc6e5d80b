/**
 * A verification code appears in no log line at any level (issue 12): the API and the worker run
 * as their production processes at LOG_LEVEL=debug (the lowest there is), every line they print
 * is kept, a verification is created, checked wrong, checked right and resent too early — and the
 * code is in none of the lines, while the lines do tell the story (they name the verification).
 */
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { type ComposedStack, composeStack } from '../../scripts/stack/compose.ts';
import { deriveCode } from '../../services/verification-codes.ts';
import { TEST_PG_ADMIN_URL } from '../support/db.ts';
import { apiClient } from '../support/stack.ts';

let stack: ComposedStack;
const lines: string[] = [];

beforeAll(async () => {
  stack = await composeStack({
    temporal: { kind: 'dev-server', cliPath: inject('temporalCliPath') },
    database: { kind: 'postgres', adminUrl: TEST_PG_ADMIN_URL, prefix: 'herald_test' },
    carriers: { twilio: {}, vonage: {} },
    apis: { mode: 'process' },
    workers: { mode: 'process', prebuiltBundle: true },
    processes: {
      env: { LOG_LEVEL: 'debug' },
      output: (name, line) => {
        lines.push(`[${name}] ${line}`);
      },
    },
  });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
});

it('never logs the code, at debug level, in the API or the worker', async () => {
  const [api] = stack.apis;
  if (!api) throw new Error('no API');
  const admin = apiClient(api.url, stack.adminApiKey);
  const created = await admin('POST', '/v1/accounts', { name: 'logs' });
  await admin('POST', `/v1/accounts/${created.body.id}/credits`, { amount: '1.00' });
  const call = apiClient(api.url, created.body.apiKey);

  const v = await call('POST', '/v1/verifications', { to: '+14155552671', codeLength: 10 });
  expect(v.status, JSON.stringify(v.body)).toBe(201);
  const code = deriveCode(stack.verifySecret, v.body.id, 10);
  // Resent too early (asked first: the cooldown runs from the first send, whatever the carrier's pace).
  expect((await call('POST', `/v1/verifications/${v.body.id}/resend`)).status).toBe(429);
  // A carrier got the code: the message really went out through the worker. Either carrier may
  // (routing picks by score), and under CI's load the first send can take well over 30 s.
  const deadline = Date.now() + 90_000;
  const sent = () =>
    [stack.carriers.twilio, stack.carriers.vonage].some((sim) =>
      sim?.acceptedSubmissions().some((s) => s.text?.includes(code)),
    );
  while (!sent() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  expect(sent(), JSON.stringify((await call('GET', `/v1/verifications/${v.body.id}`)).body)).toBe(true);
  const wrong = code.startsWith('0') ? '1111111111' : '0000000000';
  expect((await call('POST', `/v1/verifications/${v.body.id}/check`, { code: wrong })).body.status).toBe(
    'pending',
  );
  expect((await call('POST', `/v1/verifications/${v.body.id}/check`, { code })).body.status).toBe('approved');
  await new Promise((r) => setTimeout(r, 1_000));

  const text = lines.join('\n');
  // Debug lines from both processes, about this verification: the scan reads real logs.
  expect(lines.some((l) => l.startsWith('[api]') && l.includes('/v1/verifications'))).toBe(true);
  expect(lines.some((l) => l.startsWith('[worker]') && l.includes('"level":"debug"'))).toBe(true);
  expect(text).not.toContain(code);
}, 180_000);
