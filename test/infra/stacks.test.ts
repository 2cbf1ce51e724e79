/**
 * Every example stack evaluated offline under Pulumi's mocks (TEST DOUBLE of the engine, infra/mock-monitor.ts),
 * with assertions on the registered resources.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EXAMPLE_STACKS } from "../../infra/evaluate.ts";
import { evaluateStack } from "../../infra/evaluate.ts";
import { evaluated, kubeObjects, type Obj, ofType, podSpecs } from "./helpers.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
/** A 70B LLM as stack config exampleLlmUri names it (the offline plan reads infra/offline-models/, a test double). */
const LLAMA_70B = "gs://autopilot-example-models/llama-3-70b-instruct/";

const EXPECTED_COMPONENTS = [
  "autopilot:platform:ServingPlatform", "autopilot:cluster:Cluster", "autopilot:node-pool:NodePool", "autopilot:warm-pool:WarmPool",
  "autopilot:model-cache:ModelCache", "autopilot:gateway:Gateway", "autopilot:observability:Observability",
  "autopilot:controller:ApaController", "autopilot:endpoint:ServingEndpoint",
];

for (const stack of EXAMPLE_STACKS) {
  describe(`stack ${stack} (offline mock evaluation)`, () => {
    it("registers every component of the platform", async () => {
      const ev = await evaluated(stack);
      for (const t of EXPECTED_COMPONENTS) assert.ok(ev.resources.some((r) => r.type === t), `missing ${t}`);
    });

    it("every child resource has a parent inside the platform", async () => {
      const ev = await evaluated(stack);
      for (const r of ev.resources.filter((x) => x.type !== "pulumi:pulumi:Stack" && x.type !== "autopilot:platform:ServingPlatform")) {
        assert.match(r.parent, /ServingPlatform/, `${r.type} ${r.name} is not under the platform`);
      }
    });

    it("GPU workloads tolerate the GPU pool's taint and select its labels; nobody hand-types placements", async () => {
      const ev = await evaluated(stack);
      const gpuTaints: Obj[] = [
        ...ofType(ev, "aws:eks/nodeGroup:NodeGroup").flatMap((r) => (r.inputs.taints as Obj[] | undefined) ?? []),
        ...ofType(ev, "gcp:container/nodePool:NodePool").flatMap((r) => ((r.inputs.nodeConfig as Obj).taints as Obj[] | undefined) ?? []),
      ];
      const gpuPoolLabels = [
        ...ofType(ev, "aws:eks/nodeGroup:NodeGroup").map((r) => r.inputs.labels as Obj),
        ...ofType(ev, "gcp:container/nodePool:NodePool").map((r) => (r.inputs.nodeConfig as Obj).labels as Obj),
      ].filter((l) => l["nvidia.com/gpu.present"] === "true");
      for (const { r, pod } of podSpecs(ev)) {
        const gpus = [...(pod.containers ?? []), ...(pod.initContainers ?? [])].some((c: Obj) => c.resources?.limits?.["nvidia.com/gpu"] !== undefined);
        if (!gpus) continue;
        assert.ok(gpuTaints.length > 0, `${r.name} requests GPUs but the stack has no GPU pool`);
        for (const t of gpuTaints) {
          assert.ok((pod.tolerations as Obj[]).some((tol) => tol.key === t.key && tol.operator === "Exists" && tol.effect === "NoSchedule"), `${r.name} does not tolerate ${t.key}`);
        }
        const sel = pod.nodeSelector as Obj;
        assert.ok(gpuPoolLabels.some((l) => Object.entries(sel).every(([k, v]) => l[k] === v)), `${r.name} selector ${JSON.stringify(sel)} matches no GPU pool`);
      }
    });

    it("the model bucket is private, encrypted and versioned", async () => {
      const ev = await evaluated(stack);
      const s3 = ofType(ev, "aws:s3/bucket:Bucket");
      const gcs = ofType(ev, "gcp:storage/bucket:Bucket");
      if (stack === "staging-aws") {
        assert.equal(s3.length, 1);
        const pab = ofType(ev, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")[0]!.inputs;
        for (const k of ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"]) assert.equal(pab[k], true, k);
        const sse = ofType(ev, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")[0]!.inputs;
        assert.equal(((sse.rules as Obj[])[0]!.applyServerSideEncryptionByDefault as Obj).sseAlgorithm, "aws:kms");
        assert.equal((ofType(ev, "aws:s3/bucketVersioning:BucketVersioning")[0]!.inputs.versioningConfiguration as Obj).status, "Enabled");
        assert.equal(ofType(ev, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").length, 1);
        assert.match(String(ofType(ev, "aws:s3/bucketPolicy:BucketPolicy")[0]!.inputs.policy), /aws:SecureTransport/);
      } else if (stack === "prod-gcp") {
        const b = gcs[0]!.inputs;
        assert.equal(b.publicAccessPrevention, "enforced");
        assert.equal(b.uniformBucketLevelAccess, true);
        assert.ok((b.encryption as Obj).defaultKmsKeyName);
        assert.equal((b.versioning as Obj).enabled, true);
        assert.ok((b.lifecycleRules as Obj[]).length >= 2);
      } else {
        assert.equal(s3.length + gcs.length, 0);
        // The in-cluster store is the package's own objects (a chart would create its bucket in a hook).
        assert.equal(ofType(ev, "kubernetes:helm.sh/v4:Chart").filter((r) => r.inputs.chart === "minio").length, 0);
        const job = kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "Job" && o.metadata.name === "minio-setup")!;
        const script = (job.spec.template.spec.containers as Obj[])[0]!.args[0] as string;
        assert.match(script, /mc mb --ignore-existing --with-versioning "store\/models"/);
        assert.doesNotMatch(script, /anonymous|public/);
      }
    });

    it("each endpoint has its namespace, default-deny NetworkPolicy admitting only the gateway, PDBs and a prefix-scoped identity", async () => {
      const ev = await evaluated(stack);
      const objs = kubeObjects(ev).map((x) => x.obj);
      const crs = objs.filter((o) => o.kind === "ServingEndpoint");
      assert.ok(crs.length >= 2);
      for (const cr of crs) {
        const ep = cr.metadata.name as string;
        const ns = `ep-${ep}`;
        const nps = objs.filter((o) => o.kind === "NetworkPolicy" && o.metadata.namespace === ns);
        const deny = nps.find((o) => o.metadata.name === "default-deny")!;
        assert.deepEqual(deny.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
        const allow = nps.find((o) => o.metadata.name === "allow-gateway")!;
        const fromNamespaces = (allow.spec.ingress as Obj[]).flatMap((rule) => rule.from.map((f: Obj) => f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]));
        assert.ok(fromNamespaces.includes("autopilot-gateway"));
        assert.ok(fromNamespaces.every((n: string) => n === "autopilot-gateway" || n === "autopilot-monitoring"), JSON.stringify(fromNamespaces));
        const deps = objs.filter((o) => o.kind === "Deployment" && o.metadata.namespace === ns);
        const pdbs = objs.filter((o) => o.kind === "PodDisruptionBudget" && o.metadata.namespace === ns);
        assert.equal(pdbs.length, deps.length);
        assert.ok(deps.length >= 1);
        if (stack === "staging-aws") {
          const pol = ofType(ev, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name === `${ep}-model-reader`)!;
          const doc = JSON.parse(String(pol.inputs.policy)) as { Statement: Obj[] };
          const actions = doc.Statement.flatMap((s) => s.Action as string[]);
          assert.deepEqual(actions.filter((a) => a.startsWith("s3:")).sort(), ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]);
          assert.ok(doc.Statement.find((s) => s.Sid === "ReadOwnModels")!.Resource.every((res: string) => res.endsWith(`/${ep}/*`)));
          assert.deepEqual(doc.Statement.find((s) => s.Sid === "ListOwnPrefix")!.Condition, { StringLike: { "s3:prefix": [`${ep}/*`] } });
          const assoc = ofType(ev, "aws:eks/podIdentityAssociation:PodIdentityAssociation").find((r) => r.name === `${ep}-pod-identity`)!;
          assert.equal(assoc.inputs.namespace, ns);
          assert.equal(assoc.inputs.serviceAccount, ep);
        } else if (stack === "prod-gcp") {
          const m = ofType(ev, "gcp:storage/bucketIAMMember:BucketIAMMember").find((r) => r.name === `${ep}-model-reader`)!;
          assert.equal(m.inputs.role, "roles/storage.objectViewer");
          assert.match(String(m.inputs.member), new RegExp(`/subject/ns/${ns}/sa/${ep}$`));
          assert.match(String((m.inputs.condition as Obj).expression), new RegExp(`/objects/${ep}/"\\)$`));
        } else {
          const job = objs.find((o) => o.kind === "Job" && o.metadata.name === "minio-setup")!;
          const script = (job.spec.template.spec.containers as Obj[])[0]!.args[0] as string;
          const doc = JSON.parse(new RegExp(`printf '%s' '([^']*)' > "/tmp/read-${ep}.json"`).exec(script)![1]!) as { Statement: Obj[] };
          assert.deepEqual(doc.Statement[0]!.Action, ["s3:GetObject"]);
          assert.deepEqual(doc.Statement[0]!.Resource, [`arn:aws:s3:::models/${ep}/*`]);
          assert.deepEqual(doc.Statement[1]!.Condition, { StringLike: { "s3:prefix": [`${ep}/*`] } });
          assert.match(script, new RegExp(`mc admin policy attach store "read-${ep}" --user "ep-${ep}"`));
        }
      }
    });

    it("the controller runs 2 replicas with leader election on a Lease, and a PDB", async () => {
      const ev = await evaluated(stack);
      const objs = kubeObjects(ev).map((x) => x.obj);
      const dep = objs.find((o) => o.kind === "Deployment" && o.metadata.name === "apa-controller")!;
      assert.equal(dep.spec.replicas, 2);
      const role = objs.find((o) => o.kind === "Role" && o.metadata.name === "apa-controller-lease")!;
      assert.equal(role.metadata.namespace, "autopilot-system");
      const leaseVerbs = (role.rules as Obj[]).filter((r) => r.resources.includes("leases")).flatMap((r) => r.verbs);
      for (const v of ["create", "get", "update"]) assert.ok(leaseVerbs.includes(v), v);
      const binding = objs.find((o) => o.kind === "RoleBinding" && o.roleRef.name === "apa-controller-lease")!;
      assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: dep.spec.template.spec.serviceAccountName, namespace: "autopilot-system" }]);
      // The Lease identity comes from the pod name.
      assert.deepEqual((dep.spec.template.spec.containers as Obj[])[0]!.env[0], { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
      assert.equal(objs.find((o) => o.kind === "PodDisruptionBudget" && o.metadata.name === "apa-controller")!.spec.minAvailable, 1);
    });

    it("images: the controller image is built and pinned by digest (or given); no image floats", async () => {
      const ev = await evaluated(stack);
      const objs = kubeObjects(ev).map((x) => x.obj);
      const ctl = (objs.find((o) => o.kind === "Deployment" && o.metadata.name === "apa-controller")!.spec.template.spec.containers as Obj[])[0]!.image as string;
      if (stack === "local") {
        assert.equal(ctl, "autopilot/apa-controller:dev");
      } else {
        const build = ofType(ev, "docker-build:index:Image").find((r) => r.name === "autopilot-controller-image")!.inputs as Obj;
        assert.equal(build.push, true);
        assert.match(String(build.dockerfile.location), /controller\/Dockerfile$/);
        assert.match(ctl, /@sha256:[0-9a-f]{64}$/);
      }
      for (const { r, pod } of podSpecs(ev)) {
        for (const c of [...(pod.initContainers ?? []), ...pod.containers] as Obj[]) {
          const img = String(c.image);
          assert.ok(!/:latest(@|$)/.test(img) && /[:@]/.test(img.split("/").pop()!), `${r.name}/${c.name}: ${img} is not pinned`);
          if (/\/(pause|haproxy|vllm-openai|mlflow):/.test(img)) assert.match(img, /@sha256:[0-9a-f]{64}$/, `${img} must carry a digest`);
        }
      }
    });

    it("replica counts owned by autoscalers are ignored by the diff", async () => {
      const ev = await evaluated(stack);
      const deps = ofType(ev, "kubernetes:apps/v1:Deployment");
      for (const d of deps) {
        const name = (d.inputs.metadata as Obj).name as string;
        if (name === "apa-controller" || name === "minio") continue; // fixed at 2 / 1, nobody scales them
        assert.deepEqual(d.ignoreChanges, ["spec.replicas"], `${name} replicas are not in ignoreChanges`);
      }
      for (const ng of ofType(ev, "aws:eks/nodeGroup:NodeGroup")) assert.deepEqual(ng.ignoreChanges, ["scalingConfig.desiredSize"]);
      for (const np of ofType(ev, "gcp:container/nodePool:NodePool")) assert.ok(np.ignoreChanges.includes("nodeCount"));
    });

    it("every pod is restricted and every container sets requests and limits", async () => {
      const ev = await evaluated(stack);
      for (const { r, pod } of podSpecs(ev)) {
        const isNodeCachePrep = (r.inputs.metadata as Obj).name === "node-cache-prep";
        assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault", r.name);
        for (const c of [...(pod.initContainers ?? []), ...pod.containers] as Obj[]) {
          const sc = c.securityContext;
          assert.equal(sc.allowPrivilegeEscalation, false, `${r.name}/${c.name}`);
          assert.ok(sc.capabilities.drop.includes("ALL"), `${r.name}/${c.name}`);
          assert.equal(sc.readOnlyRootFilesystem, true, `${r.name}/${c.name}`);
          if (!isNodeCachePrep) assert.equal(sc.runAsNonRoot ?? pod.securityContext.runAsNonRoot, true, `${r.name}/${c.name}`);
          assert.ok(c.resources?.requests?.cpu && c.resources?.requests?.memory, `${r.name}/${c.name} requests`);
          assert.ok(c.resources?.limits?.cpu && c.resources?.limits?.memory, `${r.name}/${c.name} limits`);
        }
      }
    });

    it("Pod Security enforcement matches the pods: host access only in namespaces that allow it", async () => {
      const ev = await evaluated(stack);
      const objs = kubeObjects(ev).map((x) => x.obj);
      const enforce = new Map(objs.filter((o) => o.kind === "Namespace").map((o) => [o.metadata.name, o.metadata.labels?.["pod-security.kubernetes.io/enforce"]]));
      for (const { r, pod } of podSpecs(ev)) {
        const ns = (r.inputs.metadata as Obj).namespace as string;
        assert.ok(enforce.has(ns), `${r.name}: namespace ${ns} is not created by the platform`);
        const hostAccess = (pod.volumes ?? []).some((v: Obj) => v.hostPath !== undefined) || pod.hostNetwork === true;
        if (hostAccess) assert.equal(enforce.get(ns), "privileged", `${r.name} uses the host but ${ns} enforces ${enforce.get(ns)}`);
        else if (ns === "autopilot-system" || ns === "autopilot-gateway") assert.equal(enforce.get(ns), "restricted", ns);
      }
      for (const c of ofType(ev, "kubernetes:helm.sh/v4:Chart").filter((x) => ["dcgm-exporter", "nvidia-device-plugin"].includes(String(x.inputs.chart)))) {
        assert.equal(enforce.get(String(c.inputs.namespace)), "privileged", `${String(c.inputs.chart)} needs host access`);
      }
    });

    it("third-party charts are helm.v4 with pinned versions", async () => {
      const ev = await evaluated(stack);
      const charts = ofType(ev, "kubernetes:helm.sh/v4:Chart");
      assert.ok(charts.length >= 2);
      for (const c of charts) assert.match(String(c.inputs.version), /^\d+\.\d+\.\d+$/, String(c.inputs.chart));
    });

    it("exports the gateway URL, Grafana URL and one invocation URL per endpoint", async () => {
      const ev = await evaluated(stack);
      const urls = ev.outputs.endpointUrls as Record<string, string>;
      assert.match(String(ev.outputs.gatewayUrl), /^https:\/\//);
      assert.match(String(ev.outputs.grafanaUrl), /grafana/);
      for (const [ep, url] of Object.entries(urls)) assert.equal(url, `${ev.outputs.gatewayUrl}/serving-endpoints/${ep}/invocations`);
    });
  });
}

describe("runtime choices in the example stacks", () => {
  const runtimeOf = async (stack: string) => Object.fromEntries(kubeObjects(await evaluated(stack)).map((x) => x.obj).filter((o) => o.kind === "ServingEndpoint").map((o) => [o.metadata.name, o.spec.runtime.kind]));
  it("local: MLflow classifier, Triton embedder on CPU, no LLM (the custom agent only with exampleCustomImage)", async () => {
    assert.deepEqual(await runtimeOf("local"), { "fraud-classifier": "mlflow", "text-embedder": "triton" });
  });
  it("prod-gcp with exampleLlmUri set to a 70B bf16 LLM: vLLM with 8 GPUs and tensor parallelism 8", async () => {
    const ev = await evaluateStack("prod-gcp", { overrides: { exampleLlmUri: LLAMA_70B } });
    assert.equal(kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "ServingEndpoint" && o.metadata.name === "llm-chat")?.spec.runtime.kind, "vllm");
    const dep = kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "Deployment" && o.metadata.name.startsWith("llm-chat-c-"))!;
    const server = (dep.spec.template.spec.containers as Obj[])[0]!;
    assert.equal(server.resources.limits["nvidia.com/gpu"], "8");
    assert.equal(server.args[server.args.indexOf("--tensor-parallel-size") + 1], "8");
    assert.equal(dep.spec.template.spec.nodeSelector["serving.autopilot.dev/gpu-type"] ?? "h100-80gb", "h100-80gb");
  });
  it("every example endpoint of every stack serves a model the program publishes from examples/models (nothing it cannot reach)", async () => {
    for (const stack of ["local", "staging-aws", "prod-gcp"]) {
      const ev = await evaluated(stack);
      const sources = new Map(ofType(ev, "pulumi-nodejs:dynamic/autopilot:ModelPublication").map((p) => [`${p.inputs.endpoint}/${p.inputs.version}`, String(p.inputs.source)]));
      for (const se of kubeObjects(ev).map((x) => x.obj).filter((o) => o.kind === "ServingEndpoint")) {
        for (const t of se.spec.trafficSplit as Obj[]) {
          const source = sources.get(`${se.metadata.name}/${t.version}`);
          assert.ok(source !== undefined, `${stack}: ${se.metadata.name}/${t.version} is published by the program`);
          assert.ok(source.startsWith(`${ROOT}examples/models/`), `${stack}: ${se.metadata.name} serves ${source}, not a model shipped in examples/models`);
        }
      }
    }
  });
  it("GPU stacks: llm-chat serves the shipped tiny LLM on one GPU with vLLM", async () => {
    for (const stack of ["staging-aws", "prod-gcp"]) {
      const ev = await evaluated(stack);
      const se = kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "ServingEndpoint" && o.metadata.name === "llm-chat")!;
      assert.equal(se.spec.runtime.kind, "vllm");
      assert.deepEqual(se.spec.model.size, { bytes: 754944, parameterCount: 377472, dtype: "bfloat16" });
      const dep = kubeObjects(ev).map((x) => x.obj).find((o) => o.kind === "Deployment" && o.metadata.name.startsWith("llm-chat-c-"))!;
      const server = (dep.spec.template.spec.containers as Obj[])[0]!;
      assert.equal(server.resources.limits["nvidia.com/gpu"], "1");
      assert.equal(server.args[server.args.indexOf("--tensor-parallel-size") + 1], "1");
    }
  });
  it("staging-aws: the embedder runs on Triton with one L4; the LLM on one L4 with vLLM", async () => {
    const ev = await evaluated("staging-aws");
    const deps = kubeObjects(ev).map((x) => x.obj).filter((o) => o.kind === "Deployment");
    const gpusOf = (n: string) => (deps.find((d) => d.metadata.name.startsWith(n))!.spec.template.spec.containers as Obj[])[0]!.resources.limits["nvidia.com/gpu"];
    assert.equal(gpusOf("text-embedder-c-"), "1");
    assert.equal(gpusOf("llm-chat-c-"), "1");
    assert.deepEqual(ofType(ev, "aws:eks/nodeGroup:NodeGroup").map((r) => r.inputs.amiType).sort(), ["AL2023_x86_64_NVIDIA", "AL2023_x86_64_STANDARD"]);
  });
});
