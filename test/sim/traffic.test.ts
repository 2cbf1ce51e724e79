import assert from "node:assert/strict";
import { test } from "node:test";
import { planTraffic } from "../../controller/src/sim/plan.ts";
import { expectedRate, largestStepUp } from "../../controller/src/sim/traffic.ts";
import { scenario } from "./helpers.ts";

const sum = (a: Float64Array, from: number, to: number): number => a.subarray(from, to).reduce((x, y) => x + y, 0);
const near = (got: number, want: number, tol: number, what: string): void =>
  assert.ok(Math.abs(got - want) <= tol * want, `${what}: got ${got}, want ${want} ±${tol * 100}%`);

const shapes = [
  { name: "constant", traffic: [{ untilS: 100, qps: 1000 }], windows: [[0, 100, 100_000]] },
  { name: "ramp from the previous rate", traffic: [{ untilS: 50, qps: 0 }, { untilS: 100, rampToQps: 2000 }], windows: [[0, 50, 0], [50, 100, 50_000]] },
  { name: "ramp with fromQps", traffic: [{ untilS: 100, fromQps: 1000, rampToQps: 3000 }], windows: [[0, 100, 200_000]] },
  // mean over whole periods is the base
  { name: "sine", traffic: [{ untilS: 100, sine: { base: 1000, amplitude: 800, periodS: 50 } }], windows: [[0, 100, 100_000], [0, 25, 25_000 + (800 * 50) / Math.PI]] },
  { name: "bursty", traffic: [{ untilS: 100, bursty: { onQps: 3000, offQps: 100, onS: 10, offS: 40 } }], windows: [[0, 40, 4000], [40, 50, 30_000], [50, 90, 4000]] },
  { name: "noise keeps the mean", traffic: [{ untilS: 2000, qps: 1000, noise: { cv: 0.2, periodS: 10 } }], windows: [[0, 2000, 2_000_000]] },
];
for (const s of shapes) {
  test(`traffic: ${s.name}`, () => {
    const durationS = s.traffic[s.traffic.length - 1]!.untilS;
    const plan = planTraffic(scenario({ durationS, traffic: s.traffic }));
    for (const [from, to, want] of s.windows) {
      if (want === 0) assert.equal(sum(plan.counts, from!, to!), 0);
      else near(sum(plan.counts, from!, to!), want!, s.name === "noise keeps the mean" ? 0.03 : 0.02, `${s.name} [${from}, ${to})`);
    }
  });
}

test("traffic: uniform arrivals are evenly spaced", () => {
  const plan = planTraffic(scenario({ durationS: 10, traffic: [{ untilS: 10, qps: 100, arrivals: "uniform" }] }));
  assert.ok(Array.from(plan.counts).every((c) => c >= 99 && c <= 101));
});

test("traffic: the largest step up (segment boundaries and burst edges)", () => {
  const spike = scenario({ durationS: 600, traffic: [{ untilS: 60, qps: 10 }, { untilS: 420, qps: 10000 }, { untilS: 600, qps: 10 }] });
  assert.deepEqual(largestStepUp(spike), { atS: 60, fromQps: 10, toQps: 10000 });
  const bursts = scenario({ durationS: 600, traffic: [{ untilS: 600, bursty: { onQps: 400, offQps: 20, onS: 30, offS: 150 } }] });
  assert.deepEqual(largestStepUp(bursts), { atS: 150, fromQps: 20, toQps: 400 });
  const ramp = scenario({ durationS: 600, traffic: [{ untilS: 300, rampToQps: 1000 }, { untilS: 600, qps: 1000 }] });
  assert.equal(largestStepUp(ramp), undefined);
  assert.equal(expectedRate(ramp, 150), 500);
});
