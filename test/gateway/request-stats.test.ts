import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addCounters, bucketLowerMs, bucketUpperMs, copyCounters, emptyCounters, HISTOGRAM_BUCKETS, histogramQuantileMs, latencyBucket,
  observeRequest, RequestWindow, sampleTimeFields, SERVICE_TIME_FLOOR_MS, subtractCounters, type RequestTiming,
} from "../../controller/src/gateway/request-stats.ts";

test("buckets: whole ms below 16, then 8 per doubling; edges enclose the value", () => {
  assert.equal(latencyBucket(0), 0);
  assert.equal(latencyBucket(0.4), 0);
  assert.equal(latencyBucket(5), 5);
  assert.equal(latencyBucket(15.9), 15);
  assert.equal(latencyBucket(16), 16);
  assert.equal(latencyBucket(100), 37);
  assert.equal(latencyBucket(1e12), HISTOGRAM_BUCKETS - 1);
  assert.equal(latencyBucket(Number.NaN), 0);
  fc.assert(fc.property(fc.double({ min: 0, max: 1e7, noNaN: true }), (ms) => {
    const i = latencyBucket(ms);
    return bucketLowerMs(i) <= ms + 1e-9 && (ms < bucketUpperMs(i) || i === HISTOGRAM_BUCKETS - 1);
  }));
});

test("quantiles: the worked example, and empty histograms give nothing", () => {
  const h = new Float64Array(HISTOGRAM_BUCKETS);
  assert.equal(histogramQuantileMs(h, 0.5), undefined);
  h[37] = 99;
  h[latencyBucket(200)] = 1;
  assert.ok(Math.abs(histogramQuantileMs(h, 0.5)! - 103.21) < 0.01);
  assert.ok(Math.abs(histogramQuantileMs(h, 0.99)! - 107.63) < 0.01);
  const p999 = histogramQuantileMs(h, 0.999)!;
  assert.ok(p999 >= 197.4 && p999 < 215.3, `p99.9 ${p999} inside the 200 ms bucket`);
});

test("a 100 ms model at 5 req/s reads 100 ms every second (an instant in-flight ÷ completions reads 0 or 200)", () => {
  const w = new RequestWindow(250);
  for (let second = 0; second < 10; second++) {
    for (let i = 0; i < 5; i++) w.observe({ queueMs: 0, serviceMs: 100 });
    const f = w.take();
    assert.equal(f.serviceTimeMs, 100);
    assert.equal(f.queueTimeMs, 0);
    assert.equal(f.overObjective, 0);
    assert.ok(f.latencyP50Ms! >= 98.7 && f.latencyP50Ms! < 107.7);
  }
});

test("named cases: queue time, over-objective, unanswered requests, no objective", () => {
  const c = emptyCounters();
  observeRequest(c, { queueMs: 0, serviceMs: 100 }, 250);
  observeRequest(c, { queueMs: 200, serviceMs: 100 }, 250); // 300 ms > 250: late because of the queue
  observeRequest(c, { queueMs: 0, serviceMs: 260 }, 250); // late at the pod
  observeRequest(c, { queueMs: 1000, serviceMs: undefined }, 250); // a queue-timeout 429: no pod, not counted
  observeRequest(c, { queueMs: -1, serviceMs: 250 }, 250); // exactly at the objective is within it
  const f = sampleTimeFields(c, true);
  assert.equal(c.served, 4);
  assert.equal(f.serviceTimeMs, (100 + 100 + 260 + 250) / 4);
  assert.equal(f.queueTimeMs, 200 / 4);
  assert.equal(f.overObjective, 2);
  assert.equal(sampleTimeFields(c, false).overObjective, undefined);
  assert.deepEqual(sampleTimeFields(emptyCounters(), true), {}, "nothing served: no field at all, never a 0 ms service time");
});

test("never a 0 ms service time: a sub-millisecond model whose requests all read 0 ms", () => {
  const w = new RequestWindow(undefined);
  for (let i = 0; i < 50; i++) w.observe({ queueMs: 0, serviceMs: 0 });
  assert.equal(w.take().serviceTimeMs, SERVICE_TIME_FLOOR_MS);
  assert.deepEqual(w.take(), {}, "an interval with nothing served has no service time");
});

const timing = fc.record({
  queueMs: fc.integer({ min: -1, max: 5000 }),
  serviceMs: fc.option(fc.integer({ min: 0, max: 60_000 }), { nil: undefined }),
}) as fc.Arbitrary<RequestTiming>;

test("properties: fields are well-formed for any set of requests", () => {
  fc.assert(fc.property(fc.array(timing, { maxLength: 300 }), fc.option(fc.integer({ min: 1, max: 10_000 }), { nil: undefined }), (ts, objective) => {
    const c = emptyCounters();
    for (const t of ts) observeRequest(c, t, objective);
    const f = sampleTimeFields(c, objective !== undefined);
    const served = ts.filter((t) => t.serviceMs !== undefined);
    if (served.length === 0) return Object.keys(f).length === 0;
    const lat = served.map((t) => Math.max(0, t.queueMs) + t.serviceMs!);
    const maxLat = Math.max(...lat);
    const minLat = Math.min(...lat);
    return f.serviceTimeMs! >= SERVICE_TIME_FLOOR_MS && f.queueTimeMs! >= 0 &&
      f.latencyP50Ms! <= f.latencyP99Ms! &&
      f.latencyP50Ms! >= bucketLowerMs(latencyBucket(minLat)) && f.latencyP99Ms! <= bucketUpperMs(latencyBucket(maxLat)) &&
      (objective === undefined ? f.overObjective === undefined : f.overObjective === lat.filter((l) => l > objective).length);
  }));
});

test("properties: readings subtract and replicas add up exactly (interval fields = fields of the interval's requests)", () => {
  fc.assert(fc.property(fc.array(timing, { maxLength: 100 }), fc.array(timing, { maxLength: 100 }), fc.array(timing, { maxLength: 100 }), (before, replicaA, replicaB) => {
    const a = emptyCounters();
    const b = emptyCounters();
    for (const t of before) observeRequest(a, t, 250);
    const aPrev = copyCounters(a);
    const bPrev = copyCounters(b);
    for (const t of replicaA) observeRequest(a, t, 250);
    for (const t of replicaB) observeRequest(b, t, 250);
    const sum = subtractCounters(a, aPrev);
    addCounters(sum, subtractCounters(b, bPrev));
    const direct = emptyCounters();
    for (const t of [...replicaA, ...replicaB]) observeRequest(direct, t, 250);
    assert.deepEqual(sampleTimeFields(sum, true), sampleTimeFields(direct, true));
  }));
});

test("a counter reset (agent restarted) gives the new counts; no previous reading gives none", () => {
  const prev = emptyCounters();
  for (let i = 0; i < 10; i++) observeRequest(prev, { queueMs: 0, serviceMs: 50 }, undefined);
  const cur = emptyCounters();
  for (let i = 0; i < 3; i++) observeRequest(cur, { queueMs: 0, serviceMs: 80 }, undefined);
  assert.equal(subtractCounters(cur, prev).served, 3);
  assert.equal(sampleTimeFields(subtractCounters(cur, prev), false).serviceTimeMs, 80);
  assert.equal(subtractCounters(cur, undefined).served, 0);
});

test("cost: folding one request and reading a 1 s interval are cheap (CPU time)", () => {
  const c = emptyCounters();
  const n = 200_000;
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) observeRequest(c, { queueMs: i % 7, serviceMs: 50 + (i % 300) }, 250);
  const foldUs = process.cpuUsage(t0);
  const t1 = process.cpuUsage();
  for (let i = 0; i < 10_000; i++) sampleTimeFields(c, true);
  const readUs = process.cpuUsage(t1);
  const perRequestNs = ((foldUs.user + foldUs.system) * 1000) / n;
  const perReadUs = (readUs.user + readUs.system) / 10_000;
  // Bounds far above the measured cost (tens of ns, a few µs) so only a real regression trips them.
  assert.ok(perRequestNs < 2000, `fold ${perRequestNs.toFixed(0)} ns per request`);
  assert.ok(perReadUs < 200, `read ${perReadUs.toFixed(1)} µs per interval`);
});
