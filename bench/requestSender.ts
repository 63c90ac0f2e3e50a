import { runClosed } from './closedLoad.js';
import { runPaced } from './pacedLoad.js';
import { makeRequestMix } from './requestMix.js';

/**
 * The sender of bench/requestCost.ts, a process of its own so that its CPU and garbage are not the service's:
 * `node requestSender.js <url> <seconds> <rate> <start>`. The bench's mix (requestMix.ts), starting after the
 * `start` requests already sent; closed loop with 20 connections when `rate` is 0, else paced at `rate` a
 * second. Prints how many requests were answered, as JSON.
 */
const [url, secondsText, rateText, startText] = process.argv.slice(2);
const next = makeRequestMix(Number(startText || 0));
const body = () => next().body;
const seconds = Number(secondsText);
const rate = Number(rateText || 0);
const answered = rate > 0 ? (await runPaced(url!, rate, seconds * 1000, body)).answered : (await runClosed(url!, 20, seconds, body)).total;
process.stdout.write(`${JSON.stringify({ answered })}\n`);
