/** The local scaler: real model-server processes registered as pods; drain before stop; crash replacement. */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { LocalDesiredStateSource } from "../../controller/src/local/local-source.ts";
import { ProcessPool } from "../../controller/src/local/process-pool.ts";
import { until } from "../gateway/harness.ts";

describe("ProcessPool (real model-server processes)", () => {
  let pool: ProcessPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it("scales up to ready pods, replaces a crashed one, drains before stopping on scale-down", async () => {
    const source = new LocalDesiredStateSource();
    const drainedAsked: string[] = [];
    let allowDrain = false;
    pool = new ProcessPool({
      endpoint: "ep",
      source,
      serverArgs: ["--cpu-ms", "0"],
      drained: (id) => {
        drainedAsked.push(id);
        return allowDrain;
      },
    });
    pool.scaleTo(2);
    assert.ok(await until(() => (source.current().pods.get("ep") ?? []).filter((p) => p.ready).length === 2, 10_000), "2 ready pods");
    assert.deepEqual(pool.state(4), { desiredReplicas: 2, readyReplicas: 2, startingReplicas: 0, unschedulableReplicas: 0, targetConcurrency: 4 });
    assert.equal(pool.starts.length, 2, "each start recorded once it serves");
    for (const st of pool.starts) assert.ok(st.readyAfterMs > 0 && st.readyAfterMs < 10_000 && pool.list().some((r) => r.id === st.id), `start ${JSON.stringify(st)}`);

    const killed = pool.killOne();
    assert.ok(killed);
    assert.ok(await until(() => pool!.crashes === 1 && pool!.state(4).readyReplicas === 2 && !pool!.list().some((r) => r.id === killed), 10_000), "replaced");
    assert.ok(!(source.current().pods.get("ep") ?? []).some((p) => p.id === killed), "the dead pod left the desired state");

    pool.scaleTo(1);
    assert.ok(await until(() => (source.current().pods.get("ep") ?? []).some((p) => p.terminating), 2000), "one pod marked terminating");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(pool.list().length, 2, "not stopped before the gateway drained it");
    assert.ok(drainedAsked.length > 0);
    allowDrain = true;
    assert.ok(await until(() => pool!.list().length === 1 && (source.current().pods.get("ep") ?? []).length === 1, 5000), "stopped after the drain");
    assert.equal(pool.crashes, 1, "a retired process is not a crash");
  });
});
