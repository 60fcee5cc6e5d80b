/**
 * The codec server the Temporal UI (and `temporal` CLI) calls to show payloads in clear:
 * `POST /encode` and `POST /decode` with `{ payloads: [{ metadata: { k: base64 }, data: base64 }] }`,
 * CORS for the UI's origin, and a bearer token compared in constant time.
 *
 * The token is accepted in `Authorization: Bearer <token>` or as a path prefix,
 * `/t/<token>/decode`: the UI appends `/decode` to the endpoint an operator configures, and only
 * sends an Authorization header to https endpoints behind its own login, so an endpoint of
 * `http://host:8888/t/<token>` is how an operator with the token gets clear text in the dev UI.
 * Without the token the server answers 401 with a non-JSON body, and the UI shows ciphertext.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';

/** Options of {@link startCodecServer}. */
export interface CodecServerOptions {
  readonly codec: PayloadCodec;
  /** Bearer token (≥ 16 characters). */
  readonly token: string;
  /** Origins allowed by CORS, e.g. `http://127.0.0.1:8233`; `*` allows any. Default: none. */
  readonly allowedOrigins?: readonly string[];
  /** Default 8888; 0 picks a free port. */
  readonly port?: number;
  /** Default `127.0.0.1`. */
  readonly host?: string;
  /** Largest request body. Default 4 MiB. */
  readonly maxBodyBytes?: number;
}

/** A listening codec server. */
export interface RunningCodecServer {
  /** `http://host:port`, without the token. */
  readonly url: string;
  /** The endpoint to paste into the UI's codec settings: `url/t/<token>`. */
  readonly endpointWithToken: string;
  close(): Promise<void>;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const base64 = z.string().regex(BASE64, 'must be base64');
const wirePayloadsSchema = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), base64).optional(),
      data: base64.optional(),
    }),
  ),
});
type WirePayloads = z.infer<typeof wirePayloadsSchema>;

const ROUTE = /^(?:\/t\/([^/]+))?\/+(encode|decode)\/?$/;
const ALLOW_HEADERS = 'Authorization, Content-Type, X-Namespace';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function fromWire(wire: WirePayloads): Payload[] {
  return wire.payloads.map((p) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
    ),
    data: new Uint8Array(Buffer.from(p.data ?? '', 'base64')),
  }));
}

function toWire(payloads: Payload[]): WirePayloads {
  return {
    payloads: payloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).flatMap(([k, v]) =>
          v ? [[k, Buffer.from(v).toString('base64')]] : [],
        ),
      ),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    })),
  };
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) throw new HttpError(413, 'request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Starts the codec server.
 *
 * @throws Error when the token is shorter than 16 characters or the port is taken.
 */
export async function startCodecServer(opts: CodecServerOptions): Promise<RunningCodecServer> {
  if (opts.token.length < 16) throw new Error('the codec server token must be at least 16 characters');
  const expected = digest(opts.token);
  // Comparing fixed-length digests keeps the check constant-time whatever the candidate's length.
  const tokenMatches = (candidate: string | undefined): boolean =>
    candidate !== undefined && timingSafeEqual(digest(candidate), expected);
  const origins = new Set(opts.allowedOrigins ?? []);
  const maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;

  const cors = (req: IncomingMessage, res: ServerResponse): void => {
    const origin = req.headers.origin;
    if (origin && (origins.has(origin) || origins.has('*'))) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    res.setHeader('Vary', 'Origin');
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    cors(req, res);
    const path = new URL(req.url ?? '/', 'http://codec').pathname;
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    const route = ROUTE.exec(path);
    if (!route) throw new HttpError(404, 'not found: POST /encode or /decode');
    if (req.method === 'OPTIONS') {
      // Preflight carries no credentials: answer it for any route so the real request can follow.
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', ALLOW_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      // Chromium asks before a page reaches a private-network address (Private Network Access).
      if (req.headers['access-control-request-private-network'] === 'true') {
        res.setHeader('Access-Control-Allow-Private-Network', 'true');
      }
      res.writeHead(204).end();
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, 'use POST');
    const header = req.headers.authorization;
    const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
    const pathToken = route[1] === undefined ? undefined : decodeURIComponent(route[1]);
    if (!tokenMatches(bearer) && !tokenMatches(pathToken)) throw new HttpError(401, 'unauthorized');

    let wire: WirePayloads;
    try {
      wire = wirePayloadsSchema.parse(JSON.parse(await readBody(req, maxBody)));
    } catch (err) {
      if (err instanceof HttpError) throw err;
      throw new HttpError(400, 'expected {"payloads":[{"metadata":{…base64},"data":"base64"}]}');
    }
    const payloads = fromWire(wire);
    let out: Payload[];
    try {
      out = route[2] === 'encode' ? await opts.codec.encode(payloads) : await opts.codec.decode(payloads);
    } catch (err) {
      throw new HttpError(422, err instanceof Error ? err.message : 'payloads could not be converted');
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(toWire(out)));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      const message = err instanceof HttpError ? err.message : 'internal error';
      // Plain text on purpose: the UI falls back to showing the payloads as stored.
      if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(message);
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8888, opts.host ?? '127.0.0.1', () => {
      server.off('error', fail);
      ok();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host === undefined || opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  const url = `http://${host}:${port}`;
  return {
    url,
    endpointWithToken: `${url}/t/${encodeURIComponent(opts.token)}`,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
