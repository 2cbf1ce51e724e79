import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { decide } from "../../controller/src/engine/index.ts";
import { defaultEngineConfig, validateEngineConfig, type EngineConfig } from "../../controller/src/engine/config.ts";
import type {
  DecisionInput,
  EndpointSample,
  EndpointSpec,
  EngineMemory,
  ReplicaState,
  RuntimeKind,
} from "../../controller/src/engine/types.ts";
import { emptyVerticalMemory } from "../../controller/src/engine/vertical.ts";
import { points } from "./helpers.ts";

const NOW = 1_000_000;
const runs = { numRuns: 300 };

const specArb: fc.Arbitrary<EndpointSpec> = fc
  .record({
    cmin: fc.integer({ min: 1, max: 8 }),
    cspan: fc.integer({ min: 0, max: 250 }),
    scaleToZero: fc.boolean(),
    rmin: fc.integer({ min: 0, max: 5 }),
    rspan: fc.integer({ min: 0, max: 200 }),
    prov: fc.integer({ min: 0, max: 400 }),
    runtime: fc.constantFrom<RuntimeKind>("mlflow", "vllm", "triton", "custom"),
    slo: fc.option(fc.integer({ min: 10, max: 10_000 }), { nil: undefined }),
  })
  .map((r) => {
    const rmin = r.scaleToZero ? r.rmin : Math.max(1, r.rmin);
    const cmax = r.cmin + r.cspan;
    const rmax = Math.max(1, rmin + r.rspan);
    return {
      concurrency: { min: r.cmin, max: cmax },
      replicas: { min: rmin, max: rmax },
      provisionedConcurrency: r.scaleToZero ? 0 : Math.min(r.prov, cmax * rmax),
      scaleToZero: r.scaleToZero,
      runtime: r.runtime,
      ...(r.slo !== undefined ? { sloP99Ms: r.slo } : {}),
    };
  });

const stateArb: fc.Arbitrary<ReplicaState> = fc
  .record({
    desired: fc.integer({ min: 0, max: 250 }),
    ready: fc.integer({ min: 0, max: 250 }),
    starting: fc.integer({ min: 0, max: 20 }),
    unsched: fc.integer({ min: 0, max: 5 }),
    target: fc.integer({ min: 0, max: 300 }),
  })
  .map((r) => ({
    desiredReplicas: r.desired,
    readyReplicas: Math.min(r.ready, r.desired),
    startingReplicas: r.starting,
    unschedulableReplicas: r.unsched,
    targetConcurrency: r.target,
  }));

const sampleArb = fc.record({
  qps: fc.double({ min: 0, max: 20_000, noNaN: true }),
  serviceMs: fc.option(fc.double({ min: 0.5, max: 2000, noNaN: true }), { nil: undefined }),
  inFlight: fc.integer({ min: 0, max: 5000 }),
  queued: fc.integer({ min: 0, max: 5000 }),
  rejectFrac: fc.double({ min: 0, max: 1, noNaN: true }),
  ready: fc.integer({ min: 0, max: 50 }),
  cpu: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  kv: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  p99: fc.option(fc.double({ min: 1, max: 20_000, noNaN: true }), { nil: undefined }),
});

/** A history of `n` 1 s samples ending `lagMs` before NOW, with every `gapEvery`-th sample missing. */
const historyArb = fc
  .record({
    n: fc.integer({ min: 0, max: 330 }),
    lagMs: fc.constantFrom(0, 0, 0, 2000, 30_000),
    gapEvery: fc.constantFrom(0, 0, 2, 3),
    pattern: fc.array(sampleArb, { minLength: 1, maxLength: 6 }),
  })
  .map(({ n, lagMs, gapEvery, pattern }) => {
    const out: EndpointSample[] = [];
    for (let i = 0; i < n; i++) {
      if (gapEvery > 0 && i % gapEvery === 0) continue;
      const p = pattern[i % pattern.length]!;
      const rejections = Math.floor(p.qps * p.rejectFrac);
      out.push({
        atMs: NOW - lagMs - (n - 1 - i) * 1000,
        intervalMs: 1000,
        inFlight: p.inFlight,
        queued: p.queued,
        arrivals: Math.floor(p.qps),
        completions: Math.floor(p.qps) - rejections,
        rejections,
        ...(p.serviceMs !== undefined ? { serviceTimeMs: p.serviceMs } : {}),
        ...(p.p99 !== undefined ? { latencyP99Ms: p.p99 } : {}),
        pods: Array.from({ length: p.ready }, () => ({
          ready: true,
          ...(p.cpu !== undefined ? { cpuUtil: p.cpu } : {}),
          ...(p.kv !== undefined ? { kvCacheUtil: p.kv } : {}),
        })),
      });
    }
    return out;
  });

const memoryArb: fc.Arbitrary<EngineMemory | undefined> = fc.option(
  fc.record({
    ageMs: fc.integer({ min: 0, max: 900_000 }),
    sinceH: fc.integer({ min: 0, max: 10_000 }),
    sinceV: fc.integer({ min: 0, max: 60_000 }),
    recs: fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }),
    s0: fc.option(fc.double({ min: 0.5, max: 2000, noNaN: true }), { nil: undefined }),
  }).map((m) => ({
    lastHorizontalAtMs: NOW - m.sinceH,
    lastVerticalAtMs: NOW - m.sinceV,
    sinceMs: NOW - m.ageMs,
    recommendations: m.recs.map((r, i) => ({ atMs: NOW - 295_000 + i * 5000, replicas: r })),
    vertical: { ...emptyVerticalMemory, ...(m.s0 !== undefined ? { baselineServiceMs: m.s0, profile: points([1, m.s0]) } : {}) },
  })),
  { nil: undefined },
);

const inputArb: fc.Arbitrary<DecisionInput> = fc
  .record({ spec: specArb, state: stateArb, history: historyArb, memory: memoryArb })
  .map((r) => ({ ...r, nowMs: NOW }));

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const minReplicas = (s: EndpointSpec) => (s.scaleToZero ? 0 : Math.max(1, s.replicas.min));

function covered(history: readonly EndpointSample[], cfg: EngineConfig): boolean {
  const fresh = history.filter((s) => s.atMs > NOW - cfg.scaleDownWindowMs && s.atMs <= NOW);
  return fresh.length * cfg.sampleIntervalMs >= cfg.minWindowCoverage * cfg.scaleDownWindowMs;
}

describe("engine properties (fast-check)", () => {
  it("bounds are always respected, on every path", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decide(input);
        const { spec } = input;
        assert.ok(d.desiredReplicas >= minReplicas(spec) && d.desiredReplicas <= spec.replicas.max, `${d.desiredReplicas} (${d.replicasReason})`);
        assert.ok(Number.isInteger(d.desiredReplicas));
        assert.ok(Number.isInteger(d.targetConcurrency));
        assert.ok(d.targetConcurrency >= spec.concurrency.min && d.targetConcurrency <= spec.concurrency.max);
        assert.ok(d.nextRunAtMs > NOW);
      }),
      runs,
    );
  });

  it("missing, stale or gappy metrics never cause a scale-down", () => {
    fc.assert(
      fc.property(inputArb, (input) => {
        const cfg = defaultEngineConfig;
        const latest = input.history[input.history.length - 1];
        const stale = latest === undefined || latest.atMs < NOW - cfg.stalenessMs;
        fc.pre(stale || !covered(input.history, cfg));
        const d = decide(input);
        const held = clamp(input.state.desiredReplicas, minReplicas(input.spec), input.spec.replicas.max);
        assert.ok(d.desiredReplicas >= held, `${input.state.desiredReplicas} → ${d.desiredReplicas}: ${d.replicasReason} ${d.replicasMessage}`);
      }),
      runs,
    );
  });

  it("desired replicas are monotone in load", () => {
    fc.assert(
      fc.property(
        specArb,
        stateArb,
        fc.array(sampleArb, { minLength: 1, maxLength: 4 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }),
        (spec, state, pattern, k, recs) => {
          const history = (scale: number): EndpointSample[] =>
            Array.from({ length: 310 }, (_, i) => {
              const p = pattern[i % pattern.length]!;
              const arrivals = Math.floor(p.qps * scale);
              const serviceMs = p.serviceMs ?? 10;
              return {
                atMs: NOW - (309 - i) * 1000,
                intervalMs: 1000,
                // a consistent endpoint: Little's law
                inFlight: Math.round((arrivals * serviceMs) / 1000),
                queued: 0,
                arrivals,
                completions: arrivals,
                rejections: 0,
                serviceTimeMs: serviceMs,
                pods: Array.from({ length: p.ready }, () => ({ ready: true })),
              };
            });
          // the vertical axis is not due, so the horizontal sees the same target in both runs
          const memory: EngineMemory = {
            lastHorizontalAtMs: NOW - 10_000,
            lastVerticalAtMs: NOW - 1000,
            sinceMs: NOW - 600_000,
            recommendations: recs.map((r, i) => ({ atMs: NOW - 295_000 + i * 5000, replicas: r })),
            vertical: emptyVerticalMemory,
          };
          const lo = decide({ spec, state, history: history(k), memory, nowMs: NOW });
          const hi = decide({ spec, state, history: history(1), memory, nowMs: NOW });
          assert.ok(lo.desiredReplicas <= hi.desiredReplicas, `${lo.desiredReplicas} (${lo.replicasMessage}) > ${hi.desiredReplicas} (${hi.replicasMessage})`);
        },
      ),
      runs,
    );
  });

  it("no change without a reason that says so", () => {
    const moves = new Set(["ScaleUp", "ScaleUpLimited", "ScaleDown", "ProvisionedFloor", "ReplicaBounds", "ScaleToZero", "ScaleFromZero"]);
    const targetMoves = new Set(["Initial", "StressCut", "CalmRaise", "Bounds"]);
    fc.assert(
      fc.property(inputArb, (input) => {
        const d = decide(input);
        if (d.desiredReplicas !== input.state.desiredReplicas) assert.ok(moves.has(d.replicasReason), `${input.state.desiredReplicas} → ${d.desiredReplicas} with ${d.replicasReason}`);
        if (d.targetConcurrency !== input.state.targetConcurrency) assert.ok(targetMoves.has(d.concurrencyReason), d.concurrencyReason);
        assert.ok(d.replicasMessage.length > 0 && d.concurrencyMessage.length > 0);
      }),
      runs,
    );
  });

  it("a restart with no memory changes nothing", () => {
    // states that are valid for their spec (a restart must not "fix" anything either)
    const validArb = inputArb.map((input) => {
      const { spec, state } = input;
      const target = clamp(state.targetConcurrency, spec.concurrency.min, spec.concurrency.max);
      const floor = spec.provisionedConcurrency > 0 ? Math.ceil(spec.provisionedConcurrency / target) : 0;
      const desired = clamp(state.desiredReplicas, Math.max(spec.replicas.min, floor, 1), spec.replicas.max);
      return { ...input, memory: undefined, state: { ...state, targetConcurrency: target, desiredReplicas: desired } };
    });
    fc.assert(
      fc.property(validArb, (input) => {
        const { spec, state } = input;
        fc.pre(state.desiredReplicas >= Math.ceil(spec.provisionedConcurrency / state.targetConcurrency));
        const d = decide(input);
        assert.equal(d.desiredReplicas, state.desiredReplicas);
        assert.equal(d.targetConcurrency, state.targetConcurrency);
      }),
      runs,
    );
  });

  it("config validation names the field, the value and the allowed range", () => {
    const keys = Object.keys(defaultEngineConfig) as (keyof EngineConfig)[];
    fc.assert(
      fc.property(fc.constantFrom(...keys), fc.constantFrom(-1e9, 1e12, Number.NaN, Number.POSITIVE_INFINITY), (key, value) => {
        assert.throws(
          () => validateEngineConfig({ [key]: value }),
          (e: Error) =>
            new RegExp(`^engine config: ${key} = ${String(value)} is not allowed; expected (an integer|a number) in \\[[-0-9.e+]+, [-0-9.e+]+\\]$`).test(e.message),
        );
      }),
      runs,
    );
  });
});
