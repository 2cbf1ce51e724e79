/** The pure renderer and its validation: exact error messages; rendered configs pass `haproxy -c`. */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { renderSlots, SLOT_CHECK } from "../../controller/src/gateway/render-backend.ts";
import { renderConfig } from "../../controller/src/gateway/render-config.ts";
import type { GatewayEndpoint, GatewaySettings } from "../../controller/src/gateway/types.ts";
import { GatewayConfigError, gatewayProblems, perPodMaxconn } from "../../controller/src/gateway/validate.ts";

const dir = mkdtempSync(join(tmpdir(), "apgw-render-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const settings = (over: Partial<GatewaySettings> = {}): GatewaySettings => ({
  bindAddress: "127.0.0.1",
  publicPort: 8080,
  metricsPort: 8404,
  statsSocketPath: join(dir, "admin.sock"),
  apiKeyMapPath: join(dir, "keys.map"),
  gatewayReplicas: 1,
  jwtIssuers: [],
  ...over,
});
const ep = (name: string, over: Partial<GatewayEndpoint> = {}): GatewayEndpoint => ({
  name,
  runtime: "mlflow",
  auth: { apiKeys: true, jwt: false },
  targetConcurrency: 4,
  slots: 8,
  queueTimeoutMs: 1500,
  maxQueue: 64,
  maxBodyBytes: 16_777_216,
  modelTimeoutMs: 60_000,
  ...over,
});

function haproxyCheck(cfg: string): void {
  const path = join(dir, "haproxy.cfg");
  writeFileSync(path, cfg);
  writeFileSync(join(dir, "keys.map"), "");
  execFileSync("/usr/sbin/haproxy", ["-c", "-f", path], { stdio: "pipe" });
}

describe("renderConfig", () => {
  writeFileSync(join(dir, "rs.pem"), "unused by -c");
  const valid: Array<{ name: string; endpoints: GatewayEndpoint[]; settings?: GatewaySettings }> = [
    { name: "no endpoints", endpoints: [] },
    { name: "one MLflow endpoint", endpoints: [ep("iris")] },
    { name: "every runtime", endpoints: [ep("a"), ep("b", { runtime: "vllm" }), ep("c", { runtime: "triton" }), ep("d", { runtime: "custom", paths: { invocations: "/predict" } })] },
    { name: "200 endpoints × 64 slots", endpoints: Array.from({ length: 200 }, (_, i) => ep(`ep-${i}`, { slots: 64 })) },
  ];
  for (const c of valid) {
    it(`${c.name}: haproxy -c accepts it`, () => haproxyCheck(renderConfig({ settings: c.settings ?? settings(), endpoints: c.endpoints })));
  }

  it("an endpoint's backend: leastconn, slots, maxconn, queue timeout, queue bound, body limit, path rewrite", () => {
    const cfg = renderConfig({ settings: settings({ gatewayReplicas: 2 }), endpoints: [ep("iris", { targetConcurrency: 5, slots: 4, queueTimeoutMs: 700, maxQueue: 9, maxBodyBytes: 1234 })] });
    const be = cfg.slice(cfg.indexOf("backend be_iris"));
    for (const want of [
      "balance leastconn",
      "timeout queue 700ms",
      "if { queue() ge 9 }",
      "if { req.hdr_val(content-length) gt 1234 }",
      "http-request set-path /invocations if { var(txn.route) -m str invocations }",
      `server-template pod 1-4 0.0.0.0:1 disabled maxconn 2 weight 100 ${SLOT_CHECK}`,
    ]) assert.ok(be.includes(want), `missing: ${want}`);
    assert.ok(cfg.includes("bind 127.0.0.1:8404") && cfg.includes("use-service prometheus-exporter"));
    assert.ok(cfg.includes("option idle-close-on-response"));
  });

  it("runtime values are written into the config (live slots as server lines)", () => {
    const runtime = new Map([["iris", new Map([
      ["pod2", { podId: "a", addr: "10.0.0.7", port: 8080, state: "ready" as const, maxconn: 3 }],
      ["pod3", { podId: "b", addr: "10.0.0.8", port: 8080, state: "drain" as const, maxconn: 3 }],
    ])]]);
    const cfg = renderConfig({ settings: settings(), endpoints: [ep("iris", { slots: 5 })], runtime });
    assert.ok(cfg.includes(
      [
        `    server-template pod 1-1 0.0.0.0:1 disabled maxconn 4 weight 100 ${SLOT_CHECK}`,
        `    server pod2 10.0.0.7:8080 maxconn 3 weight 100 ${SLOT_CHECK}`,
        `    server pod3 10.0.0.8:8080 disabled maxconn 3 weight 100 ${SLOT_CHECK}`,
        `    server-template pod 4-5 0.0.0.0:1 disabled maxconn 4 weight 100 ${SLOT_CHECK}`,
      ].join("\n"),
    ), cfg.slice(cfg.indexOf("backend")));
    haproxyCheck(cfg);
  });

  it("JWT issuers: alg, key file, issuer and audience checks", () => {
    const cfg = renderConfig({
      settings: settings({ jwtIssuers: [{ alg: "ES256", publicKeyPath: join(dir, "es.pem"), issuer: "https://idp", audience: "serving" }] }),
      endpoints: [ep("iris", { auth: { apiKeys: false, jwt: true } })],
    });
    assert.ok(cfg.includes(`{ var(txn.jwt_alg) -m str ES256 } { var(txn.jwt_iss) -m str https://idp } jwt_aud_0 { var(txn.bearer),jwt_verify(ES256,"${join(dir, "es.pem")}") -m int 1 }`));
    assert.ok(cfg.includes(`    acl jwt_aud_0 var(txn.jwt_aud) -m str serving`));
    assert.ok(cfg.includes(`    acl jwt_aud_0 var(txn.jwt_aud7) -m str serving`));
    haproxyCheck(cfg);
  });

  const invalid: Array<{ name: string; endpoints: GatewayEndpoint[]; settings?: GatewaySettings; want: string[] }> = [
    { name: "bad name", endpoints: [ep("Iris_1")], want: [`endpoints[0].name: "Iris_1" is not allowed; must be a DNS label (lower-case letters, digits and '-', starting and ending with a letter or digit, 1..63 characters)`] },
    { name: "zero concurrency", endpoints: [ep("a", { targetConcurrency: 0 })], want: ["endpoints[0].targetConcurrency: 0 is not allowed; must be an integer in 1..4096"] },
    { name: "fractional queue timeout", endpoints: [ep("a", { queueTimeoutMs: 1.5 })], want: ["endpoints[0].queueTimeoutMs: 1.5 is not allowed; must be an integer in 1..600000"] },
    { name: "zero queue bound", endpoints: [ep("a", { maxQueue: 0 })], want: ["endpoints[0].maxQueue: 0 is not allowed; must be an integer in 1..100000"] },
    { name: "too many slots", endpoints: [ep("a", { slots: 5000 })], want: ["endpoints[0].slots: 5000 is not allowed; must be an integer in 1..4096"] },
    { name: "duplicate names", endpoints: [ep("a"), ep("a")], want: [`endpoints[1].name: "a" is not allowed; endpoints[0] has the same name`] },
    { name: "no auth", endpoints: [ep("a", { auth: { apiKeys: false, jwt: false } })], want: [`endpoints[0].auth: {"apiKeys":false,"jwt":false} is not allowed; enable apiKeys, jwt or both`] },
    { name: "JWT without issuers", endpoints: [ep("a", { auth: { apiKeys: false, jwt: true } })], want: ["endpoints[0].auth.jwt: true is not allowed while settings.jwtIssuers is empty; add an issuer"] },
    { name: "path with a quote", endpoints: [ep("a", { paths: { invocations: "/x'y" } })], want: [`endpoints[0].paths.invocations: "/x'y" is not allowed; must be an absolute URL path of letters, digits and . _ ~ / -`] },
    { name: "same ports", endpoints: [], settings: settings({ metricsPort: 8080 }), want: ["settings.metricsPort: 8080 is not allowed; must differ from settings.publicPort"] },
    {
      name: "JWT issuer without issuer and audience",
      endpoints: [],
      settings: settings({ jwtIssuers: [{ alg: "ES256", publicKeyPath: "/k/es.pem" } as never] }),
      want: ["settings.jwtIssuers[0].issuer: undefined is not allowed; required: 1..256 of letters, digits and . _ : / -", "settings.jwtIssuers[0].audience: undefined is not allowed; required: 1..256 of letters, digits and . _ : / -"],
    },
    { name: "zero gateway replicas", endpoints: [], settings: settings({ gatewayReplicas: 0 }), want: ["settings.gatewayReplicas: 0 is not allowed; must be an integer in 1..1000"] },
    { name: "two problems at once", endpoints: [ep("a", { maxBodyBytes: -1, modelTimeoutMs: 0 })], want: ["endpoints[0].maxBodyBytes: -1 is not allowed; must be an integer in 1..1073741824", "endpoints[0].modelTimeoutMs: 0 is not allowed; must be an integer in 1..3600000"] },
  ];
  for (const c of invalid) {
    it(`rejects ${c.name}`, () => {
      assert.deepEqual(gatewayProblems(c.settings ?? settings(), c.endpoints), c.want);
      assert.throws(() => renderConfig({ settings: c.settings ?? settings(), endpoints: c.endpoints }), (e: unknown) => e instanceof GatewayConfigError && e.problems.length === c.want.length);
    });
  }

  it("lowLatency adds tune.sched.low-latency", () => {
    assert.ok(renderConfig({ settings: settings({ lowLatency: true }), endpoints: [] }).includes("    tune.sched.low-latency on\n"));
    assert.ok(!renderConfig({ settings: settings(), endpoints: [] }).includes("low-latency"));
    haproxyCheck(renderConfig({ settings: settings({ lowLatency: true }), endpoints: [ep("a")] }));
  });

  it("perPodMaxconn divides across gateway replicas and never returns 0", () => {
    const table: Array<[number, number, number]> = [[8, 1, 8], [8, 2, 4], [8, 3, 2], [1, 4, 1], [3, 1000, 1]];
    for (const [target, replicas, want] of table) assert.equal(perPodMaxconn(target, replicas), want, `${target}/${replicas}`);
  });

  it("renderSlots: runs of empty slots as templates", () => {
    assert.deepEqual(renderSlots(3, 2, undefined), [`    server-template pod 1-3 0.0.0.0:1 disabled maxconn 2 weight 100 ${SLOT_CHECK}`]);
  });
});
