import { createServer } from 'node:net';

/**
 * Fails with a message naming PORT when another program listens there. Checked before the database and the
 * migrations start, so a second `npm start` says what is wrong at once. (A race with another program taking the
 * port later is still caught by the real listen.)
 */
export async function checkPortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new Error(
          err.code === 'EADDRINUSE'
            ? `PORT ${port} is already in use on ${host} (another instance of this service, or another program): stop it, or set PORT.`
            : `Cannot listen on ${host}:${port} (${err.code ?? err.message}): check HOST and PORT.`,
        ),
      );
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
