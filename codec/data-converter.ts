/**
 * The data converter of every Herald Temporal client and worker: payloads encrypted by the
 * AES-GCM codec, failure messages and stack traces encoded (and so encrypted) too.
 */
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec } from './aes-gcm-codec.ts';
import type { CodecKeyring } from './keys.ts';

/**
 * Absolute path of the failure converter (`DefaultFailureConverter({ encodeCommonAttributes: true })`).
 * Workers only take a failure converter by path, since the workflow sandbox bundles it; pass it
 * to `bundleWorkflowCode({ failureConverterPath })` when prebuilding a bundle.
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/** `{ payloadCodecs: [AES-GCM codec], failureConverterPath }` for `new Client(…)` and `Worker.create(…)`. */
export function heraldDataConverter(keyring: CodecKeyring): DataConverter {
  return {
    payloadCodecs: [new AesGcmPayloadCodec(keyring)],
    failureConverterPath: FAILURE_CONVERTER_PATH,
  };
}
