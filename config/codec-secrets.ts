/** The key ring (and codec token) a process encrypts with, from its environment. */
import { type CodecKeyring, type CodecSecrets, loadOrCreateCodecSecrets, toKeyring } from '../codec/keys.ts';
import { ConfigError, type Env } from './env.ts';

/**
 * `HERALD_CODEC_KEYS` + `HERALD_CODEC_KEY_ID` as a key ring.
 *
 * @throws ConfigError when HERALD_CODEC_KEYS is unset (loadEnv already rejected bad values).
 */
export function keyringFromEnv(env: Env): CodecKeyring {
  if (!env.HERALD_CODEC_KEYS) {
    throw new ConfigError(
      'Missing required environment variable(s): HERALD_CODEC_KEYS (payload-encryption keys, e.g. k1:<base64 of 32 random bytes>)',
    );
  }
  return toKeyring(env.HERALD_CODEC_KEYS, env.HERALD_CODEC_KEY_ID);
}

/**
 * `npm start`'s keys and codec token: HERALD_CODEC_KEYS / HERALD_CODEC_KEY_ID and CODEC_TOKEN when
 * set, otherwise those kept in `file` (created with a fresh key and token on first start).
 */
export function devCodecSecrets(env: Env, file: string): CodecSecrets {
  const stored = env.HERALD_CODEC_KEYS && env.CODEC_TOKEN ? undefined : loadOrCreateCodecSecrets(file);
  const keyring = env.HERALD_CODEC_KEYS ? keyringFromEnv(env) : stored?.keyring;
  const token = env.CODEC_TOKEN ?? stored?.token;
  if (!keyring || !token) throw new Error('unreachable: the key file supplies what the env lacks');
  return { keyring, token };
}
