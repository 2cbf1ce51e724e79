/** Pure units of the controller: config, warm-pool sizer, cluster state, status write rule, pod metrics. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { V1Deployment } from "@kubernetes/client-node";
import { isRollingOut, replicaStateOf, splitReplicas } from "../../controller/src/kube/cluster-state.ts";
import { ConfigError, loadConfig } from "../../controller/src/kube/config.ts";
import { gatewayTargetsFromSlices } from "../../controller/src/kube/gateway-targets.ts";
import { cpuCores, memoryBytes, podCapacity } from "../../controller/src/kube/pod-metrics.ts";
import { setCondition, statusNeedsWrite } from "../../controller/src/kube/status.ts";
import { largestBurst, sizeWarmPools, type WarmPoolConfig } from "../../controller/src/kube/warm-pool.ts";

describe("loadConfig", () => {
  const base = ["--gateway-url", "http://gw:8081/stats"];
  it("defaults", () => {
    const c = loadConfig(base, {}, { hostname: "pod-1" });
    assert.deepEqual(
      { identity: c.identity, lease: c.leaseDurationMs, renew: c.renewDeadlineMs, retry: c.retryPeriodMs, sample: c.sampleIntervalMs, port: c.port, urls: c.gatewayUrls, page: [c.gatewayMetricsPort, c.gatewayMetricsPath] },
      // The gateway page defaults to the agent's /stats (HAProxy's show stat CSV) on its HTTP port.
      { identity: "pod-1", lease: 15_000, renew: 10_000, retry: 2000, sample: 1000, port: 8080, urls: ["http://gw:8081/stats"], page: [8081, "/stats"] },
    );
    assert.ok(Object.isFrozen(c));
  });
  it("flags win over env, env over defaults", () => {
    const c = loadConfig([...base, "--sample-interval-ms", "500"], { APA_SAMPLE_INTERVAL_MS: "2000", POD_NAME: "ctl-7", APA_LOG_LEVEL: "debug" }, { hostname: "h" });
    assert.deepEqual([c.sampleIntervalMs, c.identity, c.logLevel], [500, "ctl-7", "debug"]);
  });
  const bad: { name: string; argv: string[]; env?: Record<string, string>; want: string }[] = [
    { name: "not a number", argv: [...base, "--sample-interval-ms", "fast"], want: 'invalid config sampleIntervalMs: --sample-interval-ms (APA_SAMPLE_INTERVAL_MS) = "fast": must be an integer from 100 to 60000' },
    { name: "out of range (env)", argv: base, env: { APA_LEASE_DURATION_MS: "500" }, want: 'invalid config leaseDurationMs: --lease-duration-ms (APA_LEASE_DURATION_MS) = "500": must be an integer from 2000 to 60000' },
    { name: "enum", argv: [...base, "--log-level", "loud"], want: 'invalid config logLevel: --log-level (APA_LOG_LEVEL) = "loud": allowed values are debug, info, warn, error' },
    { name: "renew ≥ lease", argv: [...base, "--renew-deadline-ms", "15000"], want: "invalid config renewDeadlineMs: --renew-deadline-ms (APA_RENEW_DEADLINE_MS) = 15000: must be less than --lease-duration-ms (15000)" },
    {
      name: "renew ≤ 1.2 × retry",
      argv: [...base, "--retry-period-ms", "20000", "--renew-deadline-ms", "8000"],
      want: "invalid config retryPeriodMs: --retry-period-ms (APA_RETRY_PERIOD_MS) = 20000: 1.2 × it (24000) must be less than --renew-deadline-ms (8000), so a leader gets more than one renewal attempt before it gives up",
    },
    { name: "service format", argv: ["--gateway-service", "gateway"], want: 'invalid config gatewayService: --gateway-service (APA_GATEWAY_SERVICE) = "gateway": must be namespace/name of a Service' },
    { name: "no gateway", argv: [], want: "invalid config gatewayService: set --gateway-service (APA_GATEWAY_SERVICE) to namespace/name of the gateway Service, or --gateway-url (APA_GATEWAY_URLS)" },
    { name: "bad url list", argv: ["--gateway-url", "http://a,ftp://b"], want: 'invalid config gatewayUrls: --gateway-url (APA_GATEWAY_URLS) = "http://a,ftp://b": every item must be an http(s) URL, got "ftp://b"' },
  ];
  for (const c of bad) {
    it(`rejects: ${c.name}`, () => assert.throws(() => loadConfig(c.argv, c.env ?? {}, { hostname: "h" }), (e: unknown) => e instanceof ConfigError && e.message === c.want));
  }
});

describe("warm-pool sizer", () => {
  const cfg: WarmPoolConfig = { lookbackMs: 3_600_000, provisionWindowMs: 300_000, headroom: 1, minPlaceholders: 0, maxPlaceholders: 20 };
  const now = 10_000_000;
  it("largest burst within one provisioning window", () => {
    const adds = [
      { atMs: 0, pool: "gpu", added: 2 },
      { atMs: 100_000, pool: "gpu", added: 3 },
      { atMs: 350_000, pool: "gpu", added: 1 },
      { atMs: 1_000_000, pool: "gpu", added: 4 },
    ];
    assert.equal(largestBurst(adds, 300_000), 5);
  });
  const cases: { name: string; input: Parameters<typeof sizeWarmPools>; want: [string, number][] }[] = [
    { name: "no history: floor", input: [[], ["cpu", "gpu"], now, cfg], want: [["cpu", 0], ["gpu", 0]] },
    {
      name: "per pool, recent bursts only",
      input: [[{ atMs: now - 60_000, pool: "gpu", added: 3 }, { atMs: now - 30_000, pool: "gpu", added: 2 }, { atMs: now - 4_000_000, pool: "cpu", added: 9 }], ["cpu", "gpu"], now, cfg],
      want: [["cpu", 0], ["gpu", 5]],
    },
    { name: "headroom and cap", input: [[{ atMs: now - 1, pool: "gpu", added: 15 }], ["gpu"], now, { ...cfg, headroom: 1.5 }], want: [["gpu", 20]] },
    { name: "floor", input: [[], ["gpu"], now, { ...cfg, minPlaceholders: 2 }], want: [["gpu", 2]] },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual([...sizeWarmPools(...c.input)], c.want));
});

describe("cluster state", () => {
  const dep = (replicas: number, st: Record<string, number>, generation = 1): V1Deployment => ({ metadata: { generation }, spec: { replicas, selector: {}, template: {} }, status: st });
  it("replica state: starting vs unschedulable after the grace", () => {
    const targets = [{ deployment: dep(5, { readyReplicas: 2, replicas: 5, updatedReplicas: 5, observedGeneration: 1 }), weight: 100 }];
    const at = (noAddressSinceMs: number | undefined) =>
      replicaStateOf({ targets, podsWithAddress: 3, targetConcurrency: 4, noAddressSinceMs, nowMs: 100_000, unschedulableAfterMs: 60_000 });
    assert.deepEqual(at(90_000), { desiredReplicas: 5, readyReplicas: 2, startingReplicas: 3, unschedulableReplicas: 0, targetConcurrency: 4 });
    assert.deepEqual(at(30_000), { desiredReplicas: 5, readyReplicas: 2, startingReplicas: 1, unschedulableReplicas: 2, targetConcurrency: 4 });
  });
  it("rollout detection", () => {
    assert.equal(isRollingOut(dep(3, { observedGeneration: 1, updatedReplicas: 3, replicas: 3 })), false);
    assert.equal(isRollingOut(dep(3, { observedGeneration: 1, updatedReplicas: 3, replicas: 3 }, 2)), true);
    assert.equal(isRollingOut(dep(3, { observedGeneration: 1, updatedReplicas: 1, replicas: 4 })), true);
  });
  const split = [
    { name: "even", input: [10, [50, 50]] as const, want: [5, 5] },
    { name: "largest remainder", input: [7, [90, 10]] as const, want: [6, 1] },
    { name: "each live version keeps one", input: [1, [99, 1]] as const, want: [1, 1] },
    { name: "zero weight gets none", input: [4, [100, 0]] as const, want: [4, 0] },
    { name: "zero total", input: [0, [50, 50]] as const, want: [0, 0] },
  ];
  for (const c of split) it(`splitReplicas: ${c.name}`, () => assert.deepEqual(splitReplicas(c.input[0], c.input[1]), c.want));
  it("gateway targets from slices: ready, deduplicated, sorted", () => {
    const slices = [
      { metadata: { namespace: "gw" }, addressType: "IPv4", endpoints: [
        { addresses: ["10.1.0.2"], conditions: { ready: true }, targetRef: { name: "gw-b" } },
        { addresses: ["10.1.0.1"], conditions: { ready: true }, targetRef: { name: "gw-a" } },
        { addresses: ["10.1.0.3"], conditions: { ready: false }, targetRef: { name: "gw-c" } },
      ] },
      { metadata: { namespace: "other" }, addressType: "IPv4", endpoints: [{ addresses: ["10.9.0.1"] }] },
    ];
    assert.deepEqual(gatewayTargetsFromSlices(slices, "gw", 8081, "/stats"), [
      { id: "gw-a", url: "http://10.1.0.1:8081/stats" },
      { id: "gw-b", url: "http://10.1.0.2:8081/stats" },
    ]);
  });
});

describe("status", () => {
  it("keeps lastTransitionTime while the status stays", () => {
    const c1 = setCondition([], { type: "Ready", status: "True", reason: "A", message: "m" }, "t1", 1);
    const c2 = setCondition(c1, { type: "Ready", status: "True", reason: "B", message: "n" }, "t2", 1);
    const c3 = setCondition(c2, { type: "Ready", status: "False", reason: "C", message: "o" }, "t3", 1);
    assert.deepEqual([c2[0]?.lastTransitionTime, c3[0]?.lastTransitionTime], ["t1", "t3"]);
  });
  const base = { replicas: 3, readyReplicas: 3, desiredReplicas: 3, targetConcurrency: 4, observedQps: 100, conditions: [] };
  const cases = [
    { name: "first write", input: [undefined, base, undefined, 0] as const, want: true },
    { name: "target concurrency: at once", input: [base, { ...base, targetConcurrency: 5 }, 0, 1000] as const, want: true },
    { name: "load change inside the interval: later", input: [base, { ...base, observedQps: 200 }, 0, 1000] as const, want: false },
    { name: "load change after the interval", input: [base, { ...base, observedQps: 200 }, 0, 61_000] as const, want: true },
    { name: "small load change after the interval: skip", input: [base, { ...base, observedQps: 105 }, 0, 61_000] as const, want: false },
  ];
  for (const c of cases) it(`statusNeedsWrite: ${c.name}`, () => assert.equal(statusNeedsWrite(c.input[0], c.input[1], c.input[2], c.input[3], 60_000), c.want));
});

describe("pod metrics", () => {
  const q = [
    { name: "250m", input: cpuCores("250m"), want: 0.25 },
    { name: "2", input: cpuCores("2"), want: 2 },
    { name: "1500000n", input: cpuCores("1500000n"), want: 0.0015 },
    { name: "4Gi", input: memoryBytes("4Gi"), want: 4 * 1024 ** 3 },
    { name: "1G", input: memoryBytes("1G"), want: 1e9 },
  ];
  for (const c of q) it(`quantity ${c.name}`, () => assert.ok(Math.abs((c.input ?? NaN) - c.want) < 1e-12));
  it("pod capacity: limits, else requests", () => {
    const d: V1Deployment = { spec: { selector: {}, template: { spec: { containers: [
      { name: "a", resources: { limits: { cpu: "2", memory: "4Gi" } } },
      { name: "b", resources: { requests: { cpu: "500m", memory: "1Gi" } } },
    ] } } } };
    assert.deepEqual(podCapacity(d), { cpu: 2.5, memory: 5 * 1024 ** 3 });
  });
});

describe("docs/controller.md", () => {
  it("documents every controller and gateway-agent flag with its environment variable", async () => {
    const { readFileSync } = await import("node:fs");
    const { CONFIG_KEYS } = await import("../../controller/src/kube/config.ts");
    const { AGENT_CONFIG_KEYS } = await import("../../controller/src/gateway/agent-config.ts");
    const doc = readFileSync(new URL("../../docs/controller.md", import.meta.url), "utf8");
    const missing = [...Object.values(CONFIG_KEYS), ...Object.values(AGENT_CONFIG_KEYS)].filter((k) => !doc.includes(`| \`--${k.flag}\` | \`${k.env}\` |`)).map((k) => k.flag);
    assert.deepEqual(missing, []);
  });
});
