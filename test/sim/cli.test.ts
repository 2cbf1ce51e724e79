import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BASE } from "./helpers.ts";

const CLI = new URL("../../controller/src/sim/cli.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "sim-cli-"));
const file = join(dir, "tiny.json");
writeFileSync(file, JSON.stringify({ ...BASE, durationS: 60, traffic: [{ untilS: 20, qps: 20 }, { untilS: 60, qps: 200 }] }));

const FIELDS = ["policy", "requests", "served", "rejected", "rejectedFraction", "p50Ms", "p99Ms", "sloAttainment", "replicaSeconds", "peakReplicas", "timeToAbsorbS", "scaleEvents", "finalTargetConcurrency"];

test("cli: --json gives {scenario, results} with every documented field per policy", () => {
  const out = execFileSync(process.execPath, [CLI, file, "--policies", "apa,kpa,hpa,ray,static,oracle", "--json"], { encoding: "utf8" });
  const json = JSON.parse(out) as { scenario: string; results: Record<string, unknown>[] };
  assert.equal(json.scenario, "t");
  assert.deepEqual(json.results.map((r) => r.policy), ["apa", "kpa", "hpa", "ray", "static", "oracle"]);
  for (const r of json.results) for (const f of FIELDS) assert.ok(f in r, `${String(r.policy)} lacks ${f}`);
  for (const r of json.results) assert.equal(r.requests, json.results[0]!.requests); // same arrivals for everyone
});

test("cli: the table and an SVG chart", () => {
  const svg = join(dir, "c.svg");
  const out = execFileSync(process.execPath, [CLI, file, "--policies", "kpa,static", "--chart", svg], { encoding: "utf8" });
  assert.match(out, /^policy +requests +served +rejected/m);
  assert.match(out, /^kpa /m);
  const text = readFileSync(svg, "utf8");
  assert.ok(text.startsWith("<svg") && text.includes("ready replicas") && text.trimEnd().endsWith("</svg>"));
});

test("cli: bad input exits 1 with a message naming the field", () => {
  const bad = spawnSync(process.execPath, [CLI, file, "--policies", "apa,knative"], { encoding: "utf8" });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--policies: unknown policy "knative"; allowed: apa, apa-reactive, kpa, hpa, ray, kpa-default, kpa-tuned, hpa-cpu, ray-default, static, oracle, oracle-ahead/);
  const badFile = join(dir, "bad.json");
  writeFileSync(badFile, JSON.stringify({ ...BASE, slo: { p99Ms: -1 } }));
  const r = spawnSync(process.execPath, [CLI, badFile], { encoding: "utf8" });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /slo\.p99Ms: must be > 0, got -1/);
});
