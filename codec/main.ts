/**
 * Production entry of the codec server (`tsx codec/main.ts`): HERALD_CODEC_KEYS, CODEC_TOKEN,
 * CODEC_PORT and CODEC_CORS_ORIGINS (the Temporal UI's origin) from the environment.
 */

import { keyringFromEnv } from '../config/codec-secrets.ts';
import { ConfigError, loadEnv, requireEnv } from '../config/env.ts';
import { AesGcmPayloadCodec } from './aes-gcm-codec.ts';
import { startCodecServer } from './server.ts';

async function main(): Promise<void> {
  const env = requireEnv(loadEnv(), 'HERALD_CODEC_KEYS', 'CODEC_TOKEN');
  const server = await startCodecServer({
    codec: new AesGcmPayloadCodec(keyringFromEnv(env)),
    token: env.CODEC_TOKEN,
    allowedOrigins: env.CODEC_CORS_ORIGINS ?? [],
    port: env.CODEC_PORT,
    // In a container the UI reaches it from outside.
    host: '0.0.0.0',
  });
  console.log(`codec: listening on ${server.url}`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
