/**
 * The payload codec every Herald client and worker uses: each payload (metadata and data) is
 * sealed with AES-256-GCM under the current key; the key id rides in the outer metadata so any
 * key still in the ring decrypts it after a rotation.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import type { CodecKeyring } from './keys.ts';

/** `encoding` metadata of an encrypted payload. */
export const ENCODING_ENCRYPTED = 'binary/encrypted';
/** Metadata key naming the key a payload was encrypted with. */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** The sealed inner payload: the original metadata and data, base64. */
const innerSchema = z.object({
  metadata: z.record(z.string(), z.string()),
  data: z.string(),
});

function toInner(payload: Payload): Uint8Array {
  const metadata = Object.fromEntries(
    Object.entries(payload.metadata ?? {}).flatMap(([k, v]) =>
      v ? [[k, Buffer.from(v).toString('base64')]] : [],
    ),
  );
  const data = Buffer.from(payload.data ?? new Uint8Array()).toString('base64');
  return utf8.encode(JSON.stringify({ metadata, data }));
}

function fromInner(bytes: Uint8Array): Payload {
  const inner = innerSchema.parse(JSON.parse(fromUtf8.decode(bytes)));
  return {
    metadata: Object.fromEntries(
      Object.entries(inner.metadata).map(([k, v]) => [k, new Uint8Array(Buffer.from(v, 'base64'))]),
    ),
    data: new Uint8Array(Buffer.from(inner.data, 'base64')),
  };
}

/** Thrown when a payload cannot be decrypted: unknown key id, or tampered / wrong-key data. */
export class PayloadDecryptionError extends Error {
  override readonly name = 'PayloadDecryptionError';
}

/**
 * AES-256-GCM payload codec with key rotation by id.
 *
 * Encrypted data is `iv (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`; the key id is also the
 * additional authenticated data, so a payload cannot be relabelled to another key. Payloads
 * that are not `binary/encrypted` pass through `decode` unchanged (history written before
 * encryption was turned on stays readable).
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  readonly #keys: CodecKeyring['keys'];
  readonly #currentKeyId: string;
  readonly #currentKey: Buffer;

  constructor(keyring: CodecKeyring) {
    const current = keyring.keys.get(keyring.currentKeyId);
    if (!current) throw new Error(`the current key id "${keyring.currentKeyId}" names no key`);
    for (const [id, key] of keyring.keys) {
      if (key.length !== 32) throw new Error(`key "${id}" must be 32 bytes`);
    }
    this.#keys = keyring.keys;
    this.#currentKeyId = keyring.currentKeyId;
    this.#currentKey = current;
  }

  /** Id of the key new payloads are encrypted with. */
  get currentKeyId(): string {
    return this.#currentKeyId;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encodeOne(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decodeOne(payload));
  }

  /** Synchronous {@link encode} of one payload. */
  encodeOne(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#currentKey, iv);
    cipher.setAAD(utf8.encode(this.#currentKeyId));
    const sealed = Buffer.concat([iv, cipher.update(toInner(payload)), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: utf8.encode(ENCODING_ENCRYPTED),
        [KEY_ID_METADATA]: utf8.encode(this.#currentKeyId),
      },
      data: new Uint8Array(sealed),
    };
  }

  /** Synchronous {@link decode} of one payload. */
  decodeOne(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || fromUtf8.decode(encoding) !== ENCODING_ENCRYPTED) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    const keyId = idBytes ? fromUtf8.decode(idBytes) : '';
    const key = this.#keys.get(keyId);
    if (!key) throw new PayloadDecryptionError(`no key with id "${keyId}" to decrypt this payload`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadDecryptionError('encrypted payload is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8.encode(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return fromInner(plain);
    } catch (err) {
      throw new PayloadDecryptionError(
        `payload under key "${keyId}" does not decrypt (tampered or wrong key)`,
        {
          cause: err,
        },
      );
    }
  }
}
