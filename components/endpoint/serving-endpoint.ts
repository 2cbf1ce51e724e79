/**
 * ServingEndpoint: one isolated endpoint — namespace, ServiceAccount bound to a read-only identity on its own
 * model prefix, one Deployment + Service + PDB per model version, default-deny NetworkPolicies admitting only
 * the gateway, a PodMonitor, and the ServingEndpoint custom resource.
 *
 * Replicas: `ignoreChanges: ["spec.replicas"]` on every Deployment, so `pulumi up` never undoes the autoscaler.
 * Versions: the custom resource (which carries the traffic split the gateway applies) depends on every version's
 * Deployment, and Pulumi waits for a Deployment's rollout to be ready — so a new version is fully ready before
 * the traffic split that sends it requests is written.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { kubeResource } from "../k8s/kube-resource.ts";
import type { ModelCache } from "../model-cache/model-cache.ts";
import type { PlannedEndpoint } from "../validate-endpoints.ts";
import { buildServingEndpointCr } from "./cr-spec.ts";
import {
  buildDeployment, buildNamespace, buildPdb, buildPodMonitor, buildService, buildServiceAccount,
  endpointNamespace, initialReplicas, readyTimeoutS, versionName,
} from "./endpoint-spec.ts";
import { buildNetworkPolicies } from "./network-spec.ts";
import { ModelPublication } from "../model/model-publication.ts";
import type { ModelVersionSource } from "../model/resolve-endpoints.ts";
import type { StoreLocation } from "../model/sources/object-store.ts";

export interface ServingEndpointArgs {
  readonly endpoint: PlannedEndpoint;
  readonly cache: ModelCache;
  readonly k8sProvider: k8s.Provider;
  /** Use the node-local hostPath model cache. @default true */
  readonly nodeCache?: boolean;
  /** Resources the custom resource waits for (the CRD). */
  readonly crdDependsOn?: pulumi.Resource[];
  /** Resources the PodMonitor waits for (the Prometheus operator CRDs); undefined = no PodMonitor. */
  readonly monitoringDependsOn?: pulumi.Resource[];
  readonly digestOverrides?: Readonly<Record<string, string>>;
  /** The resolved model versions to publish (one ModelPublication each; a version's Deployment waits for it). */
  readonly models?: readonly ModelVersionSource[];
  /** The per-version serving image (MLflow-served versions; ServingImages), overriding the runtime's stock image. */
  readonly serverImages?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Where publications write (ModelCache.publishTarget()). */
  readonly publish?: { readonly location: pulumi.Input<StoreLocation>; readonly dependsOn: readonly pulumi.Resource[] };
  /** The controller image, which carries the Triton adapter (Triton endpoints run it beside Triton). */
  readonly adapterImage?: pulumi.Input<string>;
}

export class ServingEndpoint extends pulumi.ComponentResource {
  readonly namespace: string;
  /** IAM role ARN / Workload Identity principal / MinIO user reading this endpoint's prefix. */
  readonly identity: pulumi.Output<string>;
  /** Deployment names by version. */
  readonly deployments: Record<string, string> = {};
  /** The publication of each version's model files, by version. */
  readonly publications: Record<string, ModelPublication> = {};

  constructor(name: string, args: ServingEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:serving:ServingEndpoint", name, {}, opts);
    const ep = args.endpoint;
    const decl = ep.decl;
    const nodeCache = args.nodeCache ?? true;
    this.namespace = endpointNamespace(decl.name);
    const o = { parent: this };
    const ns = kubeResource(`${name}-ns`, buildNamespace(decl.name, nodeCache), o);
    const sa = kubeResource(`${name}-sa`, buildServiceAccount(decl.name), { ...o, dependsOn: [ns] });
    const grant = args.cache.grantRead(decl.name, this.namespace, decl.name, this, args.k8sProvider);
    this.identity = pulumi.output(grant.identity);
    const inNs = { ...o, dependsOn: [ns, sa] };

    const netpols = buildNetworkPolicies(decl.name, ep.plan.port, ep.plan.metrics?.port, grant.access).map((np) =>
      kubeResource(`${name}-netpol-${(np.metadata as { name: string }).name}`, np, inNs));
    const deployments: pulumi.Resource[] = [];
    // Pods start only once their identity works and their egress is admitted; Pulumi waits for the rollout as long
    // as the model needs (download + load), not its 10-minute default.
    const timeout = `${readyTimeoutS(ep.plan)}s`;
    for (const v of decl.versions) {
      const vName = versionName(decl.name, v.version);
      const src = args.models?.find((m) => m.version === v.version);
      const published: pulumi.Resource[] = [];
      if (src !== undefined && args.publish !== undefined) {
        const pub = new ModelPublication(`${name}-${v.version}-model`, {
          endpoint: decl.name, version: v.version, digest: src.digest, source: src.resolvedFrom, dir: src.dir, files: src.files, store: args.publish.location,
        }, { parent: this, dependsOn: [...args.publish.dependsOn] });
        this.publications[v.version] = pub;
        published.push(pub);
      }
      const dep = buildDeployment(ep, v, grant.access, { nodeCache, initialReplicas: initialReplicas(ep, v.weight), digestOverrides: args.digestOverrides ?? {},
        ...(args.adapterImage !== undefined ? { adapterImage: args.adapterImage } : {}),
        ...(args.serverImages?.[v.version] !== undefined ? { serverImage: args.serverImages[v.version] } : {}) });
      deployments.push(kubeResource(`${name}-${v.version}-deployment`, dep, {
        ...o, dependsOn: [ns, sa, ...grant.ready, ...netpols, ...published], ignoreChanges: ["spec.replicas"], customTimeouts: { create: timeout, update: timeout },
      }));
      kubeResource(`${name}-${v.version}-service`, buildService(decl.name, v.version, ep.plan.port), inNs);
      kubeResource(`${name}-${v.version}-pdb`, buildPdb(decl.name, v.version), inNs);
      this.deployments[v.version] = vName;
    }
    if (args.monitoringDependsOn !== undefined) {
      const pm = buildPodMonitor(decl.name, ep.plan.metrics, ep.plan.port);
      if (pm !== undefined) kubeResource(`${name}-podmonitor`, pm, { ...o, dependsOn: [ns, ...args.monitoringDependsOn] });
    }
    const cr = buildServingEndpointCr(ep, (v) => pulumi.interpolate`${args.cache.url}/${decl.name}/${v}/`);
    kubeResource(`${name}-cr`, cr, { ...o, dependsOn: [ns, ...deployments, ...(args.crdDependsOn ?? [])] });
    this.registerOutputs({ namespace: this.namespace, identity: this.identity, deployments: this.deployments });
  }
}
