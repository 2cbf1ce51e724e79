/**
 * bench:gateway-instructions' config variants: each takes out what it names and nothing that keeps HAProxy from
 * loading the config (`haproxy -c` on each variant of the real rendering); callgrind_annotate's totals are read.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CONFIG_VARIANTS, parseAnnotate, passthroughConfig, profiledConfig } from "../../bench/gateway/config-variants.ts";
import { renderConfig } from "../../controller/src/gateway/render-config.ts";
import { agentLogTarget } from "../../controller/src/gateway/render-observe.ts";

const dir = mkdtempSync(join(tmpdir(), "cfg-variants-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const rendered = renderConfig({
  settings: {
    bindAddress: "127.0.0.1", publicPort: 18080, metricsPort: 18081, statsSocketPath: join(dir, "admin.sock"),
    apiKeyMapPath: join(dir, "apikeys.map"), gatewayReplicas: 1, jwtIssuers: [], logTarget: agentLogTarget(15514),
  },
  endpoints: [{ name: "latency", runtime: "mlflow", auth: { apiKeys: true, jwt: false }, targetConcurrency: 64, slots: 2, queueTimeoutMs: 10_000, maxQueue: 10_000, maxBodyBytes: 1_048_576, modelTimeoutMs: 30_000 }],
});
writeFileSync(join(dir, "apikeys.map"), "");

function haproxyCheck(cfg: string, name: string): void {
  const f = join(dir, `${name}.cfg`);
  writeFileSync(f, cfg);
  execFileSync("haproxy", ["-c", "-q", "-f", f], { stdio: "pipe" });
}

describe("gateway config variants", () => {
  const base = profiledConfig(rendered, 15999);
  it("the profiled config has no master-worker or stats socket and logs to the given port", () => {
    assert.doesNotMatch(base, /master-worker|stats socket/);
    assert.match(base, /^ {4}log 127\.0\.0\.1:15999 /m);
  });

  for (const v of CONFIG_VARIANTS) {
    it(`${v.name}: HAProxy loads it${v.name === "gateway" ? "" : "; it is smaller than the full config"}`, () => {
      const cfg = v.edit(base);
      haproxyCheck(cfg, v.name);
      if (v.name !== "gateway") assert.ok(cfg.length < base.length, `${v.name} takes nothing out`);
    });
  }

  it("-api-key keeps the log line; -trace keeps the log line and drops every trace rule", () => {
    const edit = (n: string) => (CONFIG_VARIANTS.find((v) => v.name === n) as (typeof CONFIG_VARIANTS)[number]).edit(base);
    assert.match(edit("-api-key"), /log-format/);
    assert.doesNotMatch(edit("-api-key"), /sha2\(256\)/);
    assert.match(edit("-trace"), /log-format/);
    assert.doesNotMatch(edit("-trace"), /traceparent/);
  });

  it("the passthrough loads", () => haproxyCheck(passthroughConfig(18090, 18091), "passthrough"));

  it("parseAnnotate reads the totals of callgrind_annotate --inclusive=yes", () => {
    const text = [
      "--------------------------------------------------------------------------------",
      "72,233,944 (100.0%)  PROGRAM TOTALS",
      "42,618,530 (59.00%)  ???:http_process_req_common [/usr/sbin/haproxy]",
      " 4,446,165 ( 6.16%)  ???:strm_log [/usr/sbin/haproxy]",
    ].join("\n");
    assert.deepEqual(parseAnnotate(text), { total: 72_233_944, requestRules: 42_618_530, log: 4_446_165 });
    assert.deepEqual(parseAnnotate("nothing"), { total: 0, requestRules: 0, log: 0 });
  });
});
