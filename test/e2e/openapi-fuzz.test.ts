/**
 * An OpenAPI-driven property-based fuzzer (schemathesis) over `/openapi.json` against the real
 * stack, once with an account key and once with the admin key: every generated request is answered
 * as the document says (status codes, bodies, headers, `Allow`), no 5xx. Exceptions the schema
 * cannot state (a number that is not real, an unknown cursor …) are listed with their reasons in
 * schemathesis.toml. A document loosened by hand makes it fail, so the check can fail.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runSchemathesis, schemathesisCli } from '../support/schemathesis.ts';
import { ADMIN_KEY, createFundedAccount, type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
let accountKey: string;
const scratch = mkdtempSync(join(tmpdir(), 'herald-fuzz-'));

beforeAll(async () => {
  await schemathesisCli();
  stack = await startStack();
  accountKey = (await createFundedAccount(stack.apiUrl, '5.00')).apiKey;
}, 300_000);
afterAll(async () => {
  await stack?.stop();
  rmSync(scratch, { recursive: true, force: true });
});

/** Bounded, reproducible runs: 20 examples per operation and phase, a fixed seed. */
const fuzz = (schema: string, key: string, extra: readonly string[] = []) =>
  runSchemathesis([
    schema,
    '--url',
    stack.apiUrl,
    '-H',
    `Authorization: Bearer ${key}`,
    '--checks',
    'all',
    '--max-examples',
    '20',
    '--seed',
    '20261205',
    '--workers',
    '1',
    ...extra,
  ]);

it.each([
  ['an account key', () => accountKey],
  ['the admin key', () => ADMIN_KEY],
])(
  'finds no disagreement and no 5xx with %s',
  async (_who, key) => {
    const { code, output } = await fuzz(`${stack.apiUrl}/openapi.json`, key());
    const summary = output.split('\n').filter((l) => /generated|failures|passed/.test(l));
    console.log(summary.join('\n'));
    // On a failure, the failures section (each with its curl to reproduce) is the message.
    const failures = output.indexOf('FAILURES');
    expect(
      code,
      failures >= 0 ? output.slice(failures, output.indexOf('WARNINGS', failures)) : output.slice(-4_000),
    ).toBe(0);
  },
  600_000,
);

it('fails on a document loosened by hand (the rotate grace period without its bounds)', async () => {
  const doc = (await (await fetch(`${stack.apiUrl}/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { requestBody: { content: Record<string, { schema: unknown }> } }>>;
  };
  const body = doc.paths['/v1/webhook-secret/rotate']?.post?.requestBody.content['application/json']
    ?.schema as {
    properties: { gracePeriodSeconds: { minimum?: number; maximum?: number } };
  };
  expect(body.properties.gracePeriodSeconds.maximum).toBeDefined();
  delete body.properties.gracePeriodSeconds.minimum;
  delete body.properties.gracePeriodSeconds.maximum;
  const file = join(scratch, 'loosened.json');
  writeFileSync(file, JSON.stringify(doc));
  // More examples than the bounded run: the body is optional, so many cases send none, and one run in
  // a few drew no out-of-range number among 20.
  const { code, output } = await fuzz(file, accountKey, [
    '--include-name',
    'POST /v1/webhook-secret/rotate',
    '--max-examples',
    '200',
  ]);
  expect(code, output.slice(-2_000)).not.toBe(0);
  expect(output).toMatch(/Schema-valid request rejected/);
}, 600_000);
