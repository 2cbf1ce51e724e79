import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tailBound } from "../../controller/src/sim/tail-bound.ts";
import { scenario } from "./helpers.ts";

describe("tail bound: fraction over the objective at a steady in-flight", () => {
  // batching 100 + 10·n ms, objective 500 ms: a cost-1 request is late from n = 41 on
  const sc = (jitter: number) => scenario({ model: { kind: "batching", baseMs: 100, perRequestMs: 10, maxInFlight: 64, jitter }, slo: { p99Ms: 500, queueTimeoutMs: 1000 } });
  const table: { name: string; input: { jitter: number; n: number }; want: number }[] = [
    { name: "no jitter, under the objective: none late", input: { jitter: 0, n: 39 }, want: 0 },
    { name: "no jitter, over the objective: all late", input: { jitter: 0, n: 41 }, want: 1 },
    // latency 490 ms: late when J > 500/490; ln J ~ N(−0.02, 0.2²): P = 1 − Φ((ln(1.0204) + 0.02) / 0.2) = 1 − Φ(0.201) = 0.420
    { name: "log-normal jitter, integrated exactly", input: { jitter: 0.2, n: 39 }, want: 0.4203 },
  ];
  for (const { name, input, want } of table) {
    it(name, () => {
      const { requests, bounds } = tailBound(sc(input.jitter), [input.n]);
      assert.ok(requests > 50, String(requests)); // Poisson arrivals at 10/s for 10 s
      assert.ok(Math.abs(bounds[0]!.overFraction - want) < 0.001, String(bounds[0]!.overFraction));
    });
  }
});
