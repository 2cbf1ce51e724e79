/**
 * `pulumi up --stack local` with the real Pulumi engine (the CLI built from github.com/pulumi/pulumi/pkg/v3)
 * and the real Kubernetes provider (built from github.com/pulumi/pulumi-kubernetes/provider/v4) against the
 * real control plane with kwok nodes: file backend, passphrase secrets, the stack config as committed
 * (Pulumi.yaml + Pulumi.local.yaml, copied to a scratch directory so nothing in the repository is written) with
 * the kube context pointed at the test cluster. The Node.js language host's Go module is not served by the
 * module proxy, so the program runs as an Automation API inline program (the Node process is the language
 * runtime the engine calls). Up, a second up that must change nothing, then destroy.
 *
 * Runs when the engine is built (`AUTOPILOT_PULUMI=1 node tools/setup.ts`, or node tools/pulumi/build.ts).
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import YAML from "yaml";
import { prepareStack, readStackConfig, runProgram } from "../../infra/program.ts";
import { PULUMI_BIN_DIR, PULUMI_ROOT, pulumiIsCurrent } from "../../tools/pulumi/build.ts";
import { useControlPlane } from "./helpers.ts";
import { kwokNode } from "./peers.ts";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const built = pulumiIsCurrent();
const cluster = built ? useControlPlane({ nodes: true }) : undefined;

describe("pulumi up --stack local with the real engine and Kubernetes provider", { skip: built ? false : "the Pulumi engine is not built (AUTOPILOT_PULUMI=1 node tools/setup.ts)" }, () => {
  it("up brings the stack up, a second up changes nothing, destroy leaves nothing", { timeout: 1_800_000 }, async () => {
    const cp = cluster!();
    for (let i = 1; i <= 3; i++) await cp.admin.mustApply(kwokNode(`kwok-local-${i}`, {}));
    const work = mkdtempSync(join(tmpdir(), "autopilot-pulumi-"));
    try {
      copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(work, "Pulumi.yaml"));
      const stackFile = YAML.parse(readFileSync(join(REPO_ROOT, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> };
      stackFile.config["autopilot-serving:kubeContext"] = "autopilot-test";
      writeFileSync(join(work, "Pulumi.local.yaml"), YAML.stringify(stackFile));
      const pulumiCommand = await PulumiCommand.get({ root: PULUMI_ROOT, skipVersionCheck: true });
      const stack: Stack = await LocalWorkspace.createOrSelectStack(
        {
          stackName: "local",
          projectName: "autopilot-serving",
          program: async () => {
            const cfg = readStackConfig();
            const out = runProgram(cfg, await prepareStack(cfg));
            return { gatewayUrl: out.gatewayUrl, grafanaUrl: out.grafanaUrl, endpointUrls: out.endpointUrls };
          },
        },
        {
          workDir: work,
          pulumiCommand,
          secretsProvider: "passphrase",
          envVars: {
            PULUMI_BACKEND_URL: `file://${join(work, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "autopilot-test-passphrase",
            PULUMI_HOME: join(work, "home"),
            PULUMI_SKIP_UPDATE_CHECK: "true",
            KUBECONFIG: cp.kubeconfigPath,
            PATH: `${PULUMI_BIN_DIR}:${process.env["PATH"] ?? ""}`,
          },
        },
      );
      const log: string[] = [];
      const onOutput = (line: string) => void log.push(line);
      const up = await stack.up({ onOutput }).catch((err: unknown) => {
        throw new Error(`pulumi up failed: ${err instanceof Error ? err.message : String(err)}\n${log.slice(-60).join("")}`);
      });
      assert.equal(up.summary.result, "succeeded");
      const second = await stack.preview({ diff: true });
      assert.deepEqual(Object.keys(second.changeSummary).filter((k) => k !== "same"), [], `second run would change: ${JSON.stringify(second.changeSummary)}`);
      const again = await stack.up({ onOutput });
      assert.deepEqual(Object.keys(again.summary.resourceChanges ?? {}).filter((k) => k !== "same"), []);
      const destroyed = await stack.destroy({ onOutput });
      assert.equal(destroyed.summary.result, "succeeded");
      const left = await cp.admin.get<{ items: { metadata: { name: string } }[] }>("/api/v1/namespaces");
      const ours = left.items.map((n) => n.metadata.name).filter((n) => n.startsWith("autopilot-") || n.startsWith("ep-"));
      assert.deepEqual(ours, []);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
