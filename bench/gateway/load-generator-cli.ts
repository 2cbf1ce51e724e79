/**
 * CLI of the open-loop load generator, run as its own process by `bench:gateway` (so it can be pinned to a CPU
 * with `taskset` and does not share an event loop with the gateway agent):
 * `node bench/gateway/load-generator-cli.ts --url http://127.0.0.1:8080/invocations --rate 1000 --duration 4`.
 * Prints one line `RESULT <json OpenLoopSummary>` on stdout.
 */
import { Command } from "commander";
import { intOption, numberOption } from "../../controller/src/cli-options.ts";
import { runOpenLoop } from "./load-generator.ts";

const o = new Command()
  .name("load-generator")
  .description("Open-loop constant-rate HTTP/1.1 POST load on keep-alive connections; latency from the scheduled send time")
  .requiredOption("--url <url>", "target, http://127.0.0.1:<port>/<path>")
  .requiredOption("--rate <n>", "requests per second", numberOption("--rate", 1, 100_000))
  .requiredOption("--duration <s>", "seconds of timetable", numberOption("--duration", 0.1, 3600))
  .option("--body <json>", "request body", "{}")
  .option("--header <name:value>", "extra header (repeatable)", (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option("--max-connections <n>", "most keep-alive connections", intOption("--max-connections", 1, 10_000), 512)
  .parse()
  .opts<{ url: string; rate: number; duration: number; body: string; header: string[]; maxConnections: number }>();

const url = new URL(o.url);
if (url.protocol !== "http:") throw new Error(`--url: ${JSON.stringify(o.url)} is not allowed; only http:// URLs`);
const headers: Record<string, string> = {};
for (const h of o.header) {
  const i = h.indexOf(":");
  if (i <= 0) throw new Error(`--header: ${JSON.stringify(h)} is not allowed; must be "name: value"`);
  headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
}
const summary = await runOpenLoop({
  host: url.hostname,
  port: Number(url.port || 80),
  path: `${url.pathname}${url.search}`,
  headers,
  body: o.body,
  ratePerS: o.rate,
  durationS: o.duration,
  maxConnections: o.maxConnections,
});
process.stdout.write(`RESULT ${JSON.stringify(summary)}\n`);
