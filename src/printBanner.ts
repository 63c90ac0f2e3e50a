import type { Config } from './config/parseConfig.js';
import type { ResolvedSecrets } from './config/loadGeneratedSecrets.js';
import { WEBHOOK_PATH } from './http/webhookRoute.js';

/**
 * The alert message to paste into TradingView (strategy alert; for an indicator alert, write the action and
 * leave out the strategy placeholders). The position fields let the service infer alerts that never arrived:
 * each alert says which position came before it, which must be the position the previous alert left.
 */
export function alertTemplate(secret: string): string {
  return JSON.stringify(
    {
      secret,
      ticker: '{{exchange}}:{{ticker}}',
      action: '{{strategy.order.action}}',
      quantity: '{{strategy.order.contracts}}',
      price: '{{close}}',
      time: '{{timenow}}',
      interval: '{{interval}}',
      strategy: 'my-strategy',
      market_position: '{{strategy.market_position}}',
      position_size: '{{strategy.position_size}}',
      prev_market_position: '{{strategy.prev_market_position}}',
      prev_market_position_size: '{{strategy.prev_market_position_size}}',
    },
    null,
    2,
  );
}

/**
 * What the trader needs to connect TradingView, written to stdout (not the log stream). Secrets are shown in
 * full only on the start that generated them; later starts say where they are kept.
 */
export function printBanner(config: Config, secrets: ResolvedSecrets, localUrl: string, write: (s: string) => void = (s) => process.stdout.write(s)): void {
  const base = config.service.publicUrl ?? localUrl;
  const secretFile = `${config.service.dataDir}/secrets.json`;
  const showSecret = secrets.generated.webhookSecret;
  const secret = showSecret ? (secrets.webhookSecrets[0] as string) : '<your webhook secret>';
  const lines = [
    '',
    `TradingView webhook service listening on ${localUrl}`,
    `Webhook URL for TradingView: ${base}${WEBHOOK_PATH}${config.service.publicUrl ? '' : '   (set PUBLIC_URL to your public https address)'}`,
    showSecret
      ? `A webhook secret was generated and saved in ${secretFile}.`
      : `Webhook secret: ${config.secrets.webhookSecrets ? 'from WEBHOOK_SECRETS' : `in ${secretFile}`}.`,
    secrets.generated.adminToken
      ? `Admin API token (Authorization: Bearer ...): ${secrets.adminToken}   (saved in ${secretFile})`
      : `Admin API token: ${config.secrets.adminToken ? 'from ADMIN_TOKEN' : `in ${secretFile}`}.`,
    'Alert message to paste into TradingView:',
    alertTemplate(secret),
    '',
  ];
  write(lines.join('\n') + '\n');
}
