/**
 * The real program (infra/) under Pulumi's mocks, through the whole pack: every example stack passes with its
 * environment's pack config, and a table of deliberately broken variants — realistic config changes and single
 * edits of the registered resources — each trips exactly its intended policy and no other.
 */
import { describe, it, before } from "node:test";
import { TLS_PROXY_CONFIGMAP } from "../../components/gateway/gateway-spec.ts";
import assert from "node:assert/strict";
import { evaluateStack } from "../../infra/evaluate.ts";
import { toOffline } from "../../policies/offline/evaluate-program.ts";
import { loadPackConfig } from "../../policies/offline/pack-config.ts";
import { definitions } from "../../policies/pack.ts";
import type { OfflineResource, PackConfig } from "../../policies/offline/run-pack.ts";
import { trippedPolicies } from "./harness.ts";

const STACKS = ["local", "staging-aws", "prod-gcp"] as const;
type Stack = (typeof STACKS)[number];

const packConfig = (stack: Stack): PackConfig =>
  loadPackConfig(new URL(`../../policies/config/${stack}.json`, import.meta.url).pathname, definitions);

async function evaluate(stack: Stack, overrides: Record<string, string> = {}): Promise<OfflineResource[]> {
  return toOffline((await evaluateStack(stack, { overrides })).resources, stack);
}

/** The one registered resource of `type` whose Kubernetes name (or Pulumi name) is `name`. */
function pick(rs: OfflineResource[], type: string, name: string): OfflineResource & { props: any } {
  const hits = rs.filter((r) => r.type.endsWith(type) && ((r.props as any)?.metadata?.name === name || r.name === name));
  if (hits.length !== 1) throw new Error(`expected one ${type} named ${name}, found ${hits.length}`);
  return hits[0] as OfflineResource & { props: any };
}
/** Pod spec of the (first) Deployment in namespace `ns`. */
function podSpec(rs: OfflineResource[], ns: string): any {
  const d = rs.find((r) => r.type.endsWith(":Deployment") && (r.props as any).metadata.namespace === ns);
  if (d === undefined) throw new Error(`no Deployment in namespace ${ns}`);
  return (d.props as any).spec.template.spec;
}

interface Variant {
  name: string;
  stack: Stack;
  want: string;
  /** Stack config changes (a user editing Pulumi.<stack>.yaml). */
  overrides?: Record<string, string>;
  /** Then: one edit of the registered resources. */
  edit?: (rs: OfflineResource[]) => OfflineResource[] | void;
}

/** The custom-runtime example's image (stack config `exampleCustomImage`): variants that break support-agent opt in. */
const CUSTOM_IMAGE = "ghcr.io/acme/support-agent:1.4.2";

const variants: Variant[] = [
  { name: "GPU pool max raised past the staging budget", stack: "staging-aws", want: "gpu-node-budget", overrides: { gpuNodesMax: "50" } },
  { name: "controller image by a mutable tag", stack: "staging-aws", want: "images-pinned-and-allowed", overrides: { controllerImage: "ghcr.io/acme/apa-controller:latest" } },
  { name: "observability switched off: nothing scrapes the endpoints", stack: "prod-gcp", want: "endpoint-scraped", overrides: { observability: "false" } },
  { name: "endpoint concurrency above the cap", stack: "local", want: "endpoint-concurrency-range", overrides: { exampleCustomImage: CUSTOM_IMAGE }, edit: (rs) => { pick(rs, ":ServingEndpoint", "support-agent").props.spec.concurrency.max = 5000; } },
  { name: "GPU endpoint without its toleration", stack: "prod-gcp", want: "gpu-runtime-on-gpu-pool", edit: (rs) => { podSpec(rs, "ep-llm-chat").tolerations = []; } },
  { name: "CPU endpoint tolerating everything", stack: "staging-aws", want: "cpu-workloads-off-gpu-pools", edit: (rs) => { podSpec(rs, "ep-fraud-classifier").tolerations = [{ operator: "Exists" }]; } },
  { name: "model server without a memory limit", stack: "local", want: "container-resources-set", edit: (rs) => { delete podSpec(rs, "ep-fraud-classifier").containers[0].resources.limits.memory; } },
  { name: "model server allowed to escalate privileges", stack: "prod-gcp", want: "restricted-pod-security", overrides: { exampleCustomImage: CUSTOM_IMAGE }, edit: (rs) => { podSpec(rs, "ep-support-agent").containers[0].securityContext.allowPrivilegeEscalation = true; } },
  { name: "endpoint namespace without its default-deny policy", stack: "staging-aws", want: "endpoint-default-deny-ingress", edit: (rs) => rs.filter((r) => !(r.type.endsWith(":NetworkPolicy") && (r.props as any).metadata.name === "default-deny" && (r.props as any).metadata.namespace === "ep-text-embedder")) },
  { name: "gateway config with its missing-credentials gate deleted", stack: "local", want: "gateway-requires-auth", edit: (rs) => {
    // The public front is the TLS-terminating HAProxy; its config holds the missing-credentials gate.
    const data = pick(rs, ":ConfigMap", TLS_PROXY_CONFIGMAP).props.data;
    const lines = String(data["haproxy.cfg"]).split("\n");
    const kept = lines.filter((l) => !/^\s*http-request return status 401 .*\bunless\b/.test(l));
    if (lines.length - kept.length !== 1) throw new Error(`expected one gate line in the rendered haproxy.cfg, found ${lines.length - kept.length}`);
    data["haproxy.cfg"] = kept.join("\n");
  } },
  { name: "S3 model bucket without its public access block", stack: "staging-aws", want: "model-bucket-private-encrypted-versioned", edit: (rs) => rs.filter((r) => !r.type.endsWith(":BucketPublicAccessBlock")) },
  { name: "GCS model bucket public access not enforced", stack: "prod-gcp", want: "model-bucket-private-encrypted-versioned", edit: (rs) => { pick(rs, "gcp:storage/bucket:Bucket", rs.find((r) => r.type === "gcp:storage/bucket:Bucket")!.name).props.publicAccessPrevention = "inherited"; } },
  { name: "endpoint identity may write every model", stack: "staging-aws", want: "model-access-least-privilege", edit: (rs) => {
    const p = rs.find((r) => r.type === "aws:iam/rolePolicy:RolePolicy")!.props as any;
    p.policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: ["s3:*"], Resource: ["*"] }] });
  } },
  { name: "GCS read grant without its prefix condition", stack: "prod-gcp", want: "model-access-least-privilege", edit: (rs) => { delete (rs.find((r) => r.type === "gcp:storage/bucketIAMMember:BucketIAMMember")!.props as any).condition; } },
  { name: "endpoint version without its PDB", stack: "prod-gcp", want: "endpoint-probes-and-pdb", edit: (rs) => rs.filter((r) => !(r.type.endsWith(":PodDisruptionBudget") && String((r.props as any).metadata.name).startsWith("text-embedder-c-"))) },
  { name: "controller scaled to one replica", stack: "local", want: "controller-ha-leader-election", edit: (rs) => { pick(rs, ":Deployment", "apa-controller").props.spec.replicas = 1; } },
  { name: "GPU endpoint selecting a pool that does not exist", stack: "prod-gcp", want: "node-selector-matches-a-pool", edit: (rs) => { podSpec(rs, "ep-llm-chat").nodeSelector["serving.autopilot.dev/pool"] = "gpu-h200"; } },
  { name: "endpoint namespaces enforcing privileged without the admission policy's binding", stack: "prod-gcp", want: "endpoint-admission-second-line",
    edit: (rs) => rs.filter((r) => !r.type.endsWith(":ValidatingAdmissionPolicyBinding")) },
  { name: "a chart installed as an unreviewed helm.sh/v3:Release", stack: "local", want: "helm-release-reviewed", edit: (rs) => [...rs, {
    type: "kubernetes:helm.sh/v3:Release", name: "extra", props: { name: "extra", namespace: "autopilot-system", chart: "acme/extra", version: "1.0.0", values: { privileged: true } },
  }] },
];

describe("the program under mocks through the whole pack", () => {
  const base = new Map<Stack, OfflineResource[]>();
  before(async () => {
    for (const s of STACKS) base.set(s, await evaluate(s));
  });

  for (const s of STACKS) {
    it(`example stack ${s}: no diagnostics from any of the ${definitions.length} policies`, async () => {
      assert.deepEqual(await trippedPolicies(base.get(s)!, packConfig(s)), []);
    });
  }

  for (const v of variants) {
    it(`${v.stack}: ${v.name} → only ${v.want}`, async () => {
      let rs = v.overrides !== undefined ? await evaluate(v.stack, v.overrides) : structuredClone(base.get(v.stack)!);
      if (v.edit !== undefined) rs = v.edit(rs) ?? rs;
      assert.deepEqual(await trippedPolicies(rs, packConfig(v.stack)), [v.want]);
    });
  }

  it("the broken variants cover every policy", () => {
    assert.deepEqual([...new Set(variants.map((v) => v.want))].sort(), definitions.map((d) => d.name).sort());
  });
});
