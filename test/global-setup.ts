/**
 * Vitest global setup: one in-memory Temporal dev server for the whole run, on a random port,
 * with Herald's search attributes registered. Tests reach it through `test/support/temporal.ts`.
 */
import type { TestProject } from 'vitest/node';
import { resolveTemporalCli } from '../scripts/temporal-cli.ts';
import { startTemporalDevServer } from '../scripts/temporal-dev-server.ts';
import { SEARCH_ATTRIBUTES } from '../workflows/definitions.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** gRPC address of the run's Temporal dev server, `127.0.0.1:PORT`. */
    temporalAddress: string;
    /** Absolute path of the `temporal` binary the server runs from. */
    temporalCliPath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cliPath = await resolveTemporalCli({ log: (msg) => console.log(`[global-setup] ${msg}`) });
  const server = await startTemporalDevServer({
    cliPath,
    port: 0,
    uiPort: false,
    searchAttributes: SEARCH_ATTRIBUTES,
  });
  project.provide('temporalAddress', server.address);
  project.provide('temporalCliPath', cliPath);
  return () => server.stop();
}
