import type { Config } from '../config/parseConfig.js';
import type { Executor } from './executor.js';
import { makeForwardExecutor } from './forwardExecutor.js';
import { makePaperExecutor } from './paperExecutor.js';

export function makeExecutor(config: Pick<Config, 'execution'>): Executor {
  if (config.execution.executor === 'forward') {
    return makeForwardExecutor({ url: config.execution.forwardUrl!, timeoutMs: config.execution.forwardTimeoutMs, signingSecret: config.execution.forwardSigningSecret });
  }
  return makePaperExecutor();
}
