/**
 * ServingEndpoint: one isolated endpoint — namespace, ServiceAccount bound to a read-only identity on its own
 * model prefix, one Deployment + Service + PDB per model version, default-deny NetworkPolicies admitting only
 * the gateway, a PodMonitor, and the ServingEndpoint custom resource.
 *
 * Replicas: `ignoreChanges: ["spec.replicas"]` on every Deployment, so `pulumi up` never undoes the autoscaler.
 * Versions: the custom resource (which carries the traffic split the gateway applies) depends on every version's
 * Deployment, and Pulumi waits for a Deployment's rollout to be ready — so a new version is fully ready before
 * the traffic split that sends it requests is written.
 *
 * Declared on its own in a user's program, on a `ServingPlatform` of the same program or on a `PlatformReference`
 * to a platform stack:
 *
 *     new ServingEndpoint("iris", { platform, endpoint: { name: "iris", model: { … }, computePool: "cpu", … } });
 *
 * The declaration is checked when the component is constructed (at plan time): a bad or unknown field throws a
 * DeclarationError naming the endpoint, the field, the value and what is allowed, before any child exists.
 */
import * as pulumi from "@pulumi/pulumi";
import type { EndpointDeclaration } from "../endpoint-types.ts";
import { kubeResource } from "../k8s/kube-resource.ts";
import { grantStoreRead, storeUrl } from "../model-cache/store-grant.ts";
import { type PlannedEndpoint, planEndpoints } from "../validate-endpoints.ts";
import { buildServingEndpointCr } from "./cr-spec.ts";
import type { PlatformLike } from "./endpoint-platform.ts";
import {
  buildDeployment, buildNamespace, buildPdb, buildPodMonitor, buildService, buildServiceAccount,
  endpointNamespace, initialReplicas, readyTimeoutS, versionName,
} from "./endpoint-spec.ts";
import { buildNetworkPolicies } from "./network-spec.ts";
import { componentInputs } from "../component-inputs.ts";

export interface ServingEndpointArgs {
  /** The endpoint as the user declares it: model, compute pool, concurrency range, replica bounds, versions. */
  readonly endpoint: EndpointDeclaration;
  /** The platform it runs on: the `ServingPlatform` of the same program, or `await PlatformReference.fromStack(…)`. */
  readonly platform: PlatformLike;
}

export class ServingEndpoint extends pulumi.ComponentResource {
  readonly namespace: string;
  /** The declaration with its runtime plan (image, ports, resources) and pool. */
  readonly planned: PlannedEndpoint;
  /** IAM role ARN / Workload Identity principal / store user reading this endpoint's prefix. */
  readonly identity: pulumi.Output<string>;
  /** Deployment names by version. */
  readonly deployments: Record<string, string> = {};
  /** `POST` URL: `<gateway>/serving-endpoints/<name>/invocations`. */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: ServingEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    const platform = args.platform.endpointPlatform();
    // Checked before anything is registered: a bad declaration leaves nothing half-declared.
    const [ep] = planEndpoints([args.endpoint], platform.pools, platform.imageDigests);
    super("autopilot:endpoint:ServingEndpoint", name, componentInputs(args), {
      ...opts,
      dependsOn: withDependencies(platform.dependsOn, opts?.dependsOn),
      providers: withKubernetes(platform.k8sProvider, opts?.providers),
    });
    this.planned = ep!;
    const decl = this.planned.decl;
    const plan = this.planned.plan;
    const nodeCache = platform.nodeCache;
    this.namespace = endpointNamespace(decl.name);
    const o = { parent: this };
    const ns = kubeResource(`${name}-ns`, buildNamespace(decl.name, nodeCache), o);
    const sa = kubeResource(`${name}-sa`, buildServiceAccount(decl.name), { ...o, dependsOn: [ns] });
    const grant = grantStoreRead(platform.store, decl.name, this.namespace, decl.name, this, platform.k8sProvider, platform.storeReady);
    this.identity = pulumi.output(grant.identity);
    const inNs = { ...o, dependsOn: [ns, sa] };

    const netpols = buildNetworkPolicies(decl.name, plan.port, plan.metrics?.port, grant.access).map((np) =>
      kubeResource(`${name}-netpol-${(np.metadata as { name: string }).name}`, np, inNs));
    const deployments: pulumi.Resource[] = [];
    // Pods start only once their identity works and their egress is admitted; Pulumi waits for the rollout as long
    // as the model needs (download + load), not its 10-minute default.
    const timeout = `${readyTimeoutS(plan)}s`;
    for (const v of decl.versions) {
      const vName = versionName(decl.name, v.version);
      const dep = buildDeployment(this.planned, v, grant.access, { nodeCache, initialReplicas: initialReplicas(this.planned, v.weight), digestOverrides: platform.imageDigests,
        ...(platform.adapterImage !== undefined ? { adapterImage: platform.adapterImage } : {}) });
      deployments.push(kubeResource(`${name}-${v.version}-deployment`, dep, {
        ...o, dependsOn: [ns, sa, ...grant.ready, ...netpols], ignoreChanges: ["spec.replicas"], customTimeouts: { create: timeout, update: timeout },
      }));
      kubeResource(`${name}-${v.version}-service`, buildService(decl.name, v.version, plan.port), inNs);
      kubeResource(`${name}-${v.version}-pdb`, buildPdb(decl.name, v.version), inNs);
      this.deployments[v.version] = vName;
    }
    if (platform.monitoring) {
      const pm = buildPodMonitor(decl.name, plan.metrics, plan.port);
      if (pm !== undefined) kubeResource(`${name}-podmonitor`, pm, { ...o, dependsOn: [ns, ...platform.monitoringDependsOn] });
    }
    const url = storeUrl(platform.store);
    const cr = buildServingEndpointCr(this.planned, (v) => pulumi.interpolate`${url}/${decl.name}/${v}/`);
    kubeResource(`${name}-cr`, cr, { ...o, dependsOn: [ns, ...deployments, ...platform.crdDependsOn] });
    this.url = pulumi.interpolate`${platform.gatewayUrl}/serving-endpoints/${decl.name}/invocations`;
    this.registerOutputs({ namespace: this.namespace, identity: this.identity, deployments: this.deployments, url: this.url });
  }
}

/** The platform's dependencies plus the caller's own (`dependsOn` may be one resource, a list, or an Output of either). */
function withDependencies(platform: readonly pulumi.Resource[], own: pulumi.ComponentResourceOptions["dependsOn"]): pulumi.ComponentResourceOptions["dependsOn"] {
  const list = (d: unknown): pulumi.Input<pulumi.Resource>[] => (d === undefined ? [] : Array.isArray(d) ? d : [d as pulumi.Input<pulumi.Resource>]);
  if (pulumi.Output.isInstance(own)) return (own as pulumi.Output<unknown>).apply((d) => [...platform, ...list(d)]) as pulumi.Output<pulumi.Resource[]>;
  return [...platform, ...list(own)];
}

/** The platform's Kubernetes provider unless the caller passes its own. */
function withKubernetes(k8sProvider: pulumi.ProviderResource, own: pulumi.ComponentResourceOptions["providers"]): pulumi.ComponentResourceOptions["providers"] {
  if (own === undefined) return { kubernetes: k8sProvider };
  if (Array.isArray(own)) return [k8sProvider, ...own];
  return { kubernetes: k8sProvider, ...(own as Record<string, pulumi.ProviderResource>) };
}
