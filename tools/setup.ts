/**
 * Everything the tests and the local tools need besides `npm ci`, made idempotent so `npm test` can run it
 * first on every run: the Python virtualenv (tools/python/venv.ts), the embedding model exported into it
 * (tools/python/embedding-model.ts), actionlint built from its Go module (tools/actionlint/build.ts), the
 * Kubernetes control plane built from Go modules
 * (tools/control-plane/build.ts: kube-apiserver, kube-controller-manager, kube-scheduler, kwok), the GCS test server
 * and an OpenTelemetry Collector for config validation (tools/go-tools/build.ts); with
 * `AUTOPILOT_PULUMI=1` also the Pulumi CLI and Kubernetes provider (tools/pulumi/build.ts: heavy, so behind the
 * switch). Each step prints what it does only when it has something to do; a missing system prerequisite stops
 * with the command that installs it.
 *
 *   node tools/setup.ts [--help]
 */
import { ensureActionlint } from "./actionlint/build.ts";
import { ensureControlPlane } from "./control-plane/build.ts";
import { ensureGoTools } from "./go-tools/build.ts";
import { ensurePulumi } from "./pulumi/build.ts";
import { ensureEmbeddingModel } from "./python/embedding-model.ts";
import { ensurePythonEnv } from "./python/venv.ts";

if (process.argv.includes("--help")) {
  console.log(
    [
      "usage: node tools/setup.ts",
      "  prepares what npm test needs beyond npm ci: the Python virtualenv (.venv/python), the embedding model and the",
      "  actionlint built from its Go module (.tools/actionlint/bin) and the control plane built from Go modules",
      "  (.tools/control-plane/bin; needs Go and, to run it, Debian's etcd-server);",
      "  fake-gcs-server and an OpenTelemetry Collector built from Go modules (.tools/go-tools/bin);",
      "  AUTOPILOT_PULUMI=1 also builds the Pulumi CLI and Kubernetes provider (.tools/pulumi/bin) for test/cluster/pulumi-up.test.ts",
    ].join("\n"),
  );
  process.exit(0);
}

try {
  const log = (line: string): void => console.error(`setup: ${line}`);
  ensureEmbeddingModel(ensurePythonEnv(log), log);
  ensureActionlint(log);
  ensureControlPlane(log);
  ensureGoTools(log);
  if (process.env["AUTOPILOT_PULUMI"] === "1") ensurePulumi(log);
} catch (err) {
  console.error(`setup: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
