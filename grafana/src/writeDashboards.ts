import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LIVE_UID, makeLiveDashboard } from './liveDashboard.js';
import { makeOverviewDashboard, OVERVIEW_UID } from './overviewDashboard.js';
import { makeRequestsDashboard, REQUESTS_UID } from './requestsDashboard.js';

export const DASHBOARDS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'dashboards');

/**
 * Panel ids in order (1, 2, ...), fixed in the JSON rather than left to Grafana, so that links to one panel
 * (`/d/<uid>?viewPanel=<id>`, used by the alert rules' `dashboard` annotations) stay valid.
 */
function withPanelIds<T extends { panels?: Array<{ id?: number }> }>(dashboard: T): T {
  dashboard.panels?.forEach((panel, index) => (panel.id = index + 1));
  return dashboard;
}

/** Every dashboard as the JSON Grafana provisions, keyed by file name. */
export function renderDashboards(): Record<string, string> {
  return {
    [`${OVERVIEW_UID}.json`]: JSON.stringify(withPanelIds(makeOverviewDashboard().build()), null, 2) + '\n',
    [`${REQUESTS_UID}.json`]: JSON.stringify(withPanelIds(makeRequestsDashboard().build()), null, 2) + '\n',
    [`${LIVE_UID}.json`]: JSON.stringify(withPanelIds(makeLiveDashboard().build()), null, 2) + '\n',
  };
}

// `npm run dashboards`: writes grafana/dashboards/*.json (committed; a test fails when they are stale).
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  await mkdir(DASHBOARDS_DIR, { recursive: true });
  for (const [name, json] of Object.entries(renderDashboards())) {
    await writeFile(path.join(DASHBOARDS_DIR, name), json);
    console.log(`wrote grafana/dashboards/${name}`);
  }
}
