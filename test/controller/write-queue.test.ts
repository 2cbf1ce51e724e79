/** Token bucket, per-key backoff and newest-write-per-key of the WriteQueue; Event aggregation (pure). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { EventsV1Event } from "@kubernetes/client-node";
import { EventRecorder } from "../../controller/src/kube/event-recorder.ts";
import { TokenBucket, WriteQueue } from "../../controller/src/kube/write-queue.ts";

const err = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

describe("WriteQueue", () => {
  it("token bucket: a burst at once, then qps per second", () => {
    const b = new TokenBucket(10, 20);
    let n = 0;
    while (b.tryTake(0)) n += 1;
    assert.equal(n, 20);
    assert.equal(b.tryTake(50), false);
    assert.equal(b.tryTake(100), true, "one token per 100 ms at 10 qps");
    let later = 0;
    while (b.tryTake(10_100)) later += 1;
    assert.equal(later, 20, "never more than the burst saved");
  });

  it("drain sends scale before status before owner references (a first start's 10,000 adoptions do not hold status back)", async () => {
    const q = new WriteQueue({ qps: 1, burst: 3 });
    const sent: string[] = [];
    q.enqueue("status", "a", async () => void sent.push("status a"));
    q.enqueue("owner", "a", async () => void sent.push("owner a"));
    q.enqueue("scale", "a", async () => void sent.push("scale a"));
    await q.drain(0);
    assert.deepEqual(sent, ["scale a", "status a", "owner a"]);
  });

  it("a newer write of a key replaces the pending one; drain sends scale before status before events, within the bucket", async () => {
    const q = new WriteQueue({ qps: 1, burst: 3 });
    const sent: string[] = [];
    const w = (s: string) => async () => void sent.push(s);
    q.enqueue("event", "e1", w("event e1"));
    q.enqueue("status", "a", w("status a v1"));
    q.enqueue("status", "b", w("status b"));
    q.enqueue("status", "a", w("status a v2"));
    q.enqueue("scale", "a", w("scale a"));
    assert.equal(q.size, 4);
    await q.drain(0);
    assert.deepEqual(sent, ["scale a", "status a v2", "status b"]);
    assert.equal(q.size, 1, "the event waits for a token");
    await q.drain(500);
    assert.equal(sent.length, 3);
    await q.drain(1000);
    assert.deepEqual(sent.at(-1), "event e1");
    assert.equal(q.stats.superseded, 1);
  });

  it("a failing key backs off 1 s, 2 s, 4 s … (429/5xx), other keys go on; success resets; 409 retries at once", async () => {
    const q = new WriteQueue({ qps: 1000, burst: 1000, baseMs: 1000, maxMs: 8000 });
    let fail = true;
    const attempts: number[] = [];
    let now = 0;
    q.enqueue("status", "x", async () => {
      attempts.push(now);
      if (fail) throw err(429);
    });
    for (now = 0; now <= 20_000; now += 500) await q.drain(now);
    assert.deepEqual(attempts, [0, 1000, 3000, 7000, 15_000], "backoff doubles up to the cap");
    fail = false;
    for (; now <= 40_000; now += 500) await q.drain(now);
    assert.equal(attempts.length, 6);
    assert.equal(q.size, 0);
    assert.equal(q.backingOff("status", "x", now), false);
    assert.equal(q.retryDelayMs(3, err(409)), 0);
  });

  it("events expire instead of piling up", async () => {
    const q = new WriteQueue({ qps: 1, burst: 1 });
    q.enqueue("status", "a", async () => {});
    q.enqueue("event", "e", async () => {}, { ttlMs: 1000, nowMs: 0 });
    await q.drain(0);
    await q.drain(1500);
    assert.equal(q.stats.expired, 1);
    assert.equal(q.size, 0);
  });
});

describe("EventRecorder", () => {
  const ev = (reason: string, note: string): EventsV1Event => ({
    metadata: { generateName: "fraud-", namespace: "ns" },
    reason, note, action: "ScaleUp", type: "Normal",
    regarding: { kind: "ServingEndpoint", name: "fraud", namespace: "ns" },
    eventTime: new Date(0) as never, reportingController: "x", reportingInstance: "y",
  });

  it("30 similar events in 5 minutes: 1 create and a series patch at most every 60 s carrying the count", () => {
    const r = new EventRecorder();
    const writes = [];
    for (let i = 0; i < 30; i++) {
      const t = i * 10_000;
      const w = r.record(ev("Burst", `replicas ${i} → ${i + 1}`), t);
      if (w !== undefined) {
        writes.push(w);
        r.created(w.key, "fraud-abc");
      }
      writes.push(...r.flush(t));
    }
    writes.push(...r.flush(400_000));
    assert.equal(writes.filter((w) => w.kind === "create").length, 1);
    const patches = writes.filter((w) => w.kind === "patch");
    assert.ok(patches.length <= 6, `${patches.length} patches`);
    const last = patches.at(-1);
    assert.equal(last?.kind === "patch" ? last.patch.series?.count : undefined, 30);
    assert.match(last?.kind === "patch" ? (last.patch.note ?? "") : "", /^\(combined from similar events\): replicas 29 → 30$/);
    assert.equal(r.aggregated, 29);
  });

  it("a different reason, or the window's end, creates a new Event; a failed create is retried by the next one", () => {
    const r = new EventRecorder({ windowMs: 600_000 });
    assert.equal(r.record(ev("Burst", "a"), 0)?.kind, "create");
    assert.equal(r.record(ev("Idle", "b"), 1)?.kind, "create");
    const again = r.record(ev("Burst", "c"), 600_000);
    assert.equal(again?.kind, "create");
    r.createFailed(again!.key);
    assert.equal(r.record(ev("Burst", "d"), 600_001)?.kind, "create");
  });
});
