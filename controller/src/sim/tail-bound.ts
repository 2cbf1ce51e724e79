/**
 * `npx node controller/src/sim/tail-bound.ts <scenario.json> [--in-flight 1,8,16,...]`
 *
 * The physical bound on SLO attainment that per-request cost sets, before any autoscaling: for each
 * per-pod in-flight level n, the fraction of the scenario's requests whose own latency at a steady n in
 * flight (the model's latency at n × the request's cost × its jitter, no queueing) exceeds the SLO's
 * p99 objective. No policy can do better at that level; at the range's minimum it is the best possible.
 * Jitter is log-normal with mean 1 and the model's coefficient `jitter`, as in the simulator, and is
 * integrated exactly (no draw), so the figure is deterministic for the scenario's seed.
 */
import { Command } from "commander";
import { PodModel } from "./model.ts";
import { loadScenario } from "./scenario.ts";
import type { Scenario } from "./scenario-types.ts";
import { ArrivalStream } from "./traffic.ts";

/** Standard normal upper tail, P(Z > z) (Abramowitz–Stegun 7.1.26 via erfc; |error| < 1.5e-7). */
function upperTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) * Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

export interface TailBound {
  readonly inFlight: number;
  /** Latency of a cost-1 request at that in-flight, ms. */
  readonly latencyMs: number;
  /** Expected fraction of requests over the objective. */
  readonly overFraction: number;
}

/** The bound at each in-flight level (see the file comment). */
export function tailBound(sc: Scenario, levels: readonly number[]): { requests: number; bounds: TailBound[] } {
  const model = new PodModel(sc.model);
  const costs: number[] = [];
  const stream = new ArrivalStream(sc);
  const endMs = sc.durationS * 1000;
  for (let t = stream.next(); t < endMs; t = stream.next()) costs.push(stream.cost);
  const cv = sc.model.jitter;
  const bounds = levels.map((n) => {
    const l = model.latencyAt(n);
    let over = 0;
    for (const c of costs) {
      if (!(c > 0)) continue;
      // latency l·c·J > objective ⇔ J > q; ln J ~ N(−cv²/2, cv²)
      const q = sc.slo.p99Ms / (l * c);
      over += cv > 0 ? upperTail((Math.log(q) + (cv * cv) / 2) / cv) : q < 1 ? 1 : 0;
    }
    return { inFlight: n, latencyMs: l, overFraction: costs.length > 0 ? over / costs.length : 0 };
  });
  return { requests: costs.length, bounds };
}

const program = new Command()
  .name("tail-bound")
  .argument("<scenario>", "scenario JSON file")
  .option("--in-flight <list>", "comma-separated per-pod in-flight levels (default: the range minimum and a spread up to its maximum)")
  .action((file: string, opts: { inFlight?: string }) => {
    try {
      const sc = loadScenario(file);
      const { min, max } = sc.endpoint.concurrency;
      let levels: number[];
      if (opts.inFlight !== undefined) {
        levels = opts.inFlight.split(",").map((v) => Number(v.trim()));
        const bad = levels.find((v) => !(Number.isInteger(v) && v >= 1));
        if (bad !== undefined) throw new Error(`--in-flight: ${bad} is not allowed; expected integers ≥ 1`);
      } else {
        levels = [...new Set([min, ...[8, 16, 24, 32, 48, 64, 96, 128].filter((v) => v > min && v < max), max])];
      }
      const { requests, bounds } = tailBound(sc, levels);
      console.log(`scenario ${sc.name}: ${requests} requests; objective ${sc.slo.p99Ms} ms; a request's latency at n in flight = ${sc.model.kind} latency(n) × cost × jitter (cv ${sc.model.jitter}), no queueing`);
      console.log("in-flight per pod  latency(n) ms  over the objective  best SLO attainment");
      for (const b of bounds) {
        console.log(`${String(b.inFlight).padStart(17)}  ${b.latencyMs.toFixed(0).padStart(13)}  ${(b.overFraction * 100).toFixed(4).padStart(17)}%  ${((1 - b.overFraction) * 100).toFixed(4).padStart(18)}%`);
      }
    } catch (e) {
      console.error((e as Error).message);
      process.exitCode = 1;
    }
  });

if (import.meta.url === `file://${process.argv[1]}`) program.parse();
