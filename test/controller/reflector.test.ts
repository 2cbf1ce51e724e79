import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { V1Deployment } from "@kubernetes/client-node";
import { backoffDelayMs } from "../../controller/src/kube/backoff.ts";
import { kubeConfigForUrl, makeKubeApi, PATHS } from "../../controller/src/kube/kube-api.ts";
import { jsonLogger, silentLogger } from "../../controller/src/kube/logger.ts";
import { systemClock } from "../../controller/src/kube/clock.ts";
import { Reflector } from "../../controller/src/kube/reflector.ts";
import { FakeApiServer } from "./fake-api-server.ts";
import { deploymentObj, waitFor } from "./helpers.ts";

const LABEL = "serving.autopilot.dev/endpoint";

describe("backoffDelayMs", () => {
  const cases = [
    { name: "no failure", input: 0, want: 0 },
    { name: "first", input: 1, want: 1000 },
    { name: "doubles", input: 3, want: 4000 },
    { name: "capped", input: 10, want: 30_000 },
    { name: "huge stays finite", input: 10_000, want: 30_000 },
  ];
  for (const c of cases) it(c.name, () => assert.equal(backoffDelayMs(c.input), c.want));
});

describe("Reflector against the FakeApiServer test double (real client-node)", () => {
  const fake = new FakeApiServer();
  before(() => fake.start());
  after(() => fake.stop());

  function makeReflector(delays: number[]) {
    const api = makeKubeApi(kubeConfigForUrl(fake.url));
    const changes: string[] = [];
    const r = new Reflector<V1Deployment>({
      name: "deployments",
      path: PATHS.deployments,
      list: () => api.listDeployments(LABEL),
      labelSelector: LABEL,
      watch: api.watch,
      delayFn: async (ms) => void delays.push(ms),
      log: process.env["DEBUG_TEST"] ? jsonLogger({ level: "debug", clock: systemClock }) : silentLogger,
      onChange: (t, o) => changes.push(`${t} ${o.metadata?.name}`),
    });
    return { r, changes };
  }

  it("lists, watches with bookmarks from the list's resourceVersion, survives drops, 410 and 5xx", async () => {
    fake.put("deployments", deploymentObj("a", "one", 2, { [LABEL]: "one" }));
    fake.put("deployments", deploymentObj("a", "other", 2, { app: "unrelated" }));
    const delays: number[] = [];
    const { r, changes } = makeReflector(delays);
    r.start();
    await waitFor(() => r.hasSynced && fake.openWatches("deployments") === 1, 5000, "sync");
    assert.deepEqual(changes, ["add one"]);
    const firstWatch = fake.requests.find((q) => q.path === PATHS.deployments && q.query["watch"] === "true");
    assert.deepEqual(
      { rv: firstWatch?.query["resourceVersion"], bookmarks: firstWatch?.query["allowWatchBookmarks"], sel: firstWatch?.query["labelSelector"] },
      { rv: String(fake.resourceVersion), bookmarks: "true", sel: LABEL },
    );

    // events arrive over the watch
    fake.put("deployments", deploymentObj("a", "two", 1, { [LABEL]: "two" }));
    await waitFor(() => r.get("a", "two") !== undefined, 5000, "watch add");

    // a bookmark advances the resourceVersion without changing objects
    fake.put("deployments", deploymentObj("b", "unrelated", 1, { app: "x" }));
    fake.bookmark();
    await waitFor(() => r.resourceVersion === String(fake.resourceVersion), 5000, "bookmark rv");

    // dropped watch: resume from the last resourceVersion, no relist
    const listsBefore = fake.count("GET", /deployments$/) - fake.requests.filter((q) => q.query["watch"] === "true").length;
    fake.dropWatches();
    await waitFor(() => fake.openWatches("deployments") === 1, 5000, "rewatch");
    const resumed = fake.requests.filter((q) => q.path === PATHS.deployments && q.query["watch"] === "true").at(-1);
    assert.equal(resumed?.query["resourceVersion"], r.resourceVersion);
    assert.equal(r.stats.lists, 1);

    // 410 Gone after compaction → relist; a delete that happened meanwhile is noticed
    await waitFor(() => fake.openWatches("deployments") === 1, 5000, "watch before 410 phase");
    fake.dropWatches();
    fake.delete("deployments", "a", "one");
    fake.compact();
    await waitFor(() => r.stats.relists410 >= 1 && r.stats.lists === 2, 5000, "relist after 410");
    await waitFor(() => r.get("a", "one") === undefined, 5000, "delete after relist");
    assert.ok(listsBefore >= 1);

    // 5xx on the list three times: backoff 1 s, 2 s, 4 s (injected delay), then success resets it
    await waitFor(() => fake.openWatches("deployments") === 1, 5000, "watch before 503 phase");
    fake.faults.push({ method: "GET", path: /deployments$/, watch: false, status: 503, times: 3 });
    delays.length = 0;
    fake.compact();
    await waitFor(() => r.stats.lists === 6 && r.hasSynced && fake.openWatches("deployments") === 1, 5000, "recover from 503");
    assert.deepEqual(delays.slice(0, 3), [1000, 2000, 4000]);
    fake.faults.push({ method: "GET", path: /deployments$/, watch: true, status: 500, times: 1 });
    delays.length = 0;
    fake.dropWatches();
    await waitFor(() => delays.length >= 1 && fake.openWatches("deployments") === 1, 5000, "recover from watch 500");
    assert.equal(delays[0], 1000, "backoff was reset by the successful relist");

    // slow list response still syncs
    await waitFor(() => fake.openWatches("deployments") === 1, 5000, "watch before slow phase");
    fake.faults.push({ method: "GET", path: /deployments$/, watch: false, delayMs: 300, times: 1 });
    fake.compact();
    fake.put("deployments", deploymentObj("a", "three", 1, { [LABEL]: "three" }));
    await waitFor(() => r.get("a", "three") !== undefined, 5000, "slow relist");
    assert.deepEqual(
      r.list().map((d) => d.metadata?.name).sort(),
      ["three", "two"],
    );
    await r.stop();
    await waitFor(() => fake.openWatches("deployments") === 0, 5000, "watch closed on stop");
  });
});

describe("paginated lists (real client-node, FakeApiServer test double)", () => {
  it("a list of 1,200 objects comes in pages of 500 with continue tokens, all cached, one resourceVersion", async () => {
    const fake = new FakeApiServer();
    await fake.start();
    try {
      for (let i = 0; i < 1200; i++) fake.put("deployments", deploymentObj(`ns-${i}`, `d-${i}`, 1, { [LABEL]: `d-${i}` }));
      const api = makeKubeApi(kubeConfigForUrl(fake.url));
      const r = new Reflector<V1Deployment>({
        name: "deployments", path: PATHS.deployments, list: () => api.listDeployments(LABEL), labelSelector: LABEL,
        watch: api.watch, delayFn: async () => {}, log: silentLogger,
      });
      r.start();
      await waitFor(() => r.hasSynced, 10_000, "sync");
      await r.stop();
      const lists = fake.requests.filter((q) => q.path === PATHS.deployments && q.query["watch"] !== "true");
      assert.deepEqual(lists.map((q) => [q.query["limit"], q.query["continue"]]), [["500", undefined], ["500", "500"], ["500", "1000"]]);
      assert.equal(r.list().length, 1200);
      assert.equal(r.resourceVersion, String(fake.resourceVersion));
    } finally {
      await fake.stop();
    }
  });
});
