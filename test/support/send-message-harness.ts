/**
 * The message workflow (`sendMessageV2`) on a real Temporal dev server of its own, with fake activities: no
 * database, no carriers. Each message gets a script (what admit, submit and the failover
 * reservation answer) and every activity call is recorded. Used by test/workflow/ and by
 * test/support/record-histories.ts; free of vitest so the script can load it.
 */
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type WorkflowHandle, type WorkflowStartOptions } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { HeraldActivities } from '../../activities/index.ts';
import type {
  AdmitInput,
  AdmitResult,
  FinishInput,
  FinishResult,
  PlannedRoute,
  ReserveFailoverInput,
  SubmitInput,
  SubmitOutcome,
} from '../../activities/types.ts';
import { heraldDataConverter } from '../../codec/data-converter.ts';
import type { CodecKeyring } from '../../codec/keys.ts';
import { formatMoney, parseMoney } from '../../domain/money.ts';
import type { MessageStatus } from '../../domain/status.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/temporal-dev-server.ts';
import { installWorkerRuntime } from '../../workers/runtime.ts';
import {
  carrierTaskQueue,
  HeraldAccount,
  HeraldCountry,
  HeraldStatus,
  MAIN_TASK_QUEUE,
  MESSAGE_WORKFLOW_TYPE,
  progressQuery,
  type ReceiptSignal,
  receiptSignal,
  SEARCH_ATTRIBUTES,
  type SendMessageInput,
} from '../../workflows/definitions.ts';
import type { SendMessageResult, sendMessageV2 } from '../../workflows/send-message.ts';

/**
 * TEST ONLY — never configure this key anywhere else. A fixed key so the committed history
 * fixtures (test/fixtures/histories/) stay decryptable by the replay test; it protects nothing.
 */
export const TEST_ONLY_KEYRING: CodecKeyring = {
  keys: new Map([['test-only', Buffer.from('herald-test-only-not-a-secret!!!', 'utf8')]]),
  currentKeyId: 'test-only',
};

/** Herald's production data converter (AES-GCM codec, encoded failures) over {@link TEST_ONLY_KEYRING}. */
export function testDataConverter(): DataConverter {
  return heraldDataConverter(TEST_ONLY_KEYRING);
}

/** The workflow bundle's entry, as the production worker registers it. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('../../workflows/index.ts', import.meta.url));

/** Two carriers, ranked alpha first (cheaper). */
export const ALPHA: PlannedRoute = { carrierId: 'alpha', kind: 'fake', price: '0.007900', circuit: 'closed' };
export const BETA: PlannedRoute = { carrierId: 'beta', kind: 'fake', price: '0.008500', circuit: 'closed' };
export const CARRIER_IDS = [ALPHA.carrierId, BETA.carrierId] as const;

/** The identity recorded in history instead of `pid@hostname`, so fixtures name no machine. */
const IDENTITY = 'herald-workflow-tests';

/** What one message's activities answer. */
export interface MessageScript {
  /** admitMessage's answer. Default: reserved on [ALPHA, BETA], quoting the dearest route. */
  readonly admit?: AdmitResult;
  /** submitToCarrier's answer to the message's n-th submit (1-based). Default: accepted. */
  readonly submit?: (input: SubmitInput, n: number) => SubmitOutcome | Promise<SubmitOutcome>;
  /** reserveFailover's answer. Default true. */
  readonly reserveFailover?: boolean;
}

/** What each faked activity takes. */
export interface ActivityInputs {
  readonly admitMessage: AdmitInput;
  readonly submitToCarrier: SubmitInput;
  readonly reserveFailover: ReserveFailoverInput;
  readonly finishMessage: FinishInput;
  readonly settleCanceledMessage: { messageId: string };
}

/** One recorded activity call. */
export type ActivityCall = {
  [N in keyof ActivityInputs]: { readonly name: N; readonly input: ActivityInputs[N] };
}[keyof ActivityInputs];

/** The activities the message workflow proxies, as the real ones are typed. */
export type SendMessageActivities = Pick<
  HeraldActivities,
  'admitMessage' | 'submitToCarrier' | 'reserveFailover' | 'finishMessage' | 'settleCanceledMessage'
>;

/**
 * Hand-written fakes for the activities the message workflow calls, scripted per message id. The
 * settlement fake keeps the reservation arithmetic (captured + released = reserved) so a test
 * can read what a real settlement would have released.
 */
export class FakeActivities {
  readonly #scripts = new Map<string, MessageScript>();
  readonly #calls = new Map<string, ActivityCall[]>();
  readonly #reserved = new Map<string, bigint>();

  /** Sets what the message's activities answer; call before starting its workflow. */
  script(messageId: string, script: MessageScript): void {
    this.#scripts.set(messageId, script);
  }

  /** Every activity call for the message, in order. */
  calls(messageId: string): readonly ActivityCall[] {
    return this.#calls.get(messageId) ?? [];
  }

  /** The message's calls of one activity, in order. */
  callsTo<N extends keyof ActivityInputs>(messageId: string, name: N): ActivityInputs[N][] {
    return this.calls(messageId)
      .filter((c) => c.name === name)
      .map((c) => c.input as ActivityInputs[N]);
  }

  readonly activities: SendMessageActivities = {
    admitMessage: async (input: AdmitInput): Promise<AdmitResult> => {
      this.#record(input.messageId, { name: 'admitMessage', input });
      const answer = this.#scripts.get(input.messageId)?.admit ?? defaultAdmit(input.segments);
      if (answer.outcome === 'reserved') this.#reserve(input.messageId, parseMoney(answer.quote));
      return answer;
    },
    submitToCarrier: async (input: SubmitInput): Promise<SubmitOutcome> => {
      this.#record(input.messageId, { name: 'submitToCarrier', input });
      const n = this.callsTo(input.messageId, 'submitToCarrier').length;
      const submit = this.#scripts.get(input.messageId)?.submit;
      return submit ? submit(input, n) : accepted(input, n);
    },
    reserveFailover: async (input: ReserveFailoverInput): Promise<boolean> => {
      this.#record(input.messageId, { name: 'reserveFailover', input });
      const ok = this.#scripts.get(input.messageId)?.reserveFailover ?? true;
      if (ok) this.#reserve(input.messageId, parseMoney(input.amount));
      return ok;
    },
    finishMessage: async (input: FinishInput): Promise<FinishResult> => {
      this.#record(input.messageId, { name: 'finishMessage', input });
      const captured = parseMoney(input.capture) + parseMoney(input.failoverCapture ?? '0');
      const reserved = this.#reserved.get(input.messageId) ?? 0n;
      return { captured: formatMoney(captured), released: formatMoney(reserved - captured) };
    },
    // As the real one reads the attempt rows: the last accepted submit's carrier is charged its price.
    settleCanceledMessage: async (input: { messageId: string }) => {
      this.#record(input.messageId, { name: 'settleCanceledMessage', input });
      const submits = this.callsTo(input.messageId, 'submitToCarrier');
      const taken = submits.at(-1);
      if (!taken) return { status: 'canceled' as const, carrierId: null, captured: '0.000000' };
      const price = this.#scripts.get(input.messageId)?.admit;
      const route =
        price?.outcome === 'reserved' ? price.routes.find((r) => r.carrierId === taken.carrierId) : undefined;
      const perSegment = route
        ? parseMoney(route.price)
        : taken.carrierId === 'alpha'
          ? parseMoney(ALPHA.price)
          : parseMoney(BETA.price);
      return {
        status: 'expired' as const,
        carrierId: taken.carrierId,
        captured: formatMoney(perSegment * BigInt(taken.segments)),
      };
    },
  };

  #record(messageId: string, call: ActivityCall): void {
    const calls = this.#calls.get(messageId) ?? [];
    calls.push(call);
    this.#calls.set(messageId, calls);
  }

  #reserve(messageId: string, amount: bigint): void {
    this.#reserved.set(messageId, (this.#reserved.get(messageId) ?? 0n) + amount);
  }
}

function defaultAdmit(segments: number): AdmitResult {
  const worst = parseMoney(BETA.price) * BigInt(segments);
  return { outcome: 'reserved', routes: [ALPHA, BETA], quote: formatMoney(worst) };
}

/** A carrier acceptance with a carrier message id derived from the call. */
export function accepted(input: SubmitInput, n: number, receiptParts = 1): SubmitOutcome {
  return {
    ok: true,
    carrierMessageId: `${input.carrierId}-${n}`,
    segments: input.segments,
    receiptParts,
  };
}

/** A receipt as the webhook would signal it. */
export function receipt(
  carrierId: string,
  carrierMessageId: string,
  status: ReceiptSignal['status'],
  extra: Partial<Pick<ReceiptSignal, 'errorCode' | 'errorMessage'>> = {},
): ReceiptSignal {
  return { carrierId, carrierMessageId, status, carrierStatus: status, ...extra };
}

export type SendMessageHandle = WorkflowHandle<typeof sendMessageV2>;

/** Options of {@link startSendMessageHarness}. */
export interface SendMessageHarnessOptions {
  /** Absolute path of the `temporal` binary. */
  readonly cliPath: string;
}

export interface SendMessageHarness {
  readonly client: Client;
  readonly fakes: FakeActivities;
  readonly server: TemporalDevServer;
  /** Workflow input for a fresh message id, with `overrides` applied. */
  input(overrides?: Partial<SendMessageInput>): SendMessageInput;
  /** Starts the message workflow as the API does (id = message id, main queue, search attributes). */
  start(input: SendMessageInput): Promise<SendMessageHandle>;
  /** Polls the progress query until the status is `status`. */
  waitForStatus(handle: SendMessageHandle, status: MessageStatus, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A headless dev server on a free port with Herald's search attributes, a worker on the main
 * queue running the real workflows with the fakes, and one per carrier queue running the fake
 * submit. Everything uses {@link testDataConverter}.
 */
export async function startSendMessageHarness(opts: SendMessageHarnessOptions): Promise<SendMessageHarness> {
  installWorkerRuntime('warn');
  const server = await startTemporalDevServer({
    cliPath: opts.cliPath,
    port: 0,
    uiPort: false,
    searchAttributes: SEARCH_ATTRIBUTES,
  });
  const cleanups: Array<() => Promise<unknown>> = [() => server.stop()];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const dataConverter = testDataConverter();
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, dataConverter, identity: IDENTITY });
    const nc = await NativeConnection.connect({ address: server.address });
    cleanups.push(() => nc.close());
    const fakes = new FakeActivities();
    const workerBase = { connection: nc, dataConverter, identity: IDENTITY } as const;
    const workers = [
      await Worker.create({
        ...workerBase,
        taskQueue: MAIN_TASK_QUEUE,
        workflowsPath: WORKFLOWS_PATH,
        activities: fakes.activities,
      }),
      ...(await Promise.all(
        CARRIER_IDS.map((id) =>
          Worker.create({
            ...workerBase,
            taskQueue: carrierTaskQueue(id),
            activities: { submitToCarrier: fakes.activities.submitToCarrier },
          }),
        ),
      )),
    ];
    const running = Promise.all(workers.map((w) => w.run()));
    cleanups.push(async () => {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await running;
    });

    return {
      client,
      fakes,
      server,
      input: (overrides = {}) => ({
        messageId: `msg_${randomUUID().replaceAll('-', '').slice(0, 20)}`,
        accountId: 'acc_workflow_test',
        to: '+15555550100',
        from: 'Herald',
        body: 'workflow test',
        country: 'US',
        encoding: 'GSM-7',
        segments: 1,
        validitySeconds: 60,
        ...overrides,
      }),
      start: (input) =>
        client.workflow.start<typeof sendMessageV2>(MESSAGE_WORKFLOW_TYPE, workflowOptions(input)),
      waitForStatus: async (handle, status, timeoutMs = 15_000) => {
        const deadline = Date.now() + timeoutMs;
        let last: MessageStatus | undefined;
        while (Date.now() < deadline) {
          last = (await handle.query(progressQuery)).status;
          if (last === status) return;
          await new Promise((r) => setTimeout(r, 50));
        }
        throw new Error(
          `${handle.workflowId}: status ${last ?? '?'} after ${timeoutMs} ms, wanted ${status}`,
        );
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The start options the API uses (services/message-workflow.ts), minus its UI summary. */
export function workflowOptions(input: SendMessageInput) {
  return {
    taskQueue: MAIN_TASK_QUEUE,
    workflowId: input.messageId,
    args: [input] as [SendMessageInput],
    workflowIdConflictPolicy: 'FAIL' as const,
    typedSearchAttributes: [
      { key: HeraldStatus, value: 'accepted' },
      { key: HeraldAccount, value: input.accountId },
      { key: HeraldCountry, value: input.country },
    ],
  } satisfies WorkflowStartOptions<typeof sendMessageV2>;
}

/** Signals a receipt, as the webhook does. */
export function signalReceipt(handle: SendMessageHandle, r: ReceiptSignal): Promise<void> {
  return handle.signal(receiptSignal, r);
}

export type { SendMessageResult };
