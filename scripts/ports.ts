import { createServer } from 'node:net';

/**
 * Asks the OS for a free TCP port on 127.0.0.1 (listen on port 0, read it, close).
 *
 * The port is free when this resolves; another process could still take it before the caller
 * binds it, so use it at once.
 */
export function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('getFreePort: the OS returned no TCP port'));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

/** Whether `port` on 127.0.0.1 can be bound right now (nothing else listens on it). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * A free port below Linux's ephemeral range (32768–60999), for a service started a little later at
 * a port chosen now: the OS never hands such a port to another process's `listen(0)` meanwhile,
 * which a port from {@link getFreePort} may be (a simulator took the API's port that way). Falls
 * back to {@link getFreePort} when 200 random tries in 20000–31999 find nothing free.
 */
export async function getFreeFixedPort(): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await isPortFree(port)) return port;
  }
  return getFreePort();
}
