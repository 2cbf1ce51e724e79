/**
 * Turns an offline evaluation into a reviewable inventory: per resource its type, name, parent and a few key
 * properties (images, replicas, pools, taints, chart versions, ignored fields). Pure.
 */
import { stackPodRequests, totalRequests } from "./capacity.ts";
import type { RegisteredResource, StackEvaluation } from "./evaluate.ts";

/** One inventory row. */
export interface InventoryRow {
  readonly type: string;
  readonly name: string;
  /** Parent resource name ("" for the stack). */
  readonly parent: string;
  readonly key: Record<string, unknown>;
}

/** The printable inventory. */
export interface Inventory {
  readonly label: string;
  readonly stack: string;
  readonly cloud: string;
  /** Component type tokens present (`autopilot:*`), with counts. */
  readonly components: Record<string, number>;
  readonly resourceCount: number;
  /** Things to fix before a production apply, computed from the evaluation (e.g. images without a digest). */
  readonly gaps: string[];
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Summed pod requests right after `pulumi up` (initial replicas, DaemonSets once, chart and operator pods). */
  readonly requests: { readonly cpu: number; readonly memoryGiB: number };
  readonly resources: InventoryRow[];
}

export const MOCK_LABEL = "OFFLINE MOCK EVALUATION — Pulumi program run under Pulumi's mocks: no cloud, no cluster, nothing applied; outputs are mock values";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function containers(spec: Obj | undefined): Obj[] {
  const pod = spec?.template?.spec;
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])];
}

/** Key properties worth reviewing for a resource. */
export function keyProperties(r: RegisteredResource): Record<string, unknown> {
  const i = r.inputs as Obj;
  const k: Record<string, unknown> = {};
  if (i.metadata?.namespace) k.namespace = i.metadata.namespace;
  switch (r.type) {
    case "kubernetes:apps/v1:Deployment":
    case "kubernetes:apps/v1:DaemonSet":
      if (i.spec?.replicas !== undefined) k.replicas = i.spec.replicas;
      k.images = containers(i.spec).map((c) => c.image);
      if (i.spec?.template?.spec?.nodeSelector) k.nodeSelector = i.spec.template.spec.nodeSelector;
      break;
    case "kubernetes:helm.sh/v4:Chart":
      k.chart = `${i.chart}@${i.version}`;
      break;
    case "aws:eks/nodeGroup:NodeGroup":
      Object.assign(k, { instanceTypes: i.instanceTypes, amiType: i.amiType, taints: i.taints, scaling: i.scalingConfig });
      break;
    case "gcp:container/nodePool:NodePool":
      Object.assign(k, { machineType: i.nodeConfig?.machineType, accelerators: i.nodeConfig?.guestAccelerators, taints: i.nodeConfig?.taints });
      break;
    case "kubernetes:serving.autopilot.dev/v1alpha1:ServingEndpoint":
      Object.assign(k, { runtime: i.spec?.runtime?.kind, flavor: i.spec?.model?.flavor, pool: i.spec?.computePool, concurrency: i.spec?.concurrency, traffic: i.spec?.trafficSplit?.map((t: Obj) => `${t.version}:${t.weight}`) });
      break;
    case "pulumi-nodejs:dynamic/autopilot:ModelPublication": {
      const files = (i.files ?? []) as Obj[];
      Object.assign(k, {
        upload: `${i.store?.kind === "gcs" ? "gs" : "s3"}://${i.store?.bucket}/${i.endpoint}/${i.version}/`, digest: i.digest, source: i.source,
        files: files.length, bytes: files.reduce((s: number, f: Obj) => s + Number(f.bytes), 0),
      });
      break;
    }
    case "docker-build:index:Image": {
      const inline = String(i.dockerfile?.inline ?? "");
      Object.assign(k, { tags: i.tags, push: i.push, ...(inline !== "" ? { from: /^FROM (\S+)/m.exec(inline)?.[1], installs: (inline.match(/'[^']+'/g) ?? []).map((q) => q.slice(1, -1)) } : {}) });
      break;
    }
    case "command:local:Command":
      // What `pulumi up` runs on the deployer's machine (the kind load of a serving image).
      k.create = i.create;
      break;
    case "aws:iam/rolePolicy:RolePolicy":
    case "gcp:storage/bucketIAMMember:BucketIAMMember":
      if (i.condition) k.condition = i.condition.expression;
      if (i.member) k.member = i.member;
      break;
    case "kubernetes:networking.k8s.io/v1:NetworkPolicy":
      k.policyTypes = i.spec?.policyTypes;
      break;
  }
  if (r.ignoreChanges.length > 0) k.ignoreChanges = r.ignoreChanges;
  return k;
}

/** Builds the inventory of an evaluation. */
export function inventory(ev: StackEvaluation): Inventory {
  const nameOf = (urn: string) => urn.split("::").pop() ?? "";
  const components: Record<string, number> = {};
  for (const r of ev.resources) if (r.type.startsWith("autopilot:")) components[r.type] = (components[r.type] ?? 0) + 1;
  const gaps: string[] = [];
  const unpinned = new Set<string>();
  for (const r of ev.resources) {
    if (!["kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:DaemonSet", "kubernetes:batch/v1:Job"].includes(r.type)) continue;
    for (const c of containers((r.inputs as Obj).spec)) if (typeof c.image === "string" && !/@sha256:[0-9a-f]{64}$/.test(c.image)) unpinned.add(c.image);
  }
  if (unpinned.size > 0) gaps.push(`images pinned by tag only (set autopilot-serving:imageDigests or use digests): ${[...unpinned].sort().join(", ")}`);

  const req = totalRequests(stackPodRequests(ev.resources));
  return {
    label: MOCK_LABEL, stack: ev.stack, cloud: ev.config["autopilot-serving:cloud"] ?? "local",
    components, resourceCount: ev.resources.length, gaps, outputs: ev.outputs,
    requests: { cpu: Math.round(req.cpu * 100) / 100, memoryGiB: Math.round((req.memoryBytes / 2 ** 30) * 100) / 100 },
    resources: ev.resources.map((r) => ({ type: r.type, name: r.name, parent: nameOf(r.parent), key: keyProperties(r) })),
  };
}
