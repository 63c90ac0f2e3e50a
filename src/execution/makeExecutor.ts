import type { Config } from '../config/parseConfig.js';
import type { Executor } from './executor.js';
import { makeForwardExecutor } from './forwardExecutor.js';
import { makePaperExecutor } from './paperExecutor.js';

export function makeExecutor(config: Pick<Config, 'executor' | 'forwardUrl' | 'forwardTimeoutMs' | 'forwardSigningSecret'>): Executor {
  if (config.executor === 'forward') {
    return makeForwardExecutor({ url: config.forwardUrl!, timeoutMs: config.forwardTimeoutMs, signingSecret: config.forwardSigningSecret });
  }
  return makePaperExecutor();
}
