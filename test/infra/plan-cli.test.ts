/**
 * `npm run plan -- --stack <each> --json` lists every component of the platform for that cloud, labelled as an
 * offline mock evaluation; bad input exits 2 as `npm run check` does. Runs the real CLIs in child processes.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { describe, it } from "node:test";
import { promisify } from "node:util";
import { EXAMPLE_STACKS } from "../../infra/evaluate.ts";

const run = promisify(execFile);
const PLAN = new URL("../../infra/plan.ts", import.meta.url).pathname;
const CHECK = new URL("../../policies/check.ts", import.meta.url).pathname;
const COMPONENTS = [
  "autopilot:platform:ServingPlatform", "autopilot:cluster:Cluster", "autopilot:node-pool:NodePool", "autopilot:warm-pool:WarmPool",
  "autopilot:model-cache:ModelCache", "autopilot:gateway:Gateway", "autopilot:observability:Observability",
  "autopilot:controller:ApaController", "autopilot:endpoint:ServingEndpoint",
];

describe("npm run plan -- --json", () => {
  for (const stack of EXAMPLE_STACKS) {
    it(`${stack}: every component, cloud resources of that cloud, mock label`, async () => {
      const { stdout } = await run(process.execPath, [PLAN, "--stack", stack, "--json"], { maxBuffer: 64 << 20 });
      const inv = JSON.parse(stdout) as { label: string; cloud: string; components: Record<string, number>; resources: { type: string }[] };
      assert.match(inv.label, /^OFFLINE MOCK EVALUATION/);
      for (const c of COMPONENTS) assert.ok((inv.components[c] ?? 0) >= 1, `${stack}: ${c} missing`);
      const types = new Set(inv.resources.map((r) => r.type));
      const want = { local: "kubernetes:helm.sh/v4:Chart", "staging-aws": "aws:eks/cluster:Cluster", "prod-gcp": "gcp:container/cluster:Cluster" }[stack];
      assert.ok(types.has(want), `${stack}: no ${want}`);
      if (stack !== "local") assert.equal(inv.components["autopilot:node-pool:NodePool"], 2, "CPU and GPU pools");
    });
  }

  it("a bad stack config exits 2 (as npm run check does) and names key, value and allowed values", async () => {
    await assert.rejects(run(process.execPath, [PLAN, "--stack", "local", "--set", "cloud=azure"]), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, /config key "autopilot-serving:cloud": field "cloud" has value "azure"; allowed: local, aws, gcp/);
      return true;
    });
    await assert.rejects(run(process.execPath, [CHECK, "--stack", "local", "--set", "cloud=azure"]), (e: { code: number }) => e.code === 2);
  });

  it("an unknown stack exits 2 in plan and check alike, listing the stacks there are", async () => {
    for (const cli of [PLAN, CHECK]) {
      await assert.rejects(run(process.execPath, [cli, "--stack", "kind"]), (e: { code: number; stderr: string }) => {
        assert.equal(e.code, 2, cli);
        assert.match(e.stderr, /stack "kind": no Pulumi\.kind\.yaml in \S+; stacks there: local, prod-gcp, staging-aws/);
        assert.doesNotMatch(e.stderr, /ENOENT/);
        return true;
      });
    }
  });
});
