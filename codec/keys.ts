/**
 * Payload-encryption keys: parsing `HERALD_CODEC_KEYS`, generating keys, and the key file
 * `npm start` keeps under its data directory. A key ring holds every key that may still decrypt
 * history; the current key id names the one new payloads are encrypted with.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

/** AES-256 keys are 32 bytes. */
export const KEY_BYTES = 32;
/** Key ids travel in payload metadata and in `id:key` lists, so no separators in them. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Keys by id. */
export type CodecKeys = ReadonlyMap<string, Buffer>;

/** Every key that may decrypt, and the id of the one that encrypts. */
export interface CodecKeyring {
  readonly keys: CodecKeys;
  readonly currentKeyId: string;
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function decodeKey(id: string, text: string): Buffer {
  if (!KEY_ID_PATTERN.test(id)) {
    throw new Error(`key id "${id}" must be 1–64 letters, digits, '.', '_' or '-'`);
  }
  const trimmed = text.trim();
  // Node's base64 decoder takes the URL-safe alphabet too.
  const key = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (key.length !== KEY_BYTES) {
    throw new Error(`key "${id}" must be ${KEY_BYTES} bytes in base64 (got ${key.length} bytes)`);
  }
  return key;
}

/**
 * Parses a key list: a JSON object `{"k1":"<base64>","k2":"<base64>"}` or `k1:<base64>,k2:<base64>`.
 *
 * @throws Error saying which key is wrong (never echoing key material).
 */
export function parseCodecKeys(text: string): Map<string, Buffer> {
  const source = text.trim();
  const entries: Array<[string, string]> = [];
  if (source.startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(source);
    } catch {
      throw new Error('is not valid JSON (expected {"<id>":"<base64 key>", …})');
    }
    const record = z.record(z.string(), z.string()).safeParse(parsed);
    if (!record.success) throw new Error('must map key ids to base64 strings');
    entries.push(...Object.entries(record.data));
  } else {
    for (const item of source.split(',')) {
      const at = item.indexOf(':');
      if (at <= 0) throw new Error('must be "<id>:<base64 key>" items separated by commas');
      entries.push([item.slice(0, at).trim(), item.slice(at + 1)]);
    }
  }
  if (entries.length === 0) throw new Error('holds no key');
  const keys = new Map<string, Buffer>();
  for (const [id, value] of entries) {
    if (keys.has(id)) throw new Error(`key id "${id}" appears twice`);
    keys.set(id, decodeKey(id, value));
  }
  return keys;
}

/** `id:base64,…`: the form `HERALD_CODEC_KEYS` takes when handed to child processes. */
export function formatCodecKeys(keys: CodecKeys): string {
  return [...keys].map(([id, key]) => `${id}:${key.toString('base64')}`).join(',');
}

/**
 * The ring for `keys` and an optional current id: with one key the id may be left out.
 *
 * @throws Error when the id is missing (several keys) or names no key.
 */
export function toKeyring(keys: CodecKeys, currentKeyId?: string): CodecKeyring {
  if (currentKeyId === undefined) {
    const [only, ...rest] = [...keys.keys()];
    if (only === undefined || rest.length > 0) {
      throw new Error('several keys are configured: say which one encrypts (the current key id)');
    }
    return { keys, currentKeyId: only };
  }
  if (!keys.has(currentKeyId))
    throw new Error(`the current key id "${currentKeyId}" names no configured key`);
  return { keys, currentKeyId };
}

/** A fresh random 256-bit key. */
export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** What `npm start` keeps in `<data dir>/codec-keys.json`. */
export interface CodecSecrets {
  readonly keyring: CodecKeyring;
  /** Bearer token of the codec server. */
  readonly token: string;
}

const secretsFileSchema = z.object({
  currentKeyId: z.string().regex(KEY_ID_PATTERN),
  keys: z.record(z.string(), z.string()),
  token: z.string().min(16),
});

/**
 * Reads the key file, or creates it (mode 0600) with one fresh key `k1` and a random token.
 * Rotating by hand: add a key to `keys`, point `currentKeyId` at it, keep the old ones.
 *
 * @throws Error naming the file when it exists but cannot be used.
 */
export function loadOrCreateCodecSecrets(file: string): CodecSecrets {
  if (!existsSync(file)) {
    const keyring: CodecKeyring = { keys: new Map([['k1', generateKey()]]), currentKeyId: 'k1' };
    const token = randomBytes(24).toString('base64url');
    const stored: z.infer<typeof secretsFileSchema> = {
      currentKeyId: keyring.currentKeyId,
      keys: Object.fromEntries([...keyring.keys].map(([id, key]) => [id, key.toString('base64')])),
      token,
    };
    writeFileSync(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    return { keyring, token };
  }
  try {
    const stored = secretsFileSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
    const keys = parseCodecKeys(JSON.stringify(stored.keys));
    return { keyring: toKeyring(keys, stored.currentKeyId), token: stored.token };
  } catch (err) {
    const why =
      err instanceof z.ZodError ? 'unexpected shape' : err instanceof Error ? err.message : String(err);
    throw new Error(
      `${file}: ${why}; fix it or delete it (history encrypted with its keys then becomes unreadable)`,
    );
  }
}
