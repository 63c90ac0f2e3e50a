/**
 * Entry file, loaded before the application (`node --import ./dist/src/telemetry/instrumentation.js ...`),
 * so that the OpenTelemetry SDK is in place before any module that traces is loaded.
 */
import { startTracing } from './startTracing.js';

if (process.env.MONITORING_ENABLED !== 'false') startTracing();
