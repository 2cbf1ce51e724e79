/**
 * ServingPlatform: the whole platform for one cloud — Cluster, CPU and GPU NodePools, WarmPool, ModelCache,
 * Observability, ApaController, Gateway and one ServingEndpoint per (already validated) endpoint. Exposes what
 * endpoints need: the Kubernetes provider, pool placements, gateway URL, cache and identities.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../cluster/cluster.ts";
import { existsSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ApaController, type ApaControllerArgs } from "../controller/apa-controller.ts";
import { type ControllerContract, controllerArgs, controllerContract, GATEWAY_AGENT_ENTRY, GATEWAY_AGENT_SA } from "../controller/controller-contract.ts";
import { ServingEndpoint } from "../endpoint/serving-endpoint.ts";
import { eksGatewayServiceAnnotations, installEksAddons } from "../cluster/eks-addons.ts";
import { controllerImageTag } from "../controller/image-tag.ts";
import { Gateway, type GatewayTls } from "../gateway/gateway.ts";
import { MetricsServer } from "./metrics-server.ts";
import { agentArgs, agentEnv, apiKeysFile, type ScopedKey } from "../gateway/gateway-contract.ts";
import { GATEWAY_METRICS_SERVICE, GATEWAY_PATHS, GATEWAY_POD_LABELS, GATEWAY_PORTS, GATEWAY_STATS_PATH } from "../gateway/gateway-spec.ts";
import { PAYLOAD_LOG_PREFIX } from "../model-cache/access-policy.ts";
import { PROMETHEUS_SERVICE } from "../observability/observability-values.ts";
import { imageRef, type ImageRole } from "../images.ts";
import { buildEndpointAdmissionPolicy } from "../k8s/admission-policy.ts";
import { kubeResource } from "../k8s/kube-resource.ts";
import { type LocalModelStore, ModelCache } from "../model-cache/model-cache.ts";
import { NodePool } from "../node-pool/node-pool.ts";
import { Observability, type ObservabilityArgs, OTEL_TRACES_URL } from "../observability/observability.ts";
import { DEFAULT_CPU_MACHINE } from "../catalog.ts";
import type { PlatformLike, EndpointPlatform } from "../endpoint/endpoint-platform.ts";
import type { ResolvedEndpoint } from "../endpoint-types.ts";
import type { ModelPublishSettings } from "../model/publish-target.ts";
import type { ModelVersionSource } from "../model/resolve-endpoints.ts";
import type { ServingImagePlan } from "../model/serving-image.ts";
import { createImageRegistry, type RegistryTarget } from "../model/image-registry.ts";
import { kindLoadCluster } from "../model/kind-load.ts";
import { type ImageRegistry, ServingImageBuilder, servingImageRefs } from "../model/serving-images.ts";
import { poolPlacement } from "../node-pool/node-pool-spec.ts";
import type { Cloud, PoolKind, PoolPlacement } from "../types.ts";
import { PLATFORM } from "../types.ts";
import { type PlannedEndpoint, planEndpoints } from "../validate-endpoints.ts";
import { WarmPool } from "../warm-pool/warm-pool.ts";
import { componentInputs } from "../component-inputs.ts";

/** A node pool as the user declares it. */
export interface PoolDeclaration {
  /** Pool name endpoints name in `computePool` (`cpu`, `gpu`, …). */
  readonly name: string;
  /** @default "cpu" */
  readonly kind?: PoolKind;
  /** A machine type of the cloud's catalog (components/catalog.ts).
   * @default cpu pools: the cloud's default (m7i.2xlarge, n2-standard-8, kind-node); gpu pools: required */
  readonly machineType?: string;
  /** @default 1 */
  readonly minNodes?: number;
  /** @default 5 */
  readonly maxNodes?: number;
}

/** A pool to create, with the placement its endpoints get. */
export interface PoolSpec {
  readonly placement: PoolPlacement;
  readonly machineType: string;
  readonly minNodes: number;
  readonly maxNodes: number;
}

/** Placements and sizes of declared pools (pure; throws naming the pool on an unknown machine type). */
export function poolSpecs(cloud: Cloud, pools: readonly PoolDeclaration[]): PoolSpec[] {
  return pools.map((p) => {
    const kind = p.kind ?? "cpu";
    const machineType = p.machineType ?? (kind === "cpu" ? DEFAULT_CPU_MACHINE[cloud] : "");
    return { placement: poolPlacement(cloud, p.name, kind, machineType), machineType, minNodes: p.minNodes ?? 1, maxNodes: p.maxNodes ?? 5 };
  });
}

/** The gateway's settings. */
export interface GatewaySettings {
  /** SHA-256 hex digests of the API keys clients send (`Authorization: Bearer <key>`); keys open every endpoint. */
  readonly apiKeyHashes: readonly string[];
  /** API keys that may call only the endpoints each names (`["*"]`: every endpoint). @default [] */
  readonly apiKeys?: readonly ScopedKey[];
  /** @default 2 */
  readonly replicasMin?: number;
  /** @default 10 */
  readonly replicasMax?: number;
  /** Public host name. @default "" (the load balancer's address) */
  readonly host?: string;
  /** Where the TLS certificate comes from. @default { kind: "generated" } */
  readonly tls?: GatewayTls;
  /** Share of requests without a `traceparent` whose gateway-started trace is sampled. @default 0 */
  readonly traceSampleRate?: number;
}

export interface ServingPlatformArgs {
  /** Where the platform runs: an existing kubeconfig context (`local`), EKS (`aws`) or GKE (`gcp`). */
  readonly cloud: Cloud;
  /** aws/gcp: region of the cluster and the model bucket. @default "" (local) */
  readonly region?: string;
  /** aws/gcp: Kubernetes minor version of the cluster. @default "1.33" */
  readonly kubernetesVersion?: string;
  /** local: kubeconfig context to deploy into. @default the current context */
  readonly kubeContext?: string;
  /** gcp: project id. @default "" */
  readonly gcpProject?: string;
  /** gcp: project number (Workload Identity principals name it). @default "" */
  readonly gcpProjectNumber?: string;
  /** Protect the control plane from deletion. @default false */
  readonly deletionProtection?: boolean;
  /** Let `pulumi destroy` delete a model bucket that still holds models. @default false */
  readonly forceDestroyBuckets?: boolean;
  /** aws: principals given cluster-admin access entries. @default [] */
  readonly adminPrincipalArns?: readonly string[];
  /** aws/gcp: CIDRs that may reach the public API endpoint. @default [] (any address) */
  readonly apiServerAuthorizedCidrs?: readonly string[];
  /** gcp: zones of the GPU pool. @default the catalog's zones offering the GPU */
  readonly gpuZones?: readonly string[];
  /** gcp: a reservation the GPU pool consumes. @default none */
  readonly gpuReservation?: string;
  /** Node pools. @default [{ name: "cpu" }] (one CPU pool of the cloud's default machine, 1–5 nodes) */
  readonly pools?: readonly PoolDeclaration[];
  /** aws: AMI family of GPU nodes. @default "al2023" */
  readonly gpuAmiFamily?: "al2023" | "bottlerocket";
  /** Endpoints declared with the platform (more can be declared as `ServingEndpoint`s, here or in team stacks).
   * All are checked before any resource is created. @default [] */
  readonly endpoints?: readonly ResolvedEndpoint[];
  /** The resolved versions' files by endpoint (`resolveEndpoints`); each version is published into the store. @default none */
  readonly models?: Readonly<Record<string, readonly ModelVersionSource[]>>;
  /** Serving images of MLflow-served versions, built and pushed here (components/model/serving-image.ts). @default none */
  readonly servingImages?: ServingImagePlan;
  /** A repository holding the serving images built ahead of the deploy under their content tags
   * (`<repository>:py3.11-<hash>`; `npm run plan -- --stack <s> --dockerfiles <dir>` writes each tag's Dockerfile):
   * nothing is built here and pods pull `<repository>:<tag>`. @default "" (build with @pulumi/docker-build) */
  readonly servingImageRepository?: string;
  /** local: the kind cluster each serving image built here is loaded into (`kind load docker-image --name <it>`, a
   * `command.local.Command` per image, run on the deployer's machine after the build; `kind` must be on PATH).
   * "" = none: the cluster gets the images by other means (a local registry, a cluster sharing the Docker engine).
   * @default the `<name>` of a `kubeContext` `kind-<name>`; none for any other context */
  readonly kindCluster?: string;
  /** How the deployer's machine reaches a local store to publish models. @default MinIO's NodePort / the external store's URL */
  readonly modelPublish?: ModelPublishSettings;
  /** Placeholder pods per pool keeping a node's worth of capacity warm. @default 0 */
  readonly warmPoolReplicas?: number;
  /** Node-local hostPath model cache for the endpoints declared here. @default true */
  readonly nodeCache?: boolean;
  /** Days before non-current model object versions are deleted. @default 30 */
  readonly noncurrentDays?: number;
  /** local (required there): the model store — the in-cluster MinIO or an external S3-compatible server. */
  readonly localStore?: Omit<Extract<LocalModelStore, { kind: "minio" }>, "endpoints"> | Extract<LocalModelStore, { kind: "external" }>;
  /** Prometheus, Grafana and the OpenTelemetry collector. @default true */
  readonly observability?: boolean;
  /** Where the collector exports traces. @default the debug exporter */
  readonly traces?: ObservabilityArgs["traces"];
  /** Install metrics-server (EKS add-on, chart on local; GKE ships its own). @default true */
  readonly metricsServer?: boolean;
  /** The gateway (API keys are required: the gateway always authenticates). */
  readonly gateway: GatewaySettings;
  /** Grafana admin password. @default generated */
  readonly grafanaAdminPassword?: string;
  /** Controller image reference. @default "" (aws/gcp: build controller/Dockerfile into a registry created here;
   * local: required, an image loaded into the cluster) */
  readonly controllerImage?: string;
  /** Build context of the controller image. @default the package's root */
  readonly repoRoot?: string;
  /** CRD and RBAC objects from the controller package. @default controllerContract() */
  readonly controllerContract?: ControllerContract;
  /** Image digests by role, pinning every platform and runtime image. @default {} */
  readonly imageDigests?: Readonly<Record<string, string>>;
}

/** The package's root: the controller image's default build context. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/dist\/?$/, "/");

export class ServingPlatform extends pulumi.ComponentResource implements PlatformLike {
  readonly cloud: Cloud;
  readonly region: string;
  readonly cluster: Cluster;
  readonly pools: NodePool[];
  /** Placements of the pools (what endpoints' `computePool` names). */
  readonly placements: PoolPlacement[];
  readonly gateway: Gateway;
  readonly cache: ModelCache;
  readonly controller: ApaController;
  readonly observability?: Observability;
  /** The endpoints declared in `args.endpoints`, by name. */
  readonly endpoints: Record<string, ServingEndpoint> = {};
  readonly gatewayUrl: pulumi.Output<string>;
  /** The generated gateway certificate (PEM) to trust, or "" when the stack brings its own. */
  readonly gatewayCaCertificate: pulumi.Output<string>;
  readonly grafanaUrl: pulumi.Output<string>;
  readonly imageDigests: Readonly<Record<string, string>>;
  private readonly context: EndpointPlatform;

  constructor(name: string, args: ServingPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    const region = args.region ?? "";
    const pools = poolSpecs(args.cloud, args.pools ?? [{ name: "cpu" }]);
    const placements = pools.map((p) => p.placement);
    const imageDigests = args.imageDigests ?? {};
    const decls = args.endpoints ?? [];
    // Every declaration is checked before the platform registers anything (nothing half-declared).
    const planned = planEndpoints(decls, placements, imageDigests);
    const kindCluster = kindLoadCluster(`ServingPlatform "${name}"`, args.cloud, args.kindCluster, args.kubeContext);
    super("autopilot:platform:ServingPlatform", name, componentInputs(args, { secrets: ["grafanaAdminPassword", "localStore", "gateway"], omit: ["controllerContract", "models", "servingImages"] }), opts);
    this.cloud = args.cloud;
    this.region = region;
    this.placements = placements;
    this.imageDigests = imageDigests;
    const contract = args.controllerContract ?? controllerContract();
    const observability = args.observability ?? true;
    const metricsServer = args.metricsServer ?? true;
    const nodeCache = args.nodeCache ?? true;
    const gw = args.gateway;
    this.cluster = new Cluster(`${name}-cluster`, {
      cloud: args.cloud, region, kubernetesVersion: args.kubernetesVersion ?? "1.33",
      ...(args.kubeContext !== undefined ? { kubeContext: args.kubeContext } : {}),
      ...(args.gcpProject !== undefined ? { gcpProject: args.gcpProject } : {}),
      deletionProtection: args.deletionProtection ?? false,
      adminPrincipalArns: args.adminPrincipalArns ?? [], apiServerAuthorizedCidrs: args.apiServerAuthorizedCidrs ?? [],
    }, { parent: this });
    const k8sOpts = { parent: this, providers: { kubernetes: this.cluster.provider } };
    // One kind node on a laptop: every platform container is sized down.
    const size = args.cloud === "local" ? "small" : "standard";

    this.controller = new ApaController(`${name}-controller`, {
      ...this.controllerImage(name, args),
      contract, size,
      args: controllerArgs({
        gatewayMetricsService: GATEWAY_METRICS_SERVICE,
        // The agent's HTTP server serves HAProxy's backend CSV; ~20× smaller than the exporter page (docs/gateway.md).
        gatewayPage: { port: GATEWAY_PORTS.health, path: GATEWAY_STATS_PATH },
        ...(observability ? { prometheusUrl: `http://${PROMETHEUS_SERVICE}.${PLATFORM.monitoringNamespace}.svc:9090` } : {}),
      }),
    }, k8sOpts);
    const gpuNs = pools.some((p) => p.placement.gpu !== undefined)
      ? [kubeResource(`${name}-gpu-system-ns`, {
        apiVersion: "v1", kind: "Namespace",
        metadata: { name: PLATFORM.gpuSystemNamespace, labels: { "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted" } },
      }, { parent: this, provider: this.cluster.provider })]
      : [];

    const names = planned.map((e) => e.decl.name);
    if (observability) {
      this.observability = new Observability(`${name}-observability`, {
        endpoints: names, size, ...(args.grafanaAdminPassword !== undefined ? { grafanaAdminPassword: args.grafanaAdminPassword } : {}),
        ...(args.traces !== undefined ? { traces: args.traces } : {}),
      }, k8sOpts);
    }

    this.pools = pools.map((p) => new NodePool(`${name}-pool-${p.placement.poolName}`, {
      cluster: this.cluster, poolName: p.placement.poolName, kind: p.placement.kind, machineType: p.machineType,
      minNodes: p.minNodes, maxNodes: p.maxNodes, amiFamily: args.gpuAmiFamily ?? "al2023", gpuSystemNamespace: PLATFORM.gpuSystemNamespace,
      ...(p.placement.gpu !== undefined && args.gpuZones !== undefined ? { zones: args.gpuZones } : {}),
      ...(p.placement.gpu !== undefined && args.gpuReservation !== undefined ? { reservation: args.gpuReservation } : {}),
      ...(this.observability !== undefined ? { monitoringReady: this.observability.ready } : {}),
    }, { ...k8sOpts, dependsOn: gpuNs }));
    const nodes = this.pools.flatMap((p) => p.nodes);
    const eksAddons = this.cluster.eks !== undefined ? installEksAddons(`${name}-eks`, this.cluster, region, nodes, metricsServer, this) : undefined;
    if (args.cloud === "local" && metricsServer) new MetricsServer(`${name}-metrics-server`, {}, k8sOpts);

    // Payload logs go to the environment's bucket, written by the gateway agent's own least-privilege identity.
    const payloadLogs = planned.some((e) => e.decl.payloadLogging !== undefined);
    const local: LocalModelStore | undefined = args.localStore === undefined ? undefined
      : args.localStore.kind === "minio" ? { ...args.localStore, endpoints: names } : args.localStore;
    this.cache = new ModelCache(`${name}-models`, {
      cluster: this.cluster, region, noncurrentDays: args.noncurrentDays ?? 30, forceDestroy: args.forceDestroyBuckets ?? false,
      ...(args.gcpProject !== undefined ? { gcpProject: args.gcpProject } : {}),
      ...(args.gcpProjectNumber !== undefined ? { gcpProjectNumber: args.gcpProjectNumber } : {}),
      ...(local !== undefined ? { local } : {}),
      ...(this.cluster.gke !== undefined ? { dependsOn: this.cluster.gke.apis } : {}),
      nodeCacheEndpoints: nodeCache ? planned.map((e) => ({ name: e.decl.name, digests: e.decl.versions.map((v) => v.digest) })) : [],
      digestOverrides: imageDigests,
      publishNodePort: args.modelPublish?.url === undefined || args.modelPublish.url === "",
      ...(payloadLogs
        ? { payloadLogWriter: { namespace: PLATFORM.gatewayNamespace, serviceAccount: GATEWAY_AGENT_SA, podLabels: GATEWAY_POD_LABELS, prefix: PAYLOAD_LOG_PREFIX } }
        : {}),
    }, k8sOpts);
    const pl = this.cache.payloadLogs;
    const replicasMin = gw.replicasMin ?? 2;
    this.gateway = new Gateway(`${name}-gateway`, {
      agentImage: this.controller.image,
      agentArgs: agentArgs(GATEWAY_AGENT_ENTRY, {
        publicPort: GATEWAY_PORTS.agentHttp, metricsPort: GATEWAY_PORTS.metrics, healthPort: GATEWAY_PORTS.health,
        workDir: GATEWAY_PATHS.workDir, apiKeysFile: `${GATEWAY_PATHS.authDir}/api-keys.json`, gatewayReplicas: replicasMin,
        ...(observability ? { otlpEndpoint: OTEL_TRACES_URL } : {}),
        ...(gw.traceSampleRate !== undefined ? { traceSampleRate: gw.traceSampleRate } : {}),
        ...(pl !== undefined
          ? { payloadLog: { sink: pl.sink, region: pl.region, prefix: PAYLOAD_LOG_PREFIX.replace(/\/$/, ""), ...(pl.endpointUrl !== undefined ? { endpointUrl: pl.endpointUrl } : {}) } }
          : {}),
      }),
      agentEnv: agentEnv(pl?.bucket, pl?.credentials !== undefined),
      ...(pl !== undefined ? { payloadLog: { ready: pl.ready, ...(pl.credentials !== undefined ? { credentials: pl.credentials } : {}) } } : {}),
      agentRbac: contract.gatewayAgentRbac,
      tls: gw.tls ?? { kind: "generated" }, replicasMin, replicasMax: gw.replicasMax ?? 10, size,
      digestOverrides: imageDigests, apiKeysJson: apiKeysFile(gw.apiKeyHashes, gw.apiKeys ?? []),
      ...(gw.host !== undefined && gw.host !== "" ? { host: gw.host } : {}),
      ...(eksAddons !== undefined
        ? { serviceAnnotations: eksGatewayServiceAnnotations(443), loadBalancerClass: "service.k8s.aws/nlb", loadBalancerDependsOn: eksAddons.loadBalancer }
        : {}),
    }, k8sOpts);
    const afterSystemNs = { ...k8sOpts, dependsOn: [this.controller.namespace] };

    const byPool = new Map<string, PlannedEndpoint[]>();
    for (const e of planned) {
      const list = byPool.get(e.pool.poolName);
      if (list === undefined) byPool.set(e.pool.poolName, [e]);
      else list.push(e);
    }
    const downloader: ImageRole = args.cloud === "gcp" ? "gcloudCli" : "awsCli";
    new WarmPool(`${name}-warm`, {
      pools: pools.map((p) => {
        const eps = byPool.get(p.placement.poolName) ?? [];
        const largest = eps.reduce<{ cpu: number; memoryGiB: number } | undefined>((m, e) =>
          m === undefined || e.plan.cpu > m.cpu ? { cpu: e.plan.cpu, memoryGiB: e.plan.memoryGiB } : m, undefined);
        return {
          placement: p.placement,
          images: [imageRef(downloader, imageDigests), ...eps.filter((e) => e.plan.kind !== "custom").map((e) => e.plan.image)],
          ...(largest !== undefined ? { largestPod: largest } : {}),
        };
      }),
      initialReplicas: args.warmPoolReplicas ?? 0, digestOverrides: imageDigests,
    }, { ...afterSystemNs, dependsOn: [this.controller.namespace, ...this.pools] });
    this.gatewayCaCertificate = this.gateway.caCertificate;
    // Admission's own check of every pod in the endpoint namespaces, in place before any endpoint object.
    let admission: pulumi.Resource[] = [];
    for (const o of buildEndpointAdmissionPolicy()) {
      admission = [kubeResource(`${name}-${String(o.kind).toLowerCase()}`, o, { parent: this, provider: this.cluster.provider, dependsOn: admission })];
    }
    this.gatewayUrl = this.gateway.url;
    this.grafanaUrl = this.observability?.grafanaUrl ?? pulumi.output("");

    // One serving-image registry for the platform's endpoints and those declared on it on their own (made on first use).
    let registry: ImageRegistry | undefined;
    const servingRegistry = () => (registry ??= createImageRegistry(`${name}-serving`, this.registryTarget(args, kindCluster), this));
    const prebuilt = args.servingImageRepository ?? "";
    const images = args.servingImages !== undefined
      ? servingImageRefs(`${name}-serving-images`, args.servingImages, prebuilt, servingRegistry, this)
      : undefined;
    const servingImages = new ServingImageBuilder(servingRegistry, prebuilt);
    if (images !== undefined && "images" in images) servingImages.adopt(images.images as Record<string, pulumi.Output<string>>);
    this.context = {
      servingImages,
      cloud: args.cloud, pools: placements, imageDigests, k8sProvider: this.cluster.provider,
      store: this.cache.wiring, storeReady: this.cache.ready, nodeCache, monitoring: observability,
      monitoringDependsOn: this.observability?.ready ?? [], crdDependsOn: [this.controller.crd],
      dependsOn: [this.cache, ...this.pools, ...admission], adapterImage: this.controller.image, gatewayUrl: this.gatewayUrl,
      ...(args.modelPublish !== undefined ? { modelPublish: args.modelPublish } : {}),
    };
    for (const e of planned) {
      this.endpoints[e.decl.name] = new ServingEndpoint(`${name}-ep-${e.decl.name}`, {
        endpoint: e.decl, platform: this,
        ...(args.models?.[e.decl.name] !== undefined ? { models: args.models[e.decl.name] } : {}),
        // The platform planned its endpoints' images (none: the runtime's image); without a plan they build their own.
        ...(args.servingImages !== undefined ? { serverImages: images?.byVersion[e.decl.name] ?? {} } : {}),
      }, { parent: this });
    }
    this.registerOutputs({ gatewayUrl: this.gatewayUrl, gatewayCaCertificate: this.gatewayCaCertificate, grafanaUrl: this.grafanaUrl });
  }

  /** What a ServingEndpoint declared on this platform (in the same program) runs with. */
  endpointPlatform(): EndpointPlatform {
    return this.context;
  }

  /** Where the serving images go (components/model/image-registry.ts). */
  private registryTarget(args: ServingPlatformArgs, kindCluster: string | undefined): RegistryTarget {
    const { eks, gke } = this.cluster;
    if (eks !== undefined) return { kind: "aws", provider: eks.provider };
    if (gke !== undefined) return { kind: "gcp", provider: gke.provider, project: args.gcpProject ?? "", region: this.region, dependsOn: gke.apis };
    return { kind: "local", ...(kindCluster !== undefined ? { kindCluster } : {}) };
  }

  /** Image reference or build settings for the controller (registry created per cloud). */
  private controllerImage(name: string, args: ServingPlatformArgs): { image: string } | { build: NonNullable<ApaControllerArgs["build"]> } {
    if ((args.controllerImage ?? "") !== "") return { image: args.controllerImage! };
    const repoRoot = args.repoRoot ?? PACKAGE_ROOT;
    const { eks, gke } = this.cluster;
    if ((eks !== undefined || gke !== undefined) && !existsSync(path.join(repoRoot, "package-lock.json"))) {
      throw new Error(`ServingPlatform "${name}": controllerImage is empty and ${repoRoot} is no build context for controller/Dockerfile (no package-lock.json: an installed package does not carry one); allowed: an image reference built from a clone of the repository (docker build -f controller/Dockerfile .), or repoRoot set to such a clone`);
    }
    if (eks !== undefined) {
      const repo = new aws.ecr.Repository(`${name}-controller-repo`, {
        imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS" }],
      }, { parent: this, provider: eks.provider });
      const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, { parent: this, provider: eks.provider });
      return { build: { repository: repo.repositoryUrl, contextPath: repoRoot, tag: controllerImageTag(repoRoot), registry: { address: auth.proxyEndpoint, username: auth.userName, password: pulumi.secret(auth.password) } } };
    }
    if (gke !== undefined) {
      const repo = new gcp.artifactregistry.Repository(`${name}-controller-repo`, {
        location: this.region, repositoryId: `${name}-controller`, format: "DOCKER",
        dockerConfig: { immutableTags: true },
      }, { parent: this, provider: gke.provider, dependsOn: [...gke.apis] });
      const client = gcp.organizations.getClientConfigOutput({ parent: this, provider: gke.provider });
      const host = `${this.region}-docker.pkg.dev`;
      return { build: { repository: pulumi.interpolate`${host}/${args.gcpProject}/${repo.repositoryId}/apa-controller`, contextPath: repoRoot, tag: controllerImageTag(repoRoot), registry: { address: host, username: "oauth2accesstoken", password: pulumi.secret(client.accessToken) } } };
    }
    throw new Error(`config key "autopilot-serving:controllerImage" is empty; allowed on cloud local: an image reference loaded into the cluster (docker build -f controller/Dockerfile -t <ref> . && kind load docker-image <ref>)`);
  }
}

