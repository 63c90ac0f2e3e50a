import { spawnSync } from 'node:child_process';

/**
 * Tools the observability-stack tests run: Debian packages, and Go, which builds Jaeger (collector and Jaeger
 * in one binary) from its module (otel/tools/build.sh). Each can be overridden by an environment variable.
 */
export const TOOLS = {
  prometheus: process.env.PROMETHEUS_BIN ?? 'prometheus',
  promtool: process.env.PROMTOOL_BIN ?? 'promtool',
  // Debian names the binary prometheus-alertmanager; upstream's is alertmanager (set ALERTMANAGER_BIN).
  alertmanager: process.env.ALERTMANAGER_BIN ?? 'prometheus-alertmanager',
  amtool: process.env.AMTOOL_BIN ?? 'amtool',
  dockerCompose: process.env.DOCKER_COMPOSE_BIN ?? 'docker-compose',
  caddy: process.env.CADDY_BIN ?? 'caddy',
  systemdAnalyze: process.env.SYSTEMD_ANALYZE_BIN ?? 'systemd-analyze',
  go: process.env.GO_BIN ?? 'go',
};

function available(bin: string): boolean {
  return !spawnSync(bin, ['--version'], { stdio: 'ignore' }).error;
}

/**
 * Skips the calling suite when a tool is missing, so `npm test` works on a machine with only Node.js, and says
 * how to install it. .ci/run installs the tools and sets STACK_TOOLS_REQUIRED=1: there a missing tool fails.
 */
export function requireTools(ctx: Mocha.Context, ...bins: string[]): void {
  const missing = bins.filter((b) => !available(b));
  if (missing.length === 0) return;
  const message = `${missing.join(', ')} not found: install Debian's prometheus, prometheus-alertmanager, docker-compose, caddy and systemd packages, and Go 1.24 or newer (.ci/run does)`;
  if (process.env.STACK_TOOLS_REQUIRED === '1') throw new Error(message);
  console.warn(`  skipped: ${message}`);
  ctx.skip();
}
