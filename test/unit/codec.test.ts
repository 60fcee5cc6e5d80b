import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type FailureConverter, type Payload } from '@temporalio/common';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AesGcmPayloadCodec,
  ENCODING_ENCRYPTED,
  KEY_ID_METADATA,
  PayloadDecryptionError,
} from '../../codec/aes-gcm-codec.ts';
import { FAILURE_CONVERTER_PATH, heraldDataConverter } from '../../codec/data-converter.ts';
import {
  formatCodecKeys,
  generateKey,
  loadOrCreateCodecSecrets,
  parseCodecKeys,
  toKeyring,
} from '../../codec/keys.ts';
import { devCodecSecrets } from '../../config/codec-secrets.ts';
import { ConfigError, loadEnv } from '../../config/env.ts';

const text = (bytes: Uint8Array | null | undefined): string => new TextDecoder().decode(bytes ?? undefined);
const k1 = generateKey();
const k2 = generateKey();
const b64 = (key: Buffer): string => key.toString('base64');

describe('AesGcmPayloadCodec', () => {
  const codec = new AesGcmPayloadCodec({ keys: new Map([['k1', k1]]), currentKeyId: 'k1' });

  it('round-trips any payload, and the ciphertext holds none of the clear text', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 8 }), async (body) => {
        const plain = defaultPayloadConverter.toPayload({ to: '+14155552671', body });
        const [sealed] = await codec.encode([plain]);
        expect(text(sealed!.metadata!.encoding)).toBe(ENCODING_ENCRYPTED);
        expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('k1');
        expect(Buffer.from(sealed!.data!).includes('+14155552671')).toBe(false);
        const [opened] = await codec.decode([sealed!]);
        expect(defaultPayloadConverter.fromPayload(opened!)).toEqual({ to: '+14155552671', body });
      }),
      { numRuns: 50 },
    );
  });

  it('uses a fresh IV: the same payload encrypts differently each time', async () => {
    const plain = defaultPayloadConverter.toPayload('same');
    const [a, b] = await codec.encode([plain, plain]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  it('passes unencrypted payloads through decode (history from before encryption)', async () => {
    const plain = defaultPayloadConverter.toPayload({ a: 1 });
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('rotates by id: new payloads use the current key, old ones still decrypt', async () => {
    const [old] = await codec.encode([defaultPayloadConverter.toPayload('before rotation')]);
    const rotated = new AesGcmPayloadCodec({
      keys: new Map([
        ['k1', k1],
        ['k2', k2],
      ]),
      currentKeyId: 'k2',
    });
    const [fresh] = await rotated.encode([defaultPayloadConverter.toPayload('after rotation')]);
    expect(text(fresh!.metadata![KEY_ID_METADATA])).toBe('k2');
    expect(defaultPayloadConverter.fromPayload((await rotated.decode([old!]))[0]!)).toBe('before rotation');
    // The old ring cannot read what the new key wrote.
    await expect(codec.decode([fresh!])).rejects.toThrow(/no key with id "k2"/);
  });

  it('refuses tampered data and a payload relabelled to another key', async () => {
    const both = new AesGcmPayloadCodec({
      keys: new Map([
        ['k1', k1],
        ['k2', k1],
      ]),
      currentKeyId: 'k1',
    });
    const [sealed] = await both.encode([defaultPayloadConverter.toPayload('secret')]);
    const flipped = Buffer.from(sealed!.data!);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    await expect(both.decode([{ ...sealed!, data: flipped }])).rejects.toBeInstanceOf(PayloadDecryptionError);
    // Same key bytes under another id: the id is authenticated, so this fails too.
    const relabelled: Payload = {
      ...sealed!,
      metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: new TextEncoder().encode('k2') },
    };
    await expect(both.decode([relabelled])).rejects.toBeInstanceOf(PayloadDecryptionError);
  });

  it('rejects a ring whose current id names no key', () => {
    expect(() => new AesGcmPayloadCodec({ keys: new Map([['k1', k1]]), currentKeyId: 'nope' })).toThrow(
      /names no key/,
    );
  });
});

describe('failure converter', () => {
  it('moves failure messages and stacks into an encoded payload, which the codec encrypts', async () => {
    const { failureConverter } = createRequire(import.meta.url)(FAILURE_CONVERTER_PATH) as {
      failureConverter: FailureConverter;
    };
    const failure = failureConverter.errorToFailure(
      new Error('carrier refused +14155552671'),
      defaultPayloadConverter,
    );
    expect(failure.message).toBe('Encoded failure');
    expect(failure.stackTrace).toBe('');
    const attributes = failure.encodedAttributes as Payload;
    expect(Buffer.from(attributes.data!).toString()).toContain('+14155552671');
    const [sealed] = await heraldDataConverter({
      keys: new Map([['k1', k1]]),
      currentKeyId: 'k1',
    }).payloadCodecs![0]!.encode([attributes]);
    expect(Buffer.from(sealed!.data!).toString('latin1')).not.toContain('+14155552671');
    // And back: the message is restored from the encoded attributes.
    expect(failureConverter.failureToError(failure, defaultPayloadConverter).message).toBe(
      'carrier refused +14155552671',
    );
  });
});

describe('key lists', () => {
  it('parses JSON and id:base64 lists, and formats back', () => {
    const fromList = parseCodecKeys(`k1:${b64(k1)}, k2:${b64(k2)}`);
    const fromJson = parseCodecKeys(JSON.stringify({ k1: b64(k1), k2: b64(k2) }));
    expect([...fromList.keys()]).toEqual(['k1', 'k2']);
    expect(fromJson.get('k2')!.equals(k2)).toBe(true);
    expect(parseCodecKeys(formatCodecKeys(fromList)).get('k1')!.equals(k1)).toBe(true);
    // URL-safe base64 works too.
    expect(
      parseCodecKeys(`k1:${k1.toString('base64url')}`)
        .get('k1')!
        .equals(k1),
    ).toBe(true);
  });

  it('says what is wrong without echoing key material', () => {
    expect(() => parseCodecKeys('k1:c2hvcnQ=')).toThrow(/key "k1" must be 32 bytes/);
    expect(() => parseCodecKeys('{"k1":')).toThrow(/not valid JSON/);
    expect(() => parseCodecKeys('just-a-key')).toThrow(/<id>:<base64 key>/);
    expect(() => parseCodecKeys(`bad id:${b64(k1)}`)).toThrow(/key id "bad id"/);
    expect(() => parseCodecKeys(`k1:${b64(k1)},k1:${b64(k2)}`)).toThrow(/appears twice/);
  });

  it('needs the current id when several keys are configured', () => {
    const keys = parseCodecKeys(`k1:${b64(k1)},k2:${b64(k2)}`);
    expect(() => toKeyring(keys)).toThrow(/say which one encrypts/);
    expect(toKeyring(keys, 'k2').currentKeyId).toBe('k2');
    expect(toKeyring(new Map([['only', k1]])).currentKeyId).toBe('only');
  });
});

describe('environment', () => {
  it('parses HERALD_CODEC_KEYS and HERALD_CODEC_KEY_ID', () => {
    const env = loadEnv({ HERALD_CODEC_KEYS: `k1:${b64(k1)},k2:${b64(k2)}`, HERALD_CODEC_KEY_ID: 'k2' });
    expect(env.HERALD_CODEC_KEYS?.size).toBe(2);
    expect(env.CODEC_PORT).toBe(8888);
  });

  it('fails with a message naming the variable', () => {
    expect(() => loadEnv({ HERALD_CODEC_KEYS: 'k1:AAAA' })).toThrow(
      /HERALD_CODEC_KEYS: key "k1" must be 32 bytes/,
    );
    expect(() => loadEnv({ HERALD_CODEC_KEYS: `k1:${b64(k1)}`, HERALD_CODEC_KEY_ID: 'k9' })).toThrow(
      /HERALD_CODEC_KEY_ID: the current key id "k9" names no configured key/,
    );
    expect(() => loadEnv({ HERALD_CODEC_KEYS: `k1:${b64(k1)},k2:${b64(k2)}` })).toThrow(
      /HERALD_CODEC_KEY_ID/,
    );
    expect(() => loadEnv({ CODEC_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadEnv({ CODEC_CORS_ORIGINS: 'not a url' })).toThrow(/CODEC_CORS_ORIGINS/);
    expect(
      loadEnv({ CODEC_CORS_ORIGINS: 'http://127.0.0.1:8233, http://localhost:8233' }).CODEC_CORS_ORIGINS,
    ).toEqual(['http://127.0.0.1:8233', 'http://localhost:8233']);
  });
});

describe('npm start key file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'herald-codec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is created once (mode 0600) and read back unchanged', () => {
    const file = join(dir, 'codec-keys.json');
    const first = loadOrCreateCodecSecrets(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadOrCreateCodecSecrets(file);
    expect(second.token).toBe(first.token);
    expect(second.keyring.currentKeyId).toBe(first.keyring.currentKeyId);
    expect(second.keyring.keys.get('k1')!.equals(first.keyring.keys.get('k1')!)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toHaveProperty('keys.k1');
  });

  it('gives way to the environment', () => {
    const file = join(dir, 'env-wins.json');
    const secrets = devCodecSecrets(
      loadEnv({ HERALD_CODEC_KEYS: `env:${b64(k2)}`, CODEC_TOKEN: 'an-env-token-of-some-length' }),
      file,
    );
    expect(secrets.keyring.currentKeyId).toBe('env');
    expect(secrets.token).toBe('an-env-token-of-some-length');
  });
});
