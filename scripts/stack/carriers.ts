/**
 * The carrier part of a development stack: each simulator asked for is started on a socket and
 * seeded as a carrier (credentials, prices, tps) that points at it. The simulators' credentials
 * live here once for every stack (`npm start`, tests, benchmarks, the chaos run).
 */
import { resolve } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { startInfobipSimulator } from '../../simulators/infobip-sim.ts';
import type { RunningSimulator, SimConfig } from '../../simulators/sim-core.ts';
import { type RunningSmsc, type SmscConfigPatch, startSmscSimulator } from '../../simulators/smsc-sim.ts';
import { startTwilioSimulator } from '../../simulators/twilio-sim.ts';
import { startVonageSimulator } from '../../simulators/vonage-sim.ts';
import { startXmlAggSimulator } from '../../simulators/xml-agg-sim.ts';
import { loadCarrierFile } from '../carrier-file.ts';
import { type CarrierSeed, DEMO_PRICES, seedCarriers } from '../seed.ts';

const projectRoot = resolve(import.meta.dirname, '../..');

/** The simulators' credentials, and so the seeded carriers' (development only). */
export const SIM_CREDENTIALS = {
  twilio: { accountSid: 'AC00000000000000000000000000000000', authToken: 'demo-twilio-token' },
  vonage: { apiKey: 'demokey1', apiSecret: 'demo-vonage-secret' },
  smpp: { systemId: 'herald', password: 'smpp-pw' },
  infobip: { apiKey: 'infobip-test-key', webhookSecret: 'infobip-test-webhook-secret' },
} as const;

/** The configured XML carrier's definition (carriers/), seeded with the simulator's URL. */
export const XML_AGGREGATOR_FILE = resolve(projectRoot, 'carriers/xml-aggregator.json');

/** One simulated carrier: its simulator and what is seeded for it. */
export interface CarrierPart<Sim = Partial<SimConfig>> {
  /** Simulator port. Default 0: a free one. */
  readonly port?: number;
  /** Simulator behaviour (latency, faults, receipts). Default: the simulator's. */
  readonly sim?: Sim;
  /** Seed of the simulator's fault and receipt dice, for a repeatable run. Default: random. */
  readonly seed?: number;
  /** The carrier's `tps`. Default 100 (scripts/seed.ts). */
  readonly tps?: number;
  /** Country → price per segment. Default: DEMO_PRICES of its kind (none for the opt-in kinds). */
  readonly prices?: Readonly<Record<string, string>>;
  /** Merged into the adapter config (e.g. `timeoutMs`, `failoverReceiptCodes`). Default none. */
  readonly config?: Readonly<Record<string, unknown>>;
}

/** Which simulated carriers a stack runs; a kind left out is neither started nor seeded. */
export interface CarriersConfig {
  /** `twilio-sim`. */
  readonly twilio?: CarrierPart;
  /** `vonage-sim`. */
  readonly vonage?: CarrierPart;
  /** `smpp-sim` over the SMSC simulator (prices required: SMPP has no demo prices). */
  readonly smpp?: CarrierPart<SmscConfigPatch>;
  /** `infobip-sim` (prices required). */
  readonly infobip?: CarrierPart;
  /** `xml-aggregator` from {@link XML_AGGREGATOR_FILE} (its own prices and credentials). */
  readonly xmlAggregator?: CarrierPart;
}

/** The running simulators, by kind. */
export interface RunningCarriers {
  readonly twilio?: RunningSimulator;
  readonly vonage?: RunningSimulator;
  readonly smpp?: RunningSmsc;
  readonly infobip?: RunningSimulator;
  readonly xmlAggregator?: RunningSimulator;
}

/** Starts the simulators asked for (each close pushed onto `cleanups`) and seeds their carriers. */
export async function startCarriers(
  db: Kysely<Database>,
  config: CarriersConfig,
  cleanups: Array<() => Promise<unknown>>,
): Promise<RunningCarriers> {
  const seeds: CarrierSeed[] = [];
  const out: {
    twilio?: RunningSimulator;
    vonage?: RunningSimulator;
    smpp?: RunningSmsc;
    infobip?: RunningSimulator;
    xmlAggregator?: RunningSimulator;
  } = {};
  const seed = (
    part: CarrierPart<unknown>,
    id: string,
    kind: string,
    base: Record<string, unknown>,
    defaultPrices: Readonly<Record<string, string>> = {},
  ) =>
    ({
      id,
      kind,
      config: { ...base, ...part.config },
      ...(part.tps === undefined ? {} : { tps: part.tps }),
      prices: part.prices ?? defaultPrices,
    }) satisfies CarrierSeed;

  if (config.smpp) {
    const part = config.smpp;
    const sim = await startSmscSimulator({
      credentials: SIM_CREDENTIALS.smpp,
      ...simOptions(part),
    });
    cleanups.push(() => sim.close());
    out.smpp = sim;
    seeds.push(seed(part, 'smpp-sim', 'smpp', { host: sim.host, port: sim.port, ...SIM_CREDENTIALS.smpp }));
  }
  if (config.twilio) {
    const part = config.twilio;
    const sim = await startTwilioSimulator({ credentials: SIM_CREDENTIALS.twilio, ...simOptions(part) });
    cleanups.push(() => sim.close());
    out.twilio = sim;
    seeds.push(
      seed(part, 'twilio-sim', 'twilio', { baseUrl: sim.url, ...SIM_CREDENTIALS.twilio }, DEMO_PRICES.twilio),
    );
  }
  if (config.vonage) {
    const part = config.vonage;
    const sim = await startVonageSimulator({ credentials: SIM_CREDENTIALS.vonage, ...simOptions(part) });
    cleanups.push(() => sim.close());
    out.vonage = sim;
    seeds.push(
      seed(part, 'vonage-sim', 'vonage', { baseUrl: sim.url, ...SIM_CREDENTIALS.vonage }, DEMO_PRICES.vonage),
    );
  }
  if (config.infobip) {
    const part = config.infobip;
    const sim = await startInfobipSimulator({ credentials: SIM_CREDENTIALS.infobip, ...simOptions(part) });
    cleanups.push(() => sim.close());
    out.infobip = sim;
    seeds.push(seed(part, 'infobip-sim', 'infobip', { baseUrl: sim.url, ...SIM_CREDENTIALS.infobip }));
  }
  if (config.xmlAggregator) {
    const part = config.xmlAggregator;
    const file = loadCarrierFile(XML_AGGREGATOR_FILE);
    const fileConfig = file.config as {
      auth: { username: string; password: string };
      receipts: { auth: { secret: string } };
    };
    const sim = await startXmlAggSimulator({
      credentials: {
        username: fileConfig.auth.username,
        password: fileConfig.auth.password,
        webhookSecret: fileConfig.receipts.auth.secret,
      },
      ...simOptions(part),
    });
    cleanups.push(() => sim.close());
    out.xmlAggregator = sim;
    seeds.push(loadCarrierFile(XML_AGGREGATOR_FILE, { baseUrl: sim.url }));
  }
  await seedCarriers(db, seeds);
  return out;
}

/** What every simulator start takes from its part: behaviour, port and dice seed (when given). */
function simOptions<Sim>(part: CarrierPart<Sim>): {
  config: Sim | Record<string, never>;
  port?: number;
  seed?: number;
} {
  return {
    config: part.sim ?? {},
    ...(part.port === undefined ? {} : { port: part.port }),
    ...(part.seed === undefined ? {} : { seed: part.seed }),
  };
}
