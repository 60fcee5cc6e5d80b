/**
 * The API reference: a structurally valid OpenAPI 3.1 document, every Express route in it (and
 * nothing else), examples that parse with the same zod schemas, served at /openapi.json and /docs.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createApp } from '../../api/app.ts';
import { buildOpenApiDocument, ROUTE_DOCS, toOpenApiPath } from '../../api/openapi.ts';
import type { Database } from '../../db/schema.ts';
import { listExpressRoutes } from '../support/express-routes.ts';

/** An app whose routes are never called with a database here: building it touches neither. */
function offlineApp() {
  return createApp({
    db: {} as unknown as Kysely<Database>,
    temporal: {} as unknown as Client,
    adminApiKey: 'admin-key-0123456789',
    currency: 'USD',
    log: () => {},
  });
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
const JSON_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

const mediaType = z.strictObject({
  schema: z.record(z.string(), z.unknown()),
  example: z.unknown().optional(),
});
const parameter = z.strictObject({
  name: z.string().min(1),
  in: z.enum(['path', 'query', 'header', 'cookie']),
  required: z.boolean().optional(),
  description: z.string().optional(),
  schema: z.record(z.string(), z.unknown()),
  example: z.unknown().optional(),
});
const operation = z.strictObject({
  operationId: z.string().regex(/^[A-Za-z][A-Za-z0-9]*$/),
  summary: z.string().min(1),
  description: z.string().optional(),
  tags: z.array(z.string()).min(1),
  security: z.array(z.record(z.string(), z.array(z.string()))),
  parameters: z.array(parameter).optional(),
  requestBody: z
    .strictObject({ required: z.boolean().optional(), content: z.record(z.string(), mediaType) })
    .optional(),
  responses: z
    .record(
      z.string().regex(/^(?:[1-5]\d\d|default)$/),
      z.strictObject({ description: z.string().min(1), content: z.record(z.string(), mediaType).optional() }),
    )
    .refine((r) => Object.keys(r).length > 0, 'an operation needs at least one response'),
});
/** The parts of OpenAPI 3.1 this document uses, strictly (unknown keys are errors). */
const openApi31 = z.strictObject({
  openapi: z.string().regex(/^3\.1\.\d+$/),
  jsonSchemaDialect: z.literal('https://json-schema.org/draft/2020-12/schema').optional(),
  info: z.strictObject({
    title: z.string().min(1),
    version: z.string().min(1),
    description: z.string().optional(),
  }),
  servers: z.array(z.strictObject({ url: z.string() })).optional(),
  tags: z.array(z.strictObject({ name: z.string() })).optional(),
  components: z.strictObject({
    securitySchemes: z.record(
      z.string(),
      z.strictObject({ type: z.literal('http'), scheme: z.string(), description: z.string().optional() }),
    ),
    schemas: z.record(z.string(), z.record(z.string(), z.unknown())),
  }),
  paths: z.record(z.string().regex(/^\//), z.partialRecord(z.enum(METHODS), operation)),
});

/** Structural problems beyond the shape: path parameters, security names, $refs, JSON Schemas. */
function problemsOf(doc: unknown): string[] {
  const parsed = openApi31.safeParse(doc);
  if (!parsed.success) return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  const d = parsed.data;
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const [path, item] of Object.entries(d.paths)) {
    const templated = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(item)) {
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (ids.has(op.operationId)) problems.push(`${where}: duplicate operationId ${op.operationId}`);
      ids.add(op.operationId);
      const declared = (op.parameters ?? []).filter((p) => p.in === 'path');
      for (const name of templated) {
        if (!declared.some((p) => p.name === name && p.required === true)) {
          problems.push(`${where}: path parameter ${name} not declared as required`);
        }
      }
      for (const p of declared) {
        if (!templated.includes(p.name)) problems.push(`${where}: path parameter ${p.name} not in the path`);
      }
      for (const requirement of op.security) {
        for (const name of Object.keys(requirement)) {
          if (!(name in d.components.securitySchemes))
            problems.push(`${where}: unknown security scheme ${name}`);
        }
      }
    }
  }
  const check = (node: Record<string, unknown>, at: string): void => {
    const ref = node.$ref;
    if (typeof ref === 'string') {
      const target = ref.startsWith('#/') ? resolvePointer(doc, ref.slice(2)) : undefined;
      if (target === undefined) problems.push(`${at}: unresolved $ref ${ref}`);
    }
    if ('$schema' in node) problems.push(`${at}: embedded $schema`);
    const type = node.type;
    const types = Array.isArray(type) ? type : type === undefined ? [] : [type];
    for (const t of types)
      if (typeof t !== 'string' || !JSON_TYPES.has(t)) problems.push(`${at}: bad type ${t}`);
    if (Array.isArray(node.required) && node.properties && typeof node.properties === 'object') {
      for (const r of node.required) {
        if (!(String(r) in node.properties)) problems.push(`${at}: required ${r} is not a property`);
      }
    }
  };
  walkSchemas(d.paths, '#/paths', check);
  for (const [name, schema] of Object.entries(d.components.schemas)) {
    walkSchemas(schema, `#/components/schemas/${name}`, check, true);
  }
  return problems;
}

/** Calls `visit` on every object under a `schema` key, recursively (examples and defaults skipped). */
function walkSchemas(
  value: unknown,
  at: string,
  visit: (node: Record<string, unknown>, at: string) => void,
  inSchema = false,
): void {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walkSchemas(v, `${at}/${i}`, visit, inSchema);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const node = value as Record<string, unknown>;
  if (inSchema) visit(node, at);
  for (const [k, v] of Object.entries(node)) {
    if (['example', 'examples', 'default', 'const', 'enum'].includes(k)) continue;
    walkSchemas(v, `${at}/${k}`, visit, inSchema || k === 'schema');
  }
}

function resolvePointer(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc;
  for (const part of pointer.split('/')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument();

  it('is structurally valid OpenAPI 3.1', () => {
    expect(problemsOf(doc)).toEqual([]);
  });

  it('the structural check fails on broken documents', () => {
    const broken = structuredClone(doc) as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const op = broken.paths['/v1/messages/{id}']?.get;
    expect(op).toBeDefined();
    if (op) op.parameters = [];
    expect(problemsOf(broken)).toContainEqual(expect.stringContaining('path parameter id not declared'));
    expect(problemsOf({ ...doc, openapi: '3.0.3' }).length).toBeGreaterThan(0);
    const badRef = structuredClone(doc) as { components: { schemas: Record<string, unknown> } };
    badRef.components.schemas = {};
    expect(problemsOf(badRef)).toContainEqual(expect.stringContaining('unresolved $ref'));
  });

  it('lists every Express route, and only those', () => {
    const routes = listExpressRoutes(offlineApp()).map(
      (r) => `${r.method.toUpperCase()} ${toOpenApiPath(r.path)}`,
    );
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(routes.length).toBeGreaterThan(10);
    expect(routes.filter((r) => !documented.includes(r))).toEqual([]);
    expect(documented.filter((r) => !routes.includes(r))).toEqual([]);
  });

  it('the route walk sees a route added to the app (the coverage check can fail)', () => {
    const app = offlineApp();
    app.get('/v1/undocumented/:x', (_req, res) => {
      res.end();
    });
    const paths = listExpressRoutes(app).map((r) => `${r.method} ${r.path}`);
    expect(paths).toContain('get /v1/undocumented/:x');
    expect(paths).toContain('post /v1/messages/:id/cancel');
  });

  it('every example parses with the zod schema it documents', () => {
    let checked = 0;
    for (const route of ROUTE_DOCS) {
      const where = `${route.method.toUpperCase()} ${route.path}`;
      if (route.body) {
        const r = route.body.schema.safeParse(route.body.example);
        expect(r.success, `${where} body example: ${r.error?.message}`).toBe(true);
        checked++;
      }
      for (const h of route.headers ?? []) {
        if (h.example === undefined) continue;
        expect(h.schema.safeParse(h.example).success, `${where} header ${h.name}`).toBe(true);
        checked++;
      }
      for (const [status, response] of Object.entries(route.responses)) {
        if (!response.schema || response.example === undefined) continue;
        const r = response.schema.safeParse(response.example);
        expect(r.success, `${where} ${status} example: ${r.error?.message}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(25);
  });

  it('a bad example is caught by its schema', () => {
    const send = ROUTE_DOCS.find((r) => r.method === 'post' && r.path === '/v1/messages');
    expect(send?.body?.schema.safeParse({ to: '+14155552671' }).success).toBe(false);
    const accepted = send?.responses[202];
    expect(accepted?.schema?.safeParse({ ...(accepted.example as object), quote: '0.01' }).success).toBe(
      false,
    );
  });

  it('request schemas come from the validating zod schemas', () => {
    const paths = doc.paths as Record<
      string,
      Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>
    >;
    const send = paths['/v1/messages']?.post?.requestBody?.content['application/json']?.schema;
    expect(send?.required).toEqual(['to', 'body']);
    expect(send?.additionalProperties).toBe(false);
    expect(Object.keys((send?.properties as object) ?? {})).toEqual(
      expect.arrayContaining(['to', 'body', 'from', 'callbackUrl', 'validitySeconds']),
    );
  });
});

describe('served reference', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const app = offlineApp();
    server = await new Promise<Server>((ok) => {
      const s = app.listen(0, '127.0.0.1', () => ok(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((ok) => server.close(ok));
  });

  it('GET /openapi.json answers the document', async () => {
    const res = await fetch(`${base}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
  });

  it('GET /docs redirects to /docs/, which loads Swagger UI from the installed package', async () => {
    const redirect = await fetch(`${base}/docs`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(new URL(redirect.headers.get('location') ?? '', `${base}/docs`).pathname).toBe('/docs/');
    const page = await fetch(`${base}/docs/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui-bundle.js');
    expect(html).toContain("'../openapi.json'");
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${base}/docs/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    expect((await fetch(`${base}/docs/swagger-ui.css`)).status).toBe(200);
  });
});
