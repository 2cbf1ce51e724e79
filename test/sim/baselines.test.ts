import assert from "node:assert/strict";
import { test } from "node:test";
import type { ReplicaState } from "../../controller/src/engine/types.ts";
import { HpaPolicy } from "../../controller/src/sim/policies/hpa.ts";
import { KpaPolicy } from "../../controller/src/sim/policies/kpa.ts";
import { RayPolicy } from "../../controller/src/sim/policies/ray.ts";
import type { PodObservation, Policy, SecondObservation } from "../../controller/src/sim/policies/types.ts";
import { scenario } from "./helpers.ts";

const sc = scenario({ endpoint: { concurrency: { min: 1, max: 10 }, replicas: { min: 1, max: 100 } } });

function state(desired: number, ready = desired): ReplicaState {
  return { desiredReplicas: desired, readyReplicas: ready, startingReplicas: 0, unschedulableReplicas: 0, targetConcurrency: 10 };
}

function obs(atMs: number, avgConcurrency: number, pods?: PodObservation[]): SecondObservation {
  return {
    sample: { atMs, inFlight: avgConcurrency, queued: 0, arrivals: 0, completions: 0, rejections: 0 },
    avgConcurrency,
    pods,
  };
}

/** Drive a policy second by second; `load(s)` gives the observation, returns desired replicas after each decision. */
function drive(p: Policy, fromS: number, toS: number, replicas: { n: number }, mk: (s: number) => SecondObservation, inFlight = 0) {
  const out: { atMs: number; desired: number }[] = [];
  for (let s = fromS; s <= toS; s++) {
    p.observe(mk(s));
    while (p.nextRunAtMs <= s * 1000) {
      const atMs = p.nextRunAtMs;
      const a = p.decide({ nowMs: atMs, state: state(replicas.n), inFlight, queued: 0 });
      replicas.n = a.desiredReplicas;
      out.push({ atMs, desired: a.desiredReplicas });
    }
  }
  return out;
}

// KPA: CC = concurrency max 10 → target 7 per pod
test("kpa: target is 70% of containerConcurrency and the per-pod limit is CC", () => {
  const k = new KpaPolicy(sc);
  assert.equal(k.targetConcurrency, 7);
  assert.equal(k.initialTargetConcurrency, 10);
});

const panicCases = [
  // 2 ready pods; the 6 s panic window averages `burst`: dppc = ceil(burst / 7)
  { name: "needs 3 pods (1.5×): no panic", burst: 20, want: false },
  { name: "needs 4 pods (2×): panic", burst: 21.5, want: true },
  { name: "needs 4 pods (2×), more load: panic", burst: 28, want: true },
];
for (const c of panicCases) {
  test(`kpa: panic at 2× the ready pods: ${c.name}`, () => {
    const k = new KpaPolicy(sc);
    for (let s = 1; s <= 60; s++) k.observe(obs(s * 1000, 14));
    for (let s = 61; s <= 66; s++) k.observe(obs(s * 1000, c.burst));
    k.decide({ nowMs: 66_000, state: state(2), inFlight: 0, queued: 0 });
    assert.equal(k.panicking, c.want);
  });
}

test("kpa: in panic the pod count is a ratchet; panic ends 60 s after the last over-threshold tick", () => {
  const k = new KpaPolicy(sc);
  const r = { n: 2 };
  drive(k, 1, 60, r, (s) => obs(s * 1000, 14));
  drive(k, 61, 66, r, (s) => obs(s * 1000, 70));
  const peak = r.n;
  assert.ok(peak >= 8, `peak ${peak}`);
  // load falls back: no scale-down while panicking (ready pods follow desired here)
  const during = drive(k, 67, 120, r, (s) => obs(s * 1000, 14));
  assert.ok(during.every((d) => d.desired >= peak));
  const after = drive(k, 121, 200, r, (s) => obs(s * 1000, 14));
  assert.equal(k.panicking, false);
  assert.ok(after.some((d) => d.desired < peak));
});

test("kpa: scale-down at most halves the ready pods per 2 s tick", () => {
  const k = new KpaPolicy(sc, undefined, 0);
  const r = { n: 16 };
  const ds = drive(k, 1, 8, r, (s) => obs(s * 1000, 1));
  assert.deepEqual(ds.map((d) => d.desired), [8, 4, 2, 1]);
});

// HPA
function pods(n: number, cores: number, createdAtMs = -600_000): PodObservation[] {
  return Array.from({ length: n }, (_, id) => ({
    id,
    phase: "ready" as const,
    createdAtMs,
    readyAtMs: createdAtMs + 10_000,
    cpuCores: cores,
    cpuRequestCores: 1,
    sample: { ready: true, cpuUtil: cores },
  }));
}

const hpaCases = [
  { name: "inside the ±10% band: hold", util: 0.75, want: 4 }, // 75/70 = 1.07
  { name: "above the band: ceil(ratio × ready)", util: 0.84, want: 5 }, // 84/70 = 1.2 → 4.8
  { name: "below the band (first sync: no history yet)", util: 0.35, want: 2 }, // 0.5 × 4
];
for (const c of hpaCases) {
  test(`hpa: ${c.name}`, () => {
    const h = new HpaPolicy(sc);
    const r = { n: 4 };
    const ds = drive(h, 1, 22, r, (s) => obs(s * 1000, 0, pods(4, c.util)));
    assert.equal(ds[0]!.atMs, 22_000); // first sync at 15 s + 7 s offset
    assert.equal(ds[0]!.desired, c.want);
  });
}

test("hpa: scale-up is limited to max(+4 pods, +100%) per 15 s", () => {
  const h = new HpaPolicy(scenario({ endpoint: sc.endpoint, baselines: { hpa: { targetCpuUtil: 0.1 } } }));
  const r = { n: 1 };
  const ds = drive(h, 1, 22, r, (s) => obs(s * 1000, 0, pods(r.n, 1)));
  assert.equal(ds[0]!.desired, 5); // wants 10, +4 pods beats +100%
});

test("hpa: scale-down waits for the 300 s stabilisation window", () => {
  const h = new HpaPolicy(sc);
  const r = { n: 4 };
  drive(h, 1, 22, r, (s) => obs(s * 1000, 0, pods(4, 0.7)));
  const ds = drive(h, 23, 400, r, (s) => obs(s * 1000, 0, pods(4, 0.35)));
  // the max of the recommendations over the last 300 s: 4 (22 s) until 322 s, then 3 (37 s, a window
  // half before the drop) until 337 s, then 2
  const downs = ds.filter((d, i) => d.desired !== (i > 0 ? ds[i - 1]!.desired : 4));
  assert.deepEqual(downs, [{ atMs: 322_000, desired: 3 }, { atMs: 337_000, desired: 2 }]);
});

test("hpa: reads metrics-server values, which lag the load by up to one resolution", () => {
  const h = new HpaPolicy(sc);
  const r = { n: 4 };
  // CPU jumps at 16 s; the scrape at 15 s still holds the old window, so the 22 s sync holds
  const ds = drive(h, 1, 22, r, (s) => obs(s * 1000, 0, pods(4, s > 15 ? 1 : 0.7)));
  assert.equal(ds[0]!.desired, 4);
  const next = drive(h, 23, 37, r, (s) => obs(s * 1000, 0, pods(4, 1)));
  assert.equal(next[0]!.desired, 6); // 100/70 × 4 = 5.7 → 6, after the 30 s scrape
});

test("hpa: pods without a metric damp a scale-up (counted at 0%)", () => {
  const h = new HpaPolicy(sc);
  const r = { n: 4 };
  const ds = drive(h, 1, 22, r, (s) => {
    const ps = pods(4, 0.84);
    // two more pods became ready at 20 s: no scrape has seen them yet → missing
    if (s >= 20) ps.push(...pods(2, 0, 10_000).map((p, i) => ({ ...p, id: 10 + i, readyAtMs: 20_000 })));
    return obs(s * 1000, 0, ps);
  });
  // ratio 1.2 with 4 metrics; re-run with 2 missing at 0: 84·4/6 = 56% → ratio 0.8 flips direction → hold
  assert.equal(ds[0]!.desired, 4);
});

// Ray: target 2 ongoing per replica, 30 s upscale delay, 600 s downscale delay, 10 s metric push
test("ray: scales up only after 30 s of consistent up decisions, then to the last desired value", () => {
  const ray = new RayPolicy(sc);
  let cur = 1;
  const changes: { atMs: number; to: number }[] = [];
  for (let t = 100; t <= 60_000; t += 100) {
    const a = ray.decide({ nowMs: t, state: state(cur), inFlight: 10, queued: 0 });
    if (a.desiredReplicas !== cur) changes.push({ atMs: t, to: a.desiredReplicas });
    cur = a.desiredReplicas;
  }
  // first push at 10 s (records from 0.1 s on): up decisions start at 10 s, applied at 40 s
  assert.deepEqual(changes, [{ atMs: 40_000, to: 5 }]);
  assert.equal(ray.initialTargetConcurrency, 5);
});

test("ray: scales down only after 600 s of consistent down decisions", () => {
  const ray = new RayPolicy(sc);
  let cur = 5;
  const changes: { atMs: number; to: number }[] = [];
  for (let t = 100; t <= 700_000; t += 100) {
    const a = ray.decide({ nowMs: t, state: state(cur), inFlight: 2, queued: 0 });
    if (a.desiredReplicas !== cur) changes.push({ atMs: t, to: a.desiredReplicas });
    cur = a.desiredReplicas;
  }
  assert.deepEqual(changes, [{ atMs: 610_000, to: 1 }]);
});

test("kpa: the reference's worked example — 10 → 10K QPS at 100 ms, CC unset: 15 pods asked within 6 s", () => {
  // KPA worked example: concurrency 1 → 1000; target 100 × 0.7 = 70; pods not ready yet (ready stays 1)
  const k = new KpaPolicy(scenario({ endpoint: sc.endpoint, baselines: { kpa: { containerConcurrency: 0 } } }));
  assert.equal(k.initialTargetConcurrency, 1_000_000_000); // no per-pod limit
  for (let s = 1; s <= 60; s++) k.observe(obs(s * 1000, 1));
  const asked: number[] = [];
  for (let s = 61; s <= 66; s++) {
    k.observe(obs(s * 1000, 1000));
    if (s % 2 === 0) asked.push(k.decide({ nowMs: s * 1000, state: state(1, 1), inFlight: 0, queued: 0 }).desiredReplicas);
  }
  // panic averages (6 s): 2 s in → 334 → 5 pods; 4 s in → 667 → 10; 6 s in → 1000 → 15
  assert.deepEqual(asked, [5, 10, 15]);
  assert.equal(k.panicking, true);
});
