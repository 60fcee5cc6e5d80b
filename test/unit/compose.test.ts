/**
 * The production shape, checked without Docker: docker-compose.yml parses, has the services,
 * health checks and start order it needs, and every variable a Herald service sets is one the
 * configuration schema reads, with the ones its entry point requires present and valid.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { formatCodecKeys, generateKey } from '../../codec/keys.ts';
import { ENV_KEYS, loadEnv } from '../../config/env.ts';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions.ts';

const root = resolve(import.meta.dirname, '../..');
const composeText = readFileSync(resolve(root, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(resolve(root, 'Dockerfile'), 'utf8');

const service = z.looseObject({
  image: z.string().optional(),
  build: z.unknown().optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  depends_on: z.record(z.string(), z.strictObject({ condition: z.string() })).optional(),
  healthcheck: z.looseObject({ test: z.union([z.string(), z.array(z.string())]) }).optional(),
  ports: z.array(z.string()).optional(),
});
const compose = z.looseObject({ services: z.record(z.string(), service) }).parse(parse(composeText));
const services = compose.services;

/** What the operator's `.env` would hold. */
const SAMPLE_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-secret',
  ADMIN_API_KEY: 'admin-key-0123456789abcdef',
  HERALD_CODEC_KEYS: formatCodecKeys(new Map([['k1', generateKey()]])),
  CODEC_TOKEN: 'codec-token-0123456789',
};

/** Compose's interpolation: `${V}`, `${V:-default}`, `${V:?error}`, `$$`. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\$|\$\{(\w+)(?::([-?])([^}]*))?\}/g,
    (whole, name?: string, op?: string, arg?: string) => {
      if (whole === '$$') return '$';
      const set = name ? env[name] : undefined;
      if (set !== undefined && set !== '') return set;
      if (op === '-') return arg ?? '';
      if (op === '?') throw new Error(`compose would refuse: ${arg}`);
      return '';
    },
  );
}

function envOf(name: string, env = SAMPLE_ENV): Record<string, string> {
  const raw = services[name]?.environment ?? {};
  return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, interpolate(String(v), env)]));
}

/** Services running the Herald image (built from this repository). */
const heraldServices = Object.entries(services)
  .filter(([, s]) => s.build !== undefined || s.image?.startsWith('herald'))
  .map(([name]) => name);

/** The TypeScript entry file a Herald service runs (`node --import tsx <file>`). */
function entryOf(name: string): string {
  const command = services[name]?.command;
  const parts = Array.isArray(command) ? command : (command ?? '').split(/\s+/);
  const file = parts.find((p) => p.endsWith('.ts'));
  if (!file) throw new Error(`${name}: command runs no .ts entry`);
  return file;
}

/** Variables an entry point insists on: its `requireEnv(loadEnv(), …)` list, plus codec keys if it reads them. */
function requiredBy(entry: string): string[] {
  const source = readFileSync(resolve(root, entry), 'utf8');
  const listed = /requireEnv\(\s*loadEnv\(\)\s*,([^)]*)\)/.exec(source)?.[1] ?? '';
  const keys = [...listed.matchAll(/'(\w+)'/g)].map((m) => m[1] ?? '');
  if (source.includes('keyringFromEnv(')) keys.push('HERALD_CODEC_KEYS');
  if (/DATABASE_URL/.test(source) && !keys.includes('DATABASE_URL')) keys.push('DATABASE_URL');
  return [...new Set(keys)];
}

describe('docker-compose.yml', () => {
  it('has the production services', () => {
    expect(Object.keys(services)).toEqual(
      expect.arrayContaining(['postgres', 'temporal', 'temporal-ui', 'api', 'worker', 'migrate']),
    );
    expect(heraldServices).toEqual(expect.arrayContaining(['api', 'worker', 'migrate', 'codec']));
  });

  it('runs Temporal on the PostgreSQL service', () => {
    const temporal = services.temporal;
    expect(temporal?.image).toMatch(/^temporalio\/auto-setup:/);
    expect(envOf('temporal')).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(envOf('temporal').POSTGRES_PWD).toBe(envOf('postgres').POSTGRES_PASSWORD);
    expect(temporal?.depends_on?.postgres?.condition).toBe('service_healthy');
  });

  it('gives the Temporal UI the codec endpoint, and the codec server the UI as a CORS origin', () => {
    const ui = envOf('temporal-ui');
    expect(ui.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toMatch(/^https?:\/\/[^/]+:8888$/);
    const uiPort = services['temporal-ui']?.ports?.[0]?.split(':')[0];
    expect(envOf('codec').CODEC_CORS_ORIGINS?.split(',')).toContain(`http://localhost:${uiPort}`);
  });

  it('registers every Herald search attribute', () => {
    const setup = JSON.stringify(services['temporal-setup']?.command);
    for (const name of SEARCH_ATTRIBUTES) expect(setup).toContain(name);
  });

  it('has health checks, and starts Herald only after migrations and on healthy dependencies', () => {
    for (const name of ['postgres', 'temporal', 'api', 'worker', 'codec']) {
      expect(services[name]?.healthcheck, `${name} health check`).toBeDefined();
    }
    for (const name of ['api', 'worker']) {
      const deps = services[name]?.depends_on ?? {};
      expect(deps.migrate?.condition).toBe('service_completed_successfully');
      expect(deps['temporal-setup']?.condition).toBe('service_completed_successfully');
    }
    expect(services.migrate?.depends_on?.postgres?.condition).toBe('service_healthy');
    // Every dependency names a service, and the graph has no cycle.
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (name: string): void => {
      if (done.has(name)) return;
      expect(visiting.has(name), `cycle through ${name}`).toBe(false);
      visiting.add(name);
      for (const dep of Object.keys(services[name]?.depends_on ?? {})) {
        expect(services[dep], `${name} depends on unknown ${dep}`).toBeDefined();
        visit(dep);
      }
      visiting.delete(name);
      done.add(name);
    };
    for (const name of Object.keys(services)) visit(name);
  });

  it('probes the ports the services listen on', () => {
    const api = envOf('api');
    expect(JSON.stringify(services.api?.healthcheck?.test)).toContain(`127.0.0.1:${api.PORT}/readyz`);
    const worker = envOf('worker');
    expect(JSON.stringify(services.worker?.healthcheck?.test)).toContain(
      `127.0.0.1:${worker.WORKER_METRICS_PORT}/metrics`,
    );
    expect(worker.WORKER_METRICS_HOST).toBe('0.0.0.0');
    expect(services.worker?.ports).toContain(`${worker.WORKER_METRICS_PORT}:${worker.WORKER_METRICS_PORT}`);
  });

  it('sets only variables the configuration schema knows, and parses with it', () => {
    for (const name of heraldServices) {
      const env = envOf(name);
      const unknown = Object.keys(env).filter((k) => !ENV_KEYS.includes(k));
      expect(unknown, `${name} sets variables config/env.ts does not read`).toEqual([]);
      expect(() => loadEnv(env), name).not.toThrow();
    }
  });

  it('sets every variable each entry point requires', () => {
    for (const name of heraldServices) {
      const entry = entryOf(name);
      expect(existsSync(resolve(root, entry)), `${name}: ${entry} exists`).toBe(true);
      const env = envOf(name);
      const missing = requiredBy(entry).filter((k) => !env[k]);
      expect(missing, `${name} (${entry}) misses required variables`).toEqual([]);
    }
    expect(requiredBy('api/main.ts')).toEqual(
      expect.arrayContaining(['DATABASE_URL', 'TEMPORAL_ADDRESS', 'ADMIN_API_KEY', 'HERALD_CODEC_KEYS']),
    );
  });

  it('refuses to start without its secrets', () => {
    expect(() => envOf('api', {})).toThrow(/compose would refuse/);
  });

  it('a variable the schema does not know is caught', () => {
    expect(ENV_KEYS).toContain('DATABASE_URL');
    expect(ENV_KEYS).not.toContain('DATABSE_URL');
  });
});

describe('Dockerfile', () => {
  it('builds on a glibc Node image and prebuilds the workflow bundle the worker uses', () => {
    const froms = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1] ?? '');
    expect(froms.length).toBeGreaterThan(0);
    for (const image of froms) {
      expect(image).toMatch(/^node:20-(bookworm|bullseye)/);
      expect(image).not.toMatch(/alpine/);
    }
    const bundled = /bundle-workflows\.ts\s+(\S+)/.exec(dockerfile)?.[1];
    expect(bundled).toBeDefined();
    expect(envOf('worker').WORKFLOW_BUNDLE_PATH).toBe(`/app/${bundled}`);
  });

  it('sets only variables the configuration schema knows', () => {
    const block = /^ENV\s+((?:.*\\\n)*.*)$/gm;
    const keys = [...dockerfile.matchAll(block)].flatMap((m) =>
      [...(m[1] ?? '').matchAll(/(\w+)=/g)].map((k) => k[1] ?? ''),
    );
    expect(keys).toContain('WORKFLOW_BUNDLE_PATH');
    expect(keys.filter((k) => k !== 'NODE_ENV' && !ENV_KEYS.includes(k))).toEqual([]);
  });
});
