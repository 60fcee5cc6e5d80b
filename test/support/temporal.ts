/** Test helpers for the run's Temporal dev server (started by `test/global-setup.ts`). */
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';

/** gRPC address of the run's dev server, `127.0.0.1:PORT`. */
export function temporalAddress(): string {
  return inject('temporalAddress');
}

/** Absolute path of the `temporal` binary the run uses. */
export function temporalCliPath(): string {
  return inject('temporalCliPath');
}

/**
 * A client on the dev server's `default` namespace. The caller owns the connection:
 * `await client.connection.close()` in afterAll.
 */
export async function connectClient(): Promise<Client> {
  const connection = await Connection.connect({ address: temporalAddress() });
  return new Client({ connection, namespace: 'default' });
}
