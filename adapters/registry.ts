/** Carrier kind → adapter. Adding an HTTP carrier = one entry here plus its module. */
import type { z } from 'zod';
import { configuredCarrierSchema, createConfiguredHttpAdapter } from './configured-http.ts';
import { createInfobipAdapter, infobipConfigSchema } from './infobip.ts';
import { createSmppAdapter, smppConfigSchema } from './smpp.ts';
import { createTwilioAdapter, twilioConfigSchema } from './twilio.ts';
import type { CarrierAdapter } from './types.ts';
import { createVonageAdapter, vonageConfigSchema } from './vonage.ts';

/** The carrier kinds `createAdapter` knows. */
export const ADAPTER_KINDS = ['twilio', 'vonage', 'infobip', 'http-config', 'smpp'] as const;
export type AdapterKind = (typeof ADAPTER_KINDS)[number];

/** A carrier row as the registry needs it. */
export interface CarrierDefinition {
  readonly id: string;
  readonly kind: string;
  readonly config: unknown;
}

/**
 * Builds the adapter for a carrier: picks it by `kind` and validates `config` with that
 * adapter's schema. Throws an Error naming the carrier and each bad field.
 */
export function createAdapter(carrier: CarrierDefinition): CarrierAdapter {
  switch (carrier.kind) {
    case 'twilio':
      return createTwilioAdapter(parseConfig(carrier, twilioConfigSchema));
    case 'vonage':
      return createVonageAdapter(parseConfig(carrier, vonageConfigSchema));
    case 'infobip':
      return createInfobipAdapter(parseConfig(carrier, infobipConfigSchema));
    case 'http-config':
      return createConfiguredHttpAdapter(parseConfig(carrier, configuredCarrierSchema));
    case 'smpp':
      // Without a session (API, checks): submits fail over; the worker's own binds send.
      return createSmppAdapter(parseConfig(carrier, smppConfigSchema));
    default:
      throw new Error(
        `carrier "${carrier.id}": unknown adapter kind "${carrier.kind}" (known: ${ADAPTER_KINDS.join(', ')})`,
      );
  }
}

function parseConfig<S extends z.ZodType>(carrier: CarrierDefinition, schema: S): z.input<S> {
  const parsed = schema.safeParse(carrier.config ?? {});
  if (parsed.success) return parsed.data as z.input<S>;
  const fields = parsed.error.issues
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(config)'}: ${i.message}`)
    .join('; ');
  throw new Error(`carrier "${carrier.id}" (${carrier.kind}): invalid config: ${fields}`);
}
