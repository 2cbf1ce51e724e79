/**
 * The dashboards' PromQL as rendered, checked by the real promtool (Debian's `prometheus` package): every
 * query parses (`promtool check rules` over them as recording rules), and the latency, over-objective and
 * queue-wait queries give the right numbers on series shaped like the gateway agent's metrics
 * (`promtool test rules`).
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { stringify } from "yaml";
import { dashboardPanels, latencyQuantileExpr } from "../../components/observability/dashboard.ts";

// promtool comes with Debian's `prometheus` package (.ci/run installs it); without it these tests fail, not skip.
if (spawnSync("promtool", ["--version"]).status !== 0) {
  test("promtool is installed", () => assert.fail("promtool is not installed: apt-get install prometheus (the README's set-up step)"));
}

test("every dashboard query parses in promtool", () => {
  const dir = mkdtempSync(join(tmpdir(), "promql-"));
  try {
    const rules = dashboardPanels("iris").flatMap((p, i) => p.exprs.map((e, j) => ({ record: `dashboard:panel_${i}_${j}`, expr: e.expr })));
    writeFileSync(join(dir, "rules.yml"), stringify({ groups: [{ name: "dashboard", rules }] }));
    const out = execFileSync("promtool", ["check", "rules", join(dir, "rules.yml")], { encoding: "utf8" });
    assert.match(out, new RegExp(`SUCCESS: ${rules.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("latency p50/p99, over-objective share and mean queue wait compute the right values", () => {
  const dir = mkdtempSync(join(tmpdir(), "promql-"));
  try {
    const panels = dashboardPanels("iris");
    const expr = (title: string): string => panels.find((p) => p.title === title)!.exprs[0]!.expr;
    const b = (le: string, perMin: number) => ({ series: `autopilot_gateway_request_duration_seconds_bucket{endpoint="iris",version="v1",le="${le}"}`, values: `0+${perMin}x10` });
    // Per minute: 100 requests, 90 within 100 ms, 98 within 250 ms, all within 500 ms; 2 over the objective; 30 s queued.
    const input = [
      b("0.05", 0), b("0.1", 90), b("0.25", 98), b("0.5", 100), b("+Inf", 100),
      { series: `autopilot_gateway_request_duration_seconds_count{endpoint="iris",version="v1"}`, values: "0+100x10" },
      { series: `autopilot_gateway_over_objective_total{endpoint="iris",version="v1"}`, values: "0+2x10" },
      { series: `autopilot_gateway_queue_seconds_total{endpoint="iris",version="v1"}`, values: "0+30x10" },
    ];
    // round(): promtool compares floats exactly, and the quantile's interpolation leaves ~1e-16 of noise.
    const at = (e: string, value: number) => ({ expr: `round(${e}, 0.000001)`, eval_time: "5m", exp_samples: [{ labels: "{}", value: Math.round(value * 1e6) / 1e6 }] });
    const spec = {
      rule_files: [],
      evaluation_interval: "1m",
      tests: [{
        interval: "1m",
        input_series: input,
        promql_expr_test: [
          // rank 0.5 × 100/60 in (0.05, 0.1], 1.5/s there: 0.05 + 0.05 × (0.8333 / 1.5)
          at(latencyQuantileExpr("iris", 0.5), 0.05 + 0.05 * ((0.5 * 100) / 60 / 1.5)),
          // rank 0.99 × 100/60 = 1.65/s, above the 98/60 within 250 ms: 0.25 + 0.25 × (1.65 − 1.6333) / 0.0333
          at(latencyQuantileExpr("iris", 0.99), 0.25 + 0.25 * ((0.99 * 100 - 98) / 2)),
          at(expr("Requests over the objective"), 0.02),
          at(expr("Queue wait (mean)"), 0.3),
        ],
      }],
    };
    writeFileSync(join(dir, "test.yml"), stringify(spec));
    const r = spawnSync("promtool", ["test", "rules", join(dir, "test.yml")], { encoding: "utf8" });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
