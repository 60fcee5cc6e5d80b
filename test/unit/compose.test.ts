/**
 * The production shape, checked without Docker: docker-compose.yml parses, has the services,
 * health checks and start order it needs, runs a Temporal server with task-queue Priority and
 * Fairness (>= 1.29, Fairness on in the dynamic config it mounts), registers every search attribute,
 * and every variable a Herald service sets is one the configuration schema reads, with the ones its
 * entry point requires present and valid.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { formatCodecKeys, generateKey } from '../../codec/keys.ts';
import { ENV_KEYS, loadEnv } from '../../config/env.ts';
import { WORKER_NODE_FLAGS, WORKER_PROCESS_ENV } from '../../config/worker-defaults.ts';
import { SEARCH_ATTRIBUTES } from '../../workflows/definitions.ts';

const root = resolve(import.meta.dirname, '../..');
const composeText = readFileSync(resolve(root, 'docker-compose.yml'), 'utf8');
const dockerfile = readFileSync(resolve(root, 'Dockerfile'), 'utf8');
const packageJson = z
  .looseObject({ scripts: z.record(z.string(), z.string()) })
  .parse(JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')));

const service = z.looseObject({
  image: z.string().optional(),
  build: z.unknown().optional(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  depends_on: z.record(z.string(), z.strictObject({ condition: z.string() })).optional(),
  healthcheck: z.looseObject({ test: z.union([z.string(), z.array(z.string())]) }).optional(),
  ports: z.array(z.string()).optional(),
  volumes: z.array(z.string()).optional(),
});
const compose = z.looseObject({ services: z.record(z.string(), service) }).parse(parse(composeText));
const services = compose.services;

/** What the operator's `.env` would hold. */
const SAMPLE_ENV: Record<string, string> = {
  POSTGRES_PASSWORD: 'pg-secret',
  ADMIN_API_KEY: 'admin-key-0123456789abcdef',
  HERALD_CODEC_KEYS: formatCodecKeys(new Map([['k1', generateKey()]])),
  CODEC_TOKEN: 'codec-token-0123456789',
  VERIFY_SECRET: 'verify-secret-0123456789abcdef0123456789',
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

/** A service's bind mounts from this repository: container path → absolute path here. */
function mountsOf(name: string): Map<string, string> {
  const mounts = new Map<string, string>();
  for (const volume of services[name]?.volumes ?? []) {
    const [source = '', target = ''] = volume.split(':');
    if (source.startsWith('./')) mounts.set(target, resolve(root, source));
  }
  return mounts;
}

/** The repository file a one-shot job runs: its command's script, found through its mounts. */
function scriptOf(name: string): string {
  const command = services[name]?.command;
  const parts = Array.isArray(command) ? command : (command ?? '').split(/\s+/);
  const mounts = mountsOf(name);
  const file = parts.map((p) => mounts.get(p)).find((f) => f !== undefined);
  if (!file) throw new Error(`${name}: command runs no script mounted from the repository`);
  expect(existsSync(file), `${name}: ${file} exists`).toBe(true);
  return readFileSync(file, 'utf8');
}

/** `temporalio/<repo>:<major>.<minor>.<patch>` → its parts. */
function temporalImage(image: string | undefined): { repo: string; version: [number, number, number] } {
  const m = /^temporalio\/([\w-]+):(\d+)\.(\d+)\.(\d+)$/.exec(image ?? '');
  if (!m) throw new Error(`not a pinned temporalio image: ${image}`);
  return { repo: m[1] ?? '', version: [Number(m[2]), Number(m[3]), Number(m[4])] };
}

/** Temporal's dynamic config file format: key → list of `{ value, constraints }`. */
const dynamicConfigSchema = z.record(
  z.string(),
  z.array(z.strictObject({ value: z.unknown(), constraints: z.record(z.string(), z.unknown()).optional() })),
);

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
      expect.arrayContaining([
        'postgres',
        'temporal-schema',
        'temporal',
        'temporal-setup',
        'temporal-ui',
        'api',
        'worker',
        'migrate',
      ]),
    );
    expect(heraldServices).toEqual(expect.arrayContaining(['api', 'worker', 'migrate', 'codec']));
  });

  it('runs a Temporal server with task-queue Priority and Fairness (>= 1.29)', () => {
    const server = temporalImage(services.temporal?.image);
    expect(server.repo).toBe('server');
    const [major, minor] = server.version;
    expect(major > 1 || (major === 1 && minor >= 29), `temporalio/server ${server.version.join('.')}`).toBe(
      true,
    );
    // The schema the server needs ships with admin-tools of the same version.
    for (const job of ['temporal-schema', 'temporal-setup']) {
      const tools = temporalImage(services[job]?.image);
      expect(tools.repo, job).toBe('admin-tools');
      expect(tools.version, job).toEqual(server.version);
    }
  });

  it('runs Temporal on the PostgreSQL service, after its schema job', () => {
    const temporal = services.temporal;
    const postgres = envOf('postgres');
    expect(envOf('temporal')).toMatchObject({
      DB: 'postgres12',
      DB_PORT: '5432',
      POSTGRES_SEEDS: 'postgres',
      POSTGRES_USER: postgres.POSTGRES_USER,
      POSTGRES_PWD: postgres.POSTGRES_PASSWORD,
      BIND_ON_IP: '0.0.0.0',
    });
    expect(temporal?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(temporal?.depends_on?.['temporal-schema']?.condition).toBe('service_completed_successfully');

    const schema = services['temporal-schema'];
    expect(schema?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(schema?.restart).toBe('no');
    expect(envOf('temporal-schema')).toMatchObject({
      POSTGRES_SEEDS: 'postgres',
      POSTGRES_USER: postgres.POSTGRES_USER,
      SQL_PASSWORD: postgres.POSTGRES_PASSWORD,
    });
    const script = scriptOf('temporal-schema');
    expect(script).toContain('temporal-sql-tool --plugin postgres12');
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) expect(script).toContain(step);
    for (const db of ['temporal:temporal', 'temporal_visibility:visibility']) expect(script).toContain(db);
    expect(script).toContain('/etc/temporal/schema/postgresql/v12');
  });

  it('mounts a dynamic config from the repository that turns Fairness on', () => {
    const path = envOf('temporal').DYNAMIC_CONFIG_FILE_PATH ?? '';
    expect(path).toMatch(/^\//);
    const file = mountsOf('temporal').get(path);
    expect(file, `${path} is mounted from the repository`).toBeDefined();
    expect(existsSync(file ?? ''), `${file} exists`).toBe(true);
    const config = dynamicConfigSchema.parse(parse(readFileSync(file ?? '', 'utf8')));
    expect(config['matching.enableFairness']).toEqual([{ value: true, constraints: {} }]);
    expect(config['system.forceSearchAttributesCacheRefreshOnRead']).toEqual([
      { value: false, constraints: {} },
    ]);
    // Production keeps the server's task-queue partitions (ordering is per partition).
    expect(config['matching.numTaskqueueReadPartitions']).toBeUndefined();
    expect(config['matching.numTaskqueueWritePartitions']).toBeUndefined();
  });

  it('gives the Temporal UI the codec endpoint, and the codec server the UI as a CORS origin', () => {
    const ui = envOf('temporal-ui');
    expect(ui.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(ui.TEMPORAL_CODEC_ENDPOINT).toMatch(/^https?:\/\/[^/]+:8888$/);
    const uiPort = services['temporal-ui']?.ports?.[0]?.split(':')[0];
    expect(envOf('codec').CODEC_CORS_ORIGINS?.split(',')).toContain(`http://localhost:${uiPort}`);
  });

  it('creates the namespace Herald uses and registers every Herald search attribute', () => {
    const setup = envOf('temporal-setup');
    expect(setup.TEMPORAL_ADDRESS).toBe('temporal:7233');
    for (const name of ['api', 'worker'])
      expect(envOf(name).TEMPORAL_NAMESPACE).toBe(setup.TEMPORAL_NAMESPACE);
    const registered = (setup.HERALD_SEARCH_ATTRIBUTES ?? '').split(/\s+/).filter(Boolean);
    expect([...registered].sort()).toEqual([...SEARCH_ATTRIBUTES].sort());
    expect(SEARCH_ATTRIBUTES).toContain('HeraldPriority');

    const script = scriptOf('temporal-setup');
    expect(script).toContain('temporal operator namespace create --namespace "$ns"');
    expect(script).toContain('*[Aa]lready*[Ee]xists*'); // a rerun finds the namespace there
    expect(script).toContain('for name in $HERALD_SEARCH_ATTRIBUTES');
    expect(script).toContain('search-attribute create --namespace "$ns" --name "$name" --type Keyword');
    expect(services['temporal-setup']?.depends_on?.temporal?.condition).toBe('service_healthy');
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
    expect(services['temporal-ui']?.depends_on?.temporal?.condition).toBe('service_healthy');
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
      // The worker's process-level variables (glibc's) are for the runtime, not Herald's config.
      const ours = (k: string) => !(name === 'worker' && k in WORKER_PROCESS_ENV);
      const unknown = Object.keys(env).filter((k) => ours(k) && !ENV_KEYS.includes(k));
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

  it('runs the worker with the node flags and process environment every worker gets', () => {
    const command = services.worker?.command;
    expect(Array.isArray(command) ? command : []).toEqual(expect.arrayContaining([...WORKER_NODE_FLAGS]));
    expect(envOf('worker')).toMatchObject(WORKER_PROCESS_ENV);
    // `npm run worker` and the image's note say the same.
    const script = packageJson.scripts.worker ?? '';
    for (const flag of WORKER_NODE_FLAGS) {
      expect(script).toContain(flag);
      expect(dockerfile).toContain(flag);
    }
    for (const [k, v] of Object.entries(WORKER_PROCESS_ENV)) {
      expect(script).toMatch(new RegExp(`\\b${k}=(\\$\\{${k}:-${v}\\}|${v}) `));
      expect(dockerfile).toContain(`${k}=${v} node`);
    }
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
