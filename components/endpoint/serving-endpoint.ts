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
 *     const iris = await ServingEndpoint.declare("iris", { platform, endpoint: { name: "iris", model: { uri: "models:/iris@champion" }, computePool: "cpu", … } });
 *
 * `declare` resolves the model reference first (flavor, size, version label and digest come from the model,
 * components/model/) and publishes each version into the platform's store (a ModelPublication its Deployment waits
 * for). The constructor takes an endpoint already resolved (`resolveEndpoints`). The declaration is checked before
 * any child exists: a bad or unknown field throws a DeclarationError naming the endpoint, the field, the value and
 * what is allowed.
 */
import * as pulumi from "@pulumi/pulumi";
import type { EndpointDeclaration, ResolvedEndpoint } from "../endpoint-types.ts";
import { ModelPublication } from "../model/model-publication.ts";
import { planServingImages, type ServingImagePlan } from "../model/serving-image.ts";
import { DeclarationError } from "../types.ts";
import { publishLocation } from "../model/publish-target.ts";
import { type ModelVersionSource, resolveEndpoints } from "../model/resolve-endpoints.ts";
import type { FetchContext } from "../model/sources/fetch-model.ts";
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
  /** The endpoint with its model resolved (`resolveEndpoints`; `ServingEndpoint.declare` does it): compute pool,
   * concurrency range, replica bounds, flavor and size, versions with their digests. */
  readonly endpoint: ResolvedEndpoint;
  /** The platform it runs on: the `ServingPlatform` of the same program, or `await PlatformReference.fromStack(…)`. */
  readonly platform: PlatformLike;
  /** The resolved versions' files, each published into the store by a ModelPublication. @default none (published ahead, e.g. `autopilot models push`) */
  readonly models?: readonly ModelVersionSource[];
  /** Per-version serving images (MLflow-served versions), by version, as the platform built them. @default built
   * here from `models` (each version's pinned requirements) and pushed to the platform's registry; without `models`
   * (published ahead), the runtime's image */
  readonly serverImages?: Readonly<Record<string, pulumi.Input<string>>>;
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
  /** The publication of each version's model files, by version. */
  readonly publications: Record<string, ModelPublication> = {};

  /** Resolves the declaration's model reference(s), then declares the endpoint with their publications. */
  static async declare(name: string, args: { endpoint: EndpointDeclaration; platform: PlatformLike; fetch?: FetchContext }, opts?: pulumi.ComponentResourceOptions): Promise<ServingEndpoint> {
    const resolved = await resolveEndpoints([args.endpoint], args.fetch ?? {});
    const endpoint = resolved.endpoints[0]!;
    return new ServingEndpoint(name, { endpoint, platform: args.platform, models: resolved.models[endpoint.name] ?? [] }, opts);
  }

  constructor(name: string, args: ServingEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    const platform = args.platform.endpointPlatform();
    // Checked before anything is registered: a bad declaration leaves nothing half-declared.
    const [ep] = planEndpoints([args.endpoint], platform.pools, platform.imageDigests);
    // Without images from its platform (declared on its own), an MLflow-served version gets its own serving image,
    // as the platform's endpoints do; refused environments fail here, before any child.
    const ownImages = args.serverImages === undefined && (args.models ?? []).length > 0 && platform.servingImages !== undefined
      ? servingImagePlan(ep!, args.models!, platform.imageDigests) : undefined;
    super("autopilot:endpoint:ServingEndpoint", name, componentInputs(args, { omit: ["models", "serverImages"] }), {
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
    const serverImages = ownImages !== undefined && Object.keys(ownImages.images).length > 0
      ? platform.servingImages!.build(ownImages, this, `${name}-serving-image`)[decl.name] ?? {}
      : args.serverImages;
    const target = args.models !== undefined && args.models.length > 0 ? publishLocation(platform.store, platform.modelPublish) : undefined;
    for (const v of decl.versions) {
      const vName = versionName(decl.name, v.version);
      const src = args.models?.find((m) => m.version === v.version);
      const published: pulumi.Resource[] = [];
      if (src !== undefined && target !== undefined) {
        const pub = new ModelPublication(`${name}-${v.version}-model`, {
          endpoint: decl.name, version: v.version, digest: src.digest, source: src.resolvedFrom, dir: src.dir, files: src.files, store: target,
        }, { parent: this, dependsOn: [...platform.dependsOn, ...platform.storeReady] });
        this.publications[v.version] = pub;
        published.push(pub);
      }
      const dep = buildDeployment(this.planned, v, grant.access, { nodeCache, initialReplicas: initialReplicas(this.planned, v.weight), digestOverrides: platform.imageDigests,
        ...(platform.adapterImage !== undefined ? { adapterImage: platform.adapterImage } : {}),
        ...(serverImages?.[v.version] !== undefined ? { serverImage: serverImages[v.version] } : {}) });
      deployments.push(kubeResource(`${name}-${v.version}-deployment`, dep, {
        ...o, dependsOn: [ns, sa, ...grant.ready, ...netpols, ...published], ignoreChanges: ["spec.replicas"], customTimeouts: { create: timeout, update: timeout },
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

/** The serving images of one endpoint's MLflow-served versions; throws the refusals as a DeclarationError. */
function servingImagePlan(ep: PlannedEndpoint, models: readonly ModelVersionSource[], digests: Readonly<Record<string, string>>): ServingImagePlan {
  const versions = models.filter((m) => ep.decl.versions.some((v) => v.version === m.version));
  const r = planServingImages([{ name: ep.decl.name, runtimeKind: ep.plan.kind, ownImage: ep.decl.runtime?.image !== undefined, versions, fields: versions.map((v) => v.field) }], digests);
  if (r.errors.length > 0) throw new DeclarationError("endpoint", r.errors);
  return r.plan;
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
