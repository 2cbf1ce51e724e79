/**
 * The incremental request-section reader gives the same interval counts as parsing two whole pages and
 * subtracting them (dense counters), for idle, busy, new and restarted endpoints; sparse quantiles equal dense.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  emptyCounters, histogramQuantileMs, observeRequest, sampleTimeFields, sparseQuantileMs, subtractCounters, type RequestCounters,
} from "../../controller/src/gateway/request-stats.ts";
import { formatRequestSection, parseRequestSection, RequestSectionError } from "../../controller/src/gateway/request-stats-wire.ts";
import { RequestSectionReader } from "../../controller/src/gateway/request-section-reader.ts";

const sparse = (c: RequestCounters): number[] => {
  const out: number[] = [];
  c.histogram.forEach((v, i) => { if (v > 0) out.push(i, v); });
  return out;
};

const timings = fc.array(fc.record({ q: fc.integer({ min: 0, max: 500 }), s: fc.integer({ min: 0, max: 5000 }) }), { maxLength: 40 });

test("reader intervals = subtractCounters of consecutive whole-page parses (idle, busy, new, restarted endpoints)", () => {
  fc.assert(
    fc.property(fc.array(fc.uniqueArray(fc.tuple(fc.constantFrom("a", "b", "c"), timings, fc.boolean()), { maxLength: 3, selector: (t) => t[0] }), { minLength: 2, maxLength: 6 }), (steps) => {
      const live = new Map<string, RequestCounters>([["a", emptyCounters()]]);
      const reader = new RequestSectionReader();
      let prevText: string | undefined;
      for (const step of steps) {
        for (const [ep, ts, restart] of step) {
          const old = live.get(ep);
          // A restart is told by `served` going down (an agent that restarted and served as many again is
          // indistinguishable from one that served nothing): only those are generated.
          const fresh = emptyCounters();
          const c = old === undefined || (restart && ts.filter((t) => t.s >= 0).length < old.served) ? fresh : old;
          for (const t of ts) observeRequest(c, { queueMs: t.q, serviceMs: t.s }, ep === "b" ? undefined : 300);
          live.set(ep, c);
        }
        const text = formatRequestSection(new Map([...live].map(([ep, c]) => [ep, { objectiveMs: ep === "b" ? undefined : 300, counters: c }])));
        const got = reader.read(`# pxname,x\nbe_a,BACKEND\n${text}`);
        if (prevText === undefined) {
          assert.equal(got, undefined, "first page: no interval");
        } else {
          const prev = parseRequestSection(prevText)!;
          for (const [ep, cur] of parseRequestSection(text)!) {
            const want = subtractCounters(cur.counters, prev.get(ep)?.counters ?? emptyCounters());
            const iv = got?.get(ep);
            assert.ok(iv !== undefined, ep);
            assert.deepEqual(
              { served: iv.served, serviceMsSum: iv.serviceMsSum, queueMsSum: iv.queueMsSum, overObjective: iv.overObjective, buckets: [...iv.buckets] },
              { served: want.served, serviceMsSum: want.serviceMsSum, queueMsSum: want.queueMsSum, overObjective: want.overObjective, buckets: sparse(want) },
            );
            assert.equal(iv.withObjective, cur.objectiveMs !== undefined);
            assert.deepEqual(sampleTimeFields(iv, iv.withObjective), sampleTimeFields(want, cur.objectiveMs !== undefined));
          }
        }
        prevText = text;
      }
    }),
  );
});

test("sparse quantiles equal dense ones", () => {
  fc.assert(fc.property(timings, fc.double({ min: 0.01, max: 1, noNaN: true }), (ts, q) => {
    const c = emptyCounters();
    for (const t of ts) observeRequest(c, { queueMs: t.q, serviceMs: t.s }, undefined);
    assert.equal(sparseQuantileMs(sparse(c), q, c.served), histogramQuantileMs(c.histogram, q, c.served));
  }));
});

test("a malformed page is refused and forgets the previous reading; a page without a section resets too", () => {
  const c = emptyCounters();
  observeRequest(c, { queueMs: 0, serviceMs: 100 }, undefined);
  const good = formatRequestSection(new Map([["ep", { objectiveMs: undefined, counters: c }]]));
  const r = new RequestSectionReader();
  assert.equal(r.read(good), undefined);
  assert.equal(r.read(good)?.get("ep")?.served, 0);
  assert.throws(() => r.read("# autopilot request stats v1\n#r ep - 9 x 0 0\n"), (e: unknown) => e instanceof RequestSectionError && /serviceMsSum = "x"/.test((e as Error).message));
  assert.equal(r.read(good), undefined, "after a refused page the next one starts anew");
  assert.equal(r.read(good)?.get("ep")?.served, 0);
  assert.equal(r.read("# pxname,\n"), undefined);
  assert.equal(r.read(good), undefined);
});
