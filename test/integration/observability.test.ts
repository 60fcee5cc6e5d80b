/**
 * Metrics and logs through the whole stack: the API's /metrics and the worker's metrics server
 * (Herald's activity metrics + the Temporal runtime's) parse strictly as Prometheus text and move
 * when a message is delivered; the API's and the worker's JSON logs of that send carry the
 * message id and workflow id, never the number or the body.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger } from '../../api/log.ts';
import { type RunningApi, startApi } from '../../api/server.ts';
import { createLogger } from '../../observability/logger.ts';
import { PinoTemporalLogger } from '../../observability/temporal-logger.ts';
import { activityTelemetry } from '../../workers/activity-telemetry.ts';
import {
  createWorkerMetrics,
  findFreePort,
  startWorkerMetricsServer,
  type WorkerMetricsServer,
} from '../../workers/metrics.ts';
import { installWorkerRuntime } from '../../workers/runtime.ts';
import { parsePrometheusText, type Scrape } from '../support/prometheus-text.ts';
import {
  ADMIN_KEY,
  apiClient,
  createFundedAccount,
  type Stack,
  startStack,
  waitForMessage,
} from '../support/stack.ts';

const NUMBER = '+14155550142';
const BODY = 'Observability check: code 424242';

function capture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    text: () => chunks.join(''),
  };
}

async function scrape(url: string): Promise<Scrape> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

describe('metrics and logs', () => {
  const workerLog = capture();
  const apiLog = capture();
  const workerMetrics = createWorkerMetrics({ processMetrics: false });
  let stack: Stack;
  let api: RunningApi;
  let metricsServer: WorkerMetricsServer;

  beforeAll(async () => {
    // Before the stack: its own install is then a no-op, and the worker logs and exports here.
    const runtimePort = await findFreePort();
    const installed = installWorkerRuntime('info', {
      logger: new PinoTemporalLogger(
        createLogger({ level: 'info', service: 'worker', destination: workerLog.stream }),
      ),
      prometheusBindAddress: `127.0.0.1:${runtimePort}`,
    });
    expect(installed).toBe(true);
    stack = await startStack({ activityInterceptors: (db) => [activityTelemetry(workerMetrics, db)] });
    metricsServer = await startWorkerMetricsServer({
      metrics: workerMetrics,
      runtimeMetricsUrl: `http://127.0.0.1:${runtimePort}/metrics`,
    });
    // A second API on the same database and Temporal, whose log lines this test keeps.
    api = await startApi({
      db: stack.db,
      temporal: stack.client,
      adminApiKey: ADMIN_KEY,
      currency: 'USD',
      log: createJsonLogger('debug', apiLog.stream),
    });
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await metricsServer?.close();
    await stack?.stop();
  });

  it('the metrics move as a message is delivered, and the logs never show the number or body', async () => {
    const apiBefore = await scrape(`${api.url}/metrics`);
    const workerBefore = await scrape(metricsServer.url);
    expect(apiBefore.types.get('herald_messages')).toBe('gauge');
    expect(apiBefore.types.get('herald_submit_duration_seconds')).toBe('histogram');
    expect(apiBefore.types.get('herald_callback_attempts_total')).toBe('counter');
    expect(apiBefore.sum('herald_route_circuit_state', { state: 'closed' })).toBeGreaterThan(0);

    const account = await createFundedAccount(api.url, '5.00');
    const send = await apiClient(api.url, account.apiKey)('POST', '/v1/messages', { to: NUMBER, body: BODY });
    expect(send.status).toBe(202);
    const id: string = send.body.id;
    const done = await waitForMessage(api.url, account.apiKey, id, (m) => m.status === 'delivered');
    const carrier: string = done.carrier;

    const apiAfter = await scrape(`${api.url}/metrics`);
    const delta = (name: string, labels?: Record<string, string>): number =>
      apiAfter.sum(name, labels) - apiBefore.sum(name, labels);
    expect(delta('herald_messages', { status: 'delivered', carrier })).toBe(1);
    expect(delta('herald_submit_duration_seconds_count', { carrier, outcome: 'accepted' })).toBe(1);
    expect(delta('herald_receipt_latency_seconds_count', { carrier })).toBe(1);
    expect(delta('herald_ledger_micros_total', { kind: 'credit' })).toBe(5_000_000);
    expect(delta('herald_ledger_micros_total', { kind: 'capture' })).toBeGreaterThan(0);
    expect(apiAfter.sum('herald_balance_micros', { state: 'reserved' })).toBe(0);
    expect(apiAfter.sum('herald_api_process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const workerAfter = await scrape(metricsServer.url);
    const workerDelta = (name: string, labels?: Record<string, string>): number =>
      workerAfter.sum(name, labels) - workerBefore.sum(name, labels);
    expect(workerDelta('herald_worker_submit_duration_seconds_count', { carrier, outcome: 'accepted' })).toBe(
      1,
    );
    expect(workerDelta('herald_worker_activity_duration_seconds_count', { activity: 'finishMessage' })).toBe(
      1,
    );
    // The Temporal runtime's own metrics ride along and move too.
    const temporalNames = [...workerAfter.types.keys()].filter((n) => n.startsWith('temporal_'));
    expect(temporalNames.length).toBeGreaterThan(5);
    const temporalTotal = (s: Scrape): number =>
      s.samples
        .filter((x) => x.name.startsWith('temporal_') && x.name.endsWith('_total'))
        .reduce((a, x) => a + x.value, 0);
    expect(temporalTotal(workerAfter)).toBeGreaterThan(temporalTotal(workerBefore));

    // Logs: JSON lines naming the message, never its number or body.
    const apiText = apiLog.text();
    // Activity log lines may land a moment after the message settles: wait for the submit's.
    for (let i = 0; i < 50 && !workerLog.text().includes('"submit finished"'); i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const workerText = workerLog.text();
    const apiLines = apiText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(apiLines).toContainEqual(
      expect.objectContaining({ msg: 'request', route: '/v1/messages', status: 202, messageId: id }),
    );
    const workerLines = workerText
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(workerLines).toContainEqual(
      expect.objectContaining({ msg: 'submit finished', messageId: id, workflowId: id, outcome: 'accepted' }),
    );
    for (const text of [apiText, workerText]) {
      expect(text).not.toContain(NUMBER);
      expect(text).not.toContain(NUMBER.slice(2));
      expect(text).not.toContain(BODY);
      expect(text).not.toContain('424242');
    }
  }, 60_000);
});
