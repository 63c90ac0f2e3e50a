import { removeTempDirs } from './makeTempDir.js';
import { startTestServer, stopTestServer } from './testDatabase.js';

export async function mochaGlobalSetup(): Promise<void> {
  await startTestServer();
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopTestServer();
  await removeTempDirs();
}
