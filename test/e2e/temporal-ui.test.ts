/**
 * The Temporal UI of the `npm start` stack in Debian's headless Chromium (playwright-core): filter
 * by HeraldStatus, open a delivered message, and read its body decrypted through the codec server
 * when the codec endpoint carries the token; the same page without the token shows ciphertext
 * only. Screenshots land in test/artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, expect, it } from 'vitest';
import { freeDevStackPorts, printedApiKey, startDevStack, stopDevStacks } from '../support/dev-stack.ts';
import { waitForMessage } from '../support/stack.ts';

const projectRoot = resolve(import.meta.dirname, '../..');
const artifacts = join(projectRoot, 'test/artifacts');
const CHROMIUM = '/usr/bin/chromium';
const TO = '+14155552671';
const BODY = 'Your code is 123456';
const dataDir = mkdtempSync(join(tmpdir(), 'herald-ui-'));
let browser: Browser | undefined;

afterAll(async () => {
  await browser?.close();
  await stopDevStacks();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The page's visible text once the run's page shows `shown` (its input, decoded or not). */
async function visibleText(page: Page, messageId: string, shown: string | RegExp): Promise<string> {
  await page
    .getByRole('heading', { name: messageId })
    .filter({ visible: true })
    .first()
    .waitFor({ timeout: 30_000 });
  await page.getByText(shown).filter({ visible: true }).first().waitFor({ timeout: 30_000 });
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what an operator sees
  return page.locator('body').innerText();
}

/** The UI keeps its Data Encoder settings in local storage (keys of the UI's data-encoder store). */
type UiWindow = { localStorage: { setItem(key: string, value: string): void } };

it('the local Temporal UI shows a delivered message decrypted with no manual step; a tokenless codec endpoint shows ciphertext', async () => {
  expect(existsSync(CHROMIUM), 'Chromium missing: apt-get install -y chromium (.ci/run does)').toBe(true);
  mkdirSync(artifacts, { recursive: true });
  const ports = await freeDevStackPorts();
  const t0 = Date.now();
  const { output, seconds } = await startDevStack({ dataDir, ports, readyTimeoutMs: 60_000 });
  console.log(`npm start ready in ${seconds.toFixed(1)} s`);
  const endpointWithToken = /Codec \(UI\)\s+(\S+)/.exec(output)?.[1];
  expect(endpointWithToken).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${ports.codec}/t/\\S{16,}$`));
  const apiKey = printedApiKey(output);
  expect(apiKey).toBeDefined();
  const apiUrl = `http://127.0.0.1:${ports.api}`;
  const uiUrl = `http://127.0.0.1:${ports.ui}`;

  const res = await fetch(`${apiUrl}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: TO, body: BODY }),
  });
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  await waitForMessage(apiUrl, apiKey!, id, (m) => m.status === 'delivered', 30_000);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const codecStatuses = (page: Page): number[] => {
    const seen: number[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`http://127.0.0.1:${ports.codec}/`) && r.request().method() === 'POST') {
        seen.push(r.status());
      }
    });
    return seen;
  };

  // The operator of the local stack: a fresh browser, no settings touched. `npm start` gave the
  // dev server's UI the codec endpoint with its token.
  const operator = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await operator.newPage();
  const withToken = codecStatuses(page);
  const query = encodeURIComponent('HeraldStatus = "delivered"');
  await page.goto(`${uiUrl}/namespaces/default/workflows?query=${query}`);
  const row = page.locator(`a[href*="/workflows/${id}"]`).first();
  await row.waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(artifacts, 'temporal-ui-list.png'), fullPage: true });
  await row.click();
  const decrypted = await visibleText(page, id, BODY);
  expect(decrypted).toContain(`"body": "${BODY}"`);
  expect(decrypted).toContain(TO);
  await page.screenshot({ path: join(artifacts, 'temporal-ui-decrypted.png'), fullPage: true });
  expect(withToken.length).toBeGreaterThan(0);
  expect(withToken.every((s) => s === 200)).toBe(true);
  await operator.close();

  // A UI pointed at the codec server without the token (as production's UI is, behind its own
  // auth): the codec server answers 401 and the UI keeps the stored ciphertext.
  const stranger = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  await stranger.addInitScript((endpoint) => {
    const { localStorage } = globalThis as unknown as UiWindow;
    localStorage.setItem('endpoint', JSON.stringify(endpoint));
    localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
  }, `http://127.0.0.1:${ports.codec}`);
  const bare = await stranger.newPage();
  const withoutToken = codecStatuses(bare);
  await bare.goto(`${uiUrl}/namespaces/default/workflows/${id}`);
  // The input as stored: one long base64 string.
  const ciphertext = await visibleText(bare, id, /[A-Za-z0-9+/]{100,}/);
  expect(ciphertext).toContain('Codec Server could not connect');
  await bare.screenshot({ path: join(artifacts, 'temporal-ui-no-token.png'), fullPage: true });
  const html = await bare.content();
  for (const secret of [BODY, '123456', TO]) {
    expect(ciphertext, secret).not.toContain(secret);
    expect(html, secret).not.toContain(secret);
  }
  expect(withoutToken.length).toBeGreaterThan(0);
  expect(withoutToken.every((s) => s === 401)).toBe(true);
  await stranger.close();
  console.log(`stack, message and both browser sessions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}, 150_000);
