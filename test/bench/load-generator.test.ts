/**
 * The open-loop load generator of `bench:gateway`: its timetable, percentiles, response framing and round
 * bookkeeping (tables), and one short real run against an in-process HTTP server on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { commandLine, verdictLines, type BenchOptions, type ClosedRow, type RateBlock } from "../../bench/gateway/bench-report.ts";
import { armOrder, compareRounds, medianResult, type ArmResult } from "../../bench/gateway/bench-rounds.ts";
import { Http1ResponseFramer } from "../../bench/gateway/http1-response-framer.ts";
import { requestBytes, runOpenLoop } from "../../bench/gateway/load-generator.ts";
import { median, percentile, scheduledOffsetNs, summarize, timetableLength } from "../../bench/gateway/load-stats.ts";

describe("timetable", () => {
  const cases: Array<{ name: string; input: [number, number]; want: number }> = [
    { name: "first request at the start", input: [0, 1000], want: 0 },
    { name: "1K/s: 1 ms apart", input: [1, 1000], want: 1_000_000 },
    { name: "5K/s: 0.2 ms apart", input: [3, 5000], want: 600_000 },
    { name: "rounding does not accumulate", input: [3000, 3000], want: 1_000_000_000 },
    { name: "3/s: rounded to the ns", input: [1, 3], want: 333_333_333 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(scheduledOffsetNs(...c.input), c.want));

  it("length = rate × duration, whole requests", () => {
    assert.equal(timetableLength(1000, 2), 2000);
    assert.equal(timetableLength(5000, 0.5), 2500);
    assert.equal(timetableLength(3, 1.9), 5);
  });
  it("bad rate, duration or index: clear errors", () => {
    assert.throws(() => timetableLength(0, 1), { message: "rate: 0 is not allowed; must be a finite number > 0 requests/s" });
    assert.throws(() => timetableLength(100, -1), { message: "duration: -1 is not allowed; must be a finite number > 0 seconds" });
    assert.throws(() => scheduledOffsetNs(1.5, 10), { message: "request index: 1.5 is not allowed; must be an integer ≥ 0" });
  });
});

describe("percentile (nearest rank) and median", () => {
  const oneTo = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
  const cases: Array<{ name: string; input: [number[], number]; want: number }> = [
    { name: "one value", input: [[5], 99], want: 5 },
    { name: "p50 of 1..100", input: [oneTo(100), 50], want: 50 },
    { name: "p99 of 1..100", input: [oneTo(100), 99], want: 99 },
    { name: "p99 of 1..1000", input: [oneTo(1000), 99], want: 990 },
    { name: "p100 is the max", input: [oneTo(10), 100], want: 10 },
    { name: "p0 is the min", input: [oneTo(10), 0], want: 1 },
    { name: "p99 of 1..10 is the max", input: [oneTo(10), 99], want: 10 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(percentile(...c.input), c.want));
  it("empty → NaN; out of range → error", () => {
    assert.ok(Number.isNaN(percentile([], 50)));
    assert.throws(() => percentile([1], 101), { message: "percentile: 101 is not allowed; must be in 0..100" });
  });
  it("median of odd and even lengths, unsorted input", () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.ok(Number.isNaN(median([])));
  });
  it("summarize: µs samples → ms figures, rps over the timetable", () => {
    const s = summarize({
      scheduled: 4, durationS: 2, latencyUs: [4000, 1000, 3000], sendLagUs: [10, 30, 20], serviceUs: [900, 2900, 3900],
      non2xx: 1, errors: 0, connections: 2,
    });
    assert.deepEqual(
      { ok: s.ok, rps: s.rps, p50: s.p50Ms, p99: s.p99Ms, max: s.maxMs, lag99: s.sendLagP99Ms, svc99: s.serviceP99Ms, non2xx: s.non2xx },
      { ok: 3, rps: 1.5, p50: 3, p99: 4, max: 4, lag99: 0.03, svc99: 3.9, non2xx: 1 },
    );
  });
});

describe("HTTP/1.1 response framing", () => {
  const ok = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nContent-Length: 5\r\n\r\nhello";
  const feedAll = (chunks: string[]): Array<{ status: number; close: boolean }> => {
    const f = new Http1ResponseFramer();
    return chunks.flatMap((c) => f.feed(Buffer.from(c, "latin1")));
  };
  const cases: Array<{ name: string; input: string[]; want: Array<{ status: number; close: boolean }> }> = [
    { name: "one response in one chunk", input: [ok], want: [{ status: 200, close: false }] },
    { name: "one response byte by byte", input: [...ok], want: [{ status: 200, close: false }] },
    { name: "two responses in one chunk", input: [ok + ok.replace("200 OK", "429 Too Many Requests")], want: [{ status: 200, close: false }, { status: 429, close: false }] },
    { name: "head and body split, body split", input: [ok.slice(0, 60), ok.slice(60, 70), ok.slice(70)], want: [{ status: 200, close: false }] },
    { name: "incomplete body: nothing yet", input: [ok.slice(0, ok.length - 1)], want: [] },
    { name: "204 without content-length", input: ["HTTP/1.1 204 No Content\r\n\r\n"], want: [{ status: 204, close: false }] },
    { name: "connection: close is reported", input: ["HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\ncontent-length: 0\r\n\r\n"], want: [{ status: 503, close: true }] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(feedAll(c.input), c.want));

  it("chunked, no length or a bad status line: clear errors", () => {
    assert.throws(() => feedAll(["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"]), { message: 'transfer-encoding "chunked" is not supported; only content-length bodies' });
    assert.throws(() => feedAll(["HTTP/1.1 200 OK\r\n\r\n"]), { message: "status 200 response without content-length is not supported" });
    assert.throws(() => feedAll(["SSH-2.0-OpenSSH\r\n\r\n"]), { message: 'not an HTTP/1.x status line: "SSH-2.0-OpenSSH"' });
  });
});

describe("requestBytes", () => {
  it("builds the exact request once", () => {
    const b = requestBytes({ host: "127.0.0.1", port: 8080, path: "/invocations", body: '{"a":1}', headers: { authorization: "Bearer k" } });
    assert.equal(
      b.toString("latin1"),
      'POST /invocations HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 7\r\nauthorization: Bearer k\r\n\r\n{"a":1}',
    );
  });
});

describe("rounds", () => {
  it("armOrder rotates so every arm takes every position", () => {
    const arms = ["a", "b", "c"];
    assert.deepEqual([0, 1, 2, 3].map((r) => armOrder(arms, r).join("")), ["abc", "bca", "cab", "abc"]);
    assert.deepEqual(armOrder([], 2), []);
  });
  const r = (p50Ms: number, p99Ms: number, rps = 1000): ArmResult => ({ rps, p50Ms, p99Ms, errors: 0, non2xx: 0 });
  it("compareRounds: medians of the per-round differences, not differences of medians", () => {
    const c = compareRounds([r(6, 9), r(6, 20), r(6, 10)], [r(6.2, 9.5), r(6.1, 10), r(6.4, 11, 900)]);
    assert.deepEqual(c.added99Ms, [0.5, -10, 1]);
    assert.equal(c.medianAdded99Ms, 0.5);
    assert.equal(c.minAdded99Ms, -10);
    assert.equal(c.maxAdded99Ms, 1);
    assert.equal(c.medianRpsRatio, 1);
    assert.ok(Math.abs(c.medianAdded50Ms - 0.2) < 1e-9);
  });
  it("compareRounds: unequal rounds → error", () => {
    assert.throws(() => compareRounds([r(1, 1)], []), { message: "compareRounds: 1 baseline rounds vs 0 arm rounds; need the same number, ≥ 1" });
  });
  it("medianResult: medians per cell, errors summed", () => {
    assert.deepEqual(medianResult([{ ...r(1, 5), errors: 1 }, r(3, 7), { ...r(2, 6), non2xx: 2 }]), { rps: 1000, p50Ms: 2, p99Ms: 6, errors: 1, non2xx: 2 });
  });
});

describe("runOpenLoop against a real server on 127.0.0.1", () => {
  const withServer = async (handler: Parameters<typeof createServer>[1], fn: (port: number) => Promise<void>): Promise<void> => {
    const srv: Server = createServer(handler);
    await new Promise<void>((res) => srv.listen(0, "127.0.0.1", res));
    try {
      await fn((srv.address() as AddressInfo).port);
    } finally {
      srv.closeAllConnections();
      await new Promise((res) => srv.close(res));
    }
  };

  it("sends the whole timetable at the set rate and times every answer from its scheduled time", async () => {
    let got = 0;
    await withServer(
      (req, res) => {
        req.resume();
        req.on("end", () => {
          got++;
          setTimeout(() => res.end("ok"), 2);
        });
      },
      async (port) => {
        const t0 = Date.now();
        const s = await runOpenLoop({ host: "127.0.0.1", port, path: "/x", body: "{}", ratePerS: 200, durationS: 0.5 });
        const wallMs = Date.now() - t0;
        assert.equal(s.scheduled, 100);
        assert.equal(got, 100);
        assert.deepEqual({ ok: s.ok, errors: s.errors, non2xx: s.non2xx, rps: s.rps }, { ok: 100, errors: 0, non2xx: 0, rps: 200 });
        // The last request is due at 495 ms: an open loop cannot finish much sooner, nor take far longer here.
        assert.ok(wallMs >= 490 && wallMs < 3000, `wall time ${wallMs} ms`);
        assert.ok(s.p50Ms >= 2 && s.p99Ms >= s.p50Ms, `p50 ${s.p50Ms} p99 ${s.p99Ms}`);
        assert.ok(s.p99Ms >= s.serviceP99Ms, "latency from the schedule is never below latency from the send");
      },
    );
  });

  it("counts non-2xx answers apart from latencies", async () => {
    await withServer(
      (req, res) => {
        req.resume();
        req.on("end", () => {
          res.statusCode = 429;
          res.end("busy");
        });
      },
      async (port) => {
        const s = await runOpenLoop({ host: "127.0.0.1", port, path: "/x", body: "{}", ratePerS: 100, durationS: 0.2 });
        assert.deepEqual({ ok: s.ok, non2xx: s.non2xx, errors: s.errors }, { ok: 0, non2xx: 20, errors: 0 });
      },
    );
  });

  it("a server that cannot be reached: a clear error, not a hang", async () => {
    let port = 0;
    await withServer(() => undefined, async (p) => {
      port = p;
    });
    await assert.rejects(runOpenLoop({ host: "127.0.0.1", port, path: "/x", body: "{}", ratePerS: 10, durationS: 0.2 }), {
      message: `load generator: a connection to 127.0.0.1:${port} failed before the run started`,
    });
  });
});

describe("bench report", () => {
  const r = (p99Ms: number, rps = 1000): ArmResult => ({ rps, p50Ms: 6, p99Ms, errors: 0, non2xx: 0 });
  const options: BenchOptions = {
    duration: 2, rounds: 3, rateDuration: 2, rateRounds: 3, modelMs: 5, threads: 2, lowLatency: false, placements: "pinned,unpinned", autocannon: true, out: "x.md",
  };
  const block = (placement: string, gateway: number[]): RateBlock => ({
    placement, ratePerS: 1000, generator: "open loop", arms: ["direct", "direct again", "gateway"],
    results: new Map([["direct", [r(9), r(10), r(9)]], ["direct again", [r(9.5), r(8), r(9.2)]], ["gateway", gateway.map((x) => r(x))]]),
  });
  const sat: ClosedRow = { label: "sat", direct: r(1, 800), gateway: r(1, 760), cmp: compareRounds([r(1, 800)], [r(1, 760)]) };
  it("verdict: median of per-round differences against 1 ms, with the noise floor and the placement", () => {
    const lines = verdictLines({
      options, closed: [sat], saturation: sat, blocks: [block("pinned", [9.3, 10.4, 9.1]), block("unpinned", [11, 12, 13])],
      cpus: 2, loadBefore: [0, 0, 0], loadAfter: [0, 0, 0], startedAt: 0, finishedAt: 1,
    });
    assert.match(lines[0] as string, /^- Added p99 at 1K req\/s, 5 ms model, pinned \(headline\): \*\*0\.30 ms\*\* \(median of 3 rounds; per round 0\.10 … 0\.40\) \(acceptance: ≤ 1 ms\) → met$/);
    assert.match(lines[1] as string, /noise floor \(the direct arm measured twice\): median 0\.20 ms, per round -2\.00 … 0\.50 ms: single rounds differ by more than 1 ms/);
    assert.match(lines[2] as string, /unpinned: \*\*2\.00 ms\*\* .* → NOT met$/);
    assert.equal(lines.at(-1), "- Throughput at saturation through the gateway: **95.0%** of direct (acceptance: ≥ 90%) → met");
  });
  it("verdict: CPU per request of the gateway against the minimal passthrough, and the 5K p99 against direct", () => {
    const r = (p99Ms: number, cpuUsPerRequest?: number, agentCpuUsPerRequest?: number) => ({ rps: 5000, p50Ms: 1, p99Ms, errors: 0, non2xx: 0, ...(cpuUsPerRequest !== undefined ? { cpuUsPerRequest } : {}), ...(agentCpuUsPerRequest !== undefined ? { agentCpuUsPerRequest } : {}) });
    const block: RateBlock = {
      placement: "pinned", ratePerS: 5000, generator: "open loop", arms: ["direct", "tcp proxy", "http passthrough", "gateway"],
      results: new Map([["direct", [r(10)]], ["tcp proxy", [r(11, 30)]], ["http passthrough", [r(12, 50)]], ["gateway", [r(15, 60, 20)]]]),
    };
    const lines = verdictLines({ options, closed: [], blocks: [block], saturation: { label: "s", direct: r(1), gateway: r(1), cmp: { added50Ms: [0], added99Ms: [0], medianAdded50Ms: 0, medianAdded99Ms: 0, minAdded99Ms: 0, maxAdded99Ms: 0, medianRpsRatio: 1 } }, cpus: 2, loadBefore: [0, 0, 0], loadAfter: [0, 0, 0], startedAt: 0, finishedAt: 0 });
    assert.ok(lines.includes("- HAProxy CPU per request at 5K req/s, pinned: gateway **60.0 µs**, minimal HTTP passthrough 50.0 µs, TCP proxy 30.0 µs → gateway/passthrough **1.20×** (goal: ≤ 1.3×) → met"), lines.join("\n"));
    assert.ok(lines.includes("  - the gateway's CPU need at this rate: HAProxy 60.0 + agent (request-log reader) 20.0 µs/request × 5000/s = **0.40 of a core** (the passthrough: 0.25)"), lines.join("\n"));
    assert.ok(lines.includes("  - p99 at 5K req/s, gateway / direct: **1.50×** (goal: ≤ 2×) → met"), lines.join("\n"));
  });
  it("commandLine reproduces the options", () => {
    assert.equal(commandLine(options), "npm run bench:gateway -- --duration 2 --rounds 3 --rate-duration 2 --rate-rounds 3 --model-ms 5 --threads 2 --write-docs");
    assert.equal(
      commandLine({ ...options, placements: "unpinned", autocannon: false, lowLatency: true }),
      "npm run bench:gateway -- --duration 2 --rounds 3 --rate-duration 2 --rate-rounds 3 --model-ms 5 --threads 2 --placements unpinned --no-autocannon --low-latency --write-docs",
    );
  });
});
