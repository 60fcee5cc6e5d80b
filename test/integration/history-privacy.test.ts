/**
 * Raw Temporal history holds no phone number and no body in clear text: a client WITHOUT the
 * codec fetches a delivered message's history (workflow input, local and carrier activity inputs
 * and results, the receipt signal, search-attribute upserts, user metadata, any failure), and
 * every byte field is scanned as text. With the codec the same history decodes to the message.
 */
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { apiClient, createFundedAccount, type Stack, startStack, waitForMessage } from '../support/stack.ts';

const TO = '+14155552671';
const NATIONAL = '4155552671';
const BODY = 'Your code is 731946, privacy check';

let stack: Stack;
let plain: Client;

beforeAll(async () => {
  stack = await startStack();
  plain = new Client({ connection: await Connection.connect({ address: stack.temporal.address }) });
});
afterAll(async () => {
  await plain?.connection.close();
  await stack?.stop();
});

/** JSON of `value` where every byte array is shown as the text it holds (latin1, so no byte is lost). */
function asText(value: unknown): string {
  const walk = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return typeof v === 'bigint' ? v.toString() : v;
  };
  return JSON.stringify(walk(value));
}

/** Every Payload object in a protobuf tree (objects with a `data` byte array and `metadata`), by path. */
function payloadsIn(value: unknown, path = '', out: Array<[string, Payload]> = []): Array<[string, Payload]> {
  if (value instanceof Uint8Array || value === null || typeof value !== 'object') return out;
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && record.metadata && typeof record.metadata === 'object') {
    out.push([path, record as Payload]);
    return out;
  }
  for (const [key, child] of Object.entries(record)) payloadsIn(child, `${path}.${key}`, out);
  return out;
}

/**
 * Payloads stored plain by design, and scanned as text above like everything else: search
 * attributes (Temporal indexes them) and the local-activity marker's bookkeeping that the SDK core
 * writes (sequence number, activity type, times).
 */
const PLAIN_BY_DESIGN = [
  /\.searchAttributes\.indexedFields\./,
  /\.markerRecordedEventAttributes\.details\.data\./,
];
const encrypted = (history: unknown): Payload[] =>
  payloadsIn(history)
    .filter(([path]) => !PLAIN_BY_DESIGN.some((re) => re.test(path)))
    .map(([, p]) => p);

it('a delivered message leaves no number or body in clear in raw history; the codec decodes it', async () => {
  const account = await createFundedAccount(stack.apiUrl, '1.00');
  const api = apiClient(stack.apiUrl, account.apiKey);
  const sent = await api('POST', '/v1/messages', { to: TO, body: BODY });
  expect(sent.status).toBe(202);
  const delivered = await waitForMessage(
    stack.apiUrl,
    account.apiKey,
    sent.body.id,
    (m) => m.status === 'delivered',
  );
  // The row turns delivered inside the last step; the run closes just after it.
  await stack.client.workflow.getHandle(delivered.id).result();

  const history = await plain.workflow.getHandle(delivered.id).fetchHistory();
  const events = history.events ?? [];
  const kinds = new Set(events.map((e) => Object.keys(e).find((k) => k.endsWith('EventAttributes'))));
  // The history really has the parts worth scanning.
  for (const kind of [
    'workflowExecutionStartedEventAttributes',
    'markerRecordedEventAttributes',
    'workflowExecutionSignaledEventAttributes',
    'upsertWorkflowSearchAttributesEventAttributes',
    'workflowExecutionCompletedEventAttributes',
  ]) {
    expect(kinds, kind).toContain(kind);
  }

  // Admit, submit (a local activity: its request is in no event at all, its result in a marker)
  // and settle; no patch marker (sendMessageV2 has none).
  expect(events.flatMap((e) => e.markerRecordedEventAttributes?.markerName ?? [])).toEqual([
    'core_local_activity',
    'core_local_activity',
    'core_local_activity',
  ]);

  const raw = asText(history);
  // The scan can see text: ids and search attributes are stored plain.
  expect(raw).toContain(delivered.id);
  expect(raw).toContain('delivered');
  for (const secret of [TO, NATIONAL, BODY, '731946']) expect(raw, secret).not.toContain(secret);
  // Nothing a memo, summary or failure could carry either.
  const described = await plain.workflow.getHandle(delivered.id).describe();
  const describedText = asText(described.raw);
  for (const secret of [TO, NATIONAL, BODY]) expect(describedText, secret).not.toContain(secret);

  // Every payload is ciphertext, labelled with the key id.
  const payloads = encrypted(history);
  expect(payloads.length).toBeGreaterThan(5);
  for (const [path, p] of payloadsIn(history).filter(([x]) => !PLAIN_BY_DESIGN.some((re) => re.test(x)))) {
    expect(Buffer.from(p.metadata?.encoding ?? []).toString(), path).toBe('binary/encrypted');
    expect(Buffer.from(p.metadata?.['encryption-key-id'] ?? []).toString()).toBe(stack.keyring.currentKeyId);
  }

  // With the codec, the workflow input decodes to the message (the submit runs as a local
  // activity: its input is in no event).
  const started = events.find((e) => e.workflowExecutionStartedEventAttributes)!;
  const [input] = await stack.codec.decode([
    started.workflowExecutionStartedEventAttributes!.input!.payloads![0] as Payload,
  ]);
  expect(defaultPayloadConverter.fromPayload(input!)).toMatchObject({ to: TO, body: BODY });
  const decodedAll = await stack.codec.decode(payloads);
  expect(asText(decodedAll)).toContain(BODY);
});
