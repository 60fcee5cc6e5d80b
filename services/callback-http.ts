/**
 * One callback POST to an address checked beforehand (services/ssrf.ts): the connection goes to
 * that address, not to whatever the host resolves to a moment later, so a DNS answer that
 * changes between check and request (DNS rebinding) cannot redirect it. TLS still verifies the
 * certificate against the URL's host name. Redirects are not followed.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { ResolvedAddress } from './ssrf.ts';

/** The receiver's answer: its status and, when it sent one, `Retry-After` in milliseconds. */
export interface CallbackResponse {
  readonly status: number;
  readonly retryAfterMs?: number;
}

/** Most of a response body read (and thrown away) before the connection is dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs `body` to `url` over a connection to `address`.
 *
 * @throws on network errors and after `timeoutMs` without a complete answer.
 */
export function postToPinnedAddress(
  url: URL,
  address: ResolvedAddress,
  body: string,
  headers: Readonly<Record<string, string>>,
  timeoutMs: number,
): Promise<CallbackResponse> {
  const secure = url.protocol === 'https:';
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const request = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address.address,
        family: address.family,
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        // SNI and certificate checks use the name, never the pinned address.
        ...(secure && isIP(hostname) === 0 ? { servername: hostname } : {}),
        agent: false,
        headers: {
          ...headers,
          host: url.host,
          'content-length': String(Buffer.byteLength(body)),
        },
      },
      (res: IncomingMessage) => {
        let seen = 0;
        res.on('data', (chunk: Buffer) => {
          seen += chunk.length;
          if (seen > MAX_RESPONSE_BYTES) res.destroy();
        });
        const done = (): void => {
          const retryAfterMs = parseRetryAfter(res.headers['retry-after']);
          resolve({ status: res.statusCode ?? 0, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
        };
        res.once('end', done);
        res.once('close', done);
        res.once('error', done);
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.once('error', reject);
    req.end(body);
  });
}

/** `Retry-After` as seconds or an HTTP date → milliseconds from now. */
function parseRetryAfter(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
