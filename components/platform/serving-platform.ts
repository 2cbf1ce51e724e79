/**
 * ServingPlatform: the whole platform for one cloud — Cluster, CPU and GPU NodePools, WarmPool, ModelCache,
 * Observability, ApaController, Gateway and one ServingEndpoint per (already validated) endpoint. Exposes what
 * endpoints need: the Kubernetes provider, pool placements, gateway URL, cache and identities.
 */
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "../cluster/cluster.ts";
import { ApaController } from "../controller/apa-controller.ts";
import { type ControllerContract, controllerArgs, GATEWAY_AGENT_ENTRY, GATEWAY_AGENT_SA } from "../controller/controller-contract.ts";
import { ServingEndpoint } from "../endpoint/serving-endpoint.ts";
import { installEksAddons } from "../cluster/eks-addons.ts";
import { eksGatewayServiceAnnotations } from "../cluster/eks-addons.ts";
import { controllerImageTag } from "../controller/image-tag.ts";
import { Gateway, type GatewayTls } from "../gateway/gateway.ts";
import { MetricsServer } from "./metrics-server.ts";
import { agentArgs, agentEnv, apiKeysFile } from "../gateway/gateway-contract.ts";
import { GATEWAY_METRICS_SERVICE, GATEWAY_PATHS, GATEWAY_POD_LABELS, GATEWAY_PORTS, GATEWAY_STATS_PATH } from "../gateway/gateway-spec.ts";
import { PAYLOAD_LOG_PREFIX } from "../model-cache/access-policy.ts";
import { PROMETHEUS_SERVICE } from "../observability/observability-values.ts";
import { imageRef, type ImageRole } from "../images.ts";
import { kubeResource } from "../k8s/kube-resource.ts";
import { type LocalModelStore, ModelCache } from "../model-cache/model-cache.ts";
import { NodePool } from "../node-pool/node-pool.ts";
import { Observability, type ObservabilityArgs, OTEL_TRACES_URL } from "../observability/observability.ts";
import type { Cloud, PoolPlacement } from "../types.ts";
import { PLATFORM } from "../types.ts";
import type { PlannedEndpoint } from "../validate-endpoints.ts";
import { WarmPool } from "../warm-pool/warm-pool.ts";

/** A pool to create. */
export interface PoolSpec {
  readonly placement: PoolPlacement;
  readonly machineType: string;
  readonly minNodes: number;
  readonly maxNodes: number;
}

export interface ServingPlatformArgs {
  readonly cloud: Cloud;
  readonly region: string;
  readonly kubernetesVersion: string;
  readonly kubeContext?: string;
  readonly gcpProject?: string;
  readonly gcpProjectNumber?: string;
  readonly deletionProtection?: boolean;
  /** Let `pulumi destroy` delete a model bucket that still holds models. @default false */
  readonly forceDestroyBuckets?: boolean;
  /** aws: principals given cluster-admin access entries. */
  readonly adminPrincipalArns?: readonly string[];
  /** aws/gcp: CIDRs that may reach the public API endpoint ([] = any). */
  readonly apiServerAuthorizedCidrs?: readonly string[];
  /** gcp: zones of the GPU pool ([] = the catalog's zones offering the GPU). */
  readonly gpuZones?: readonly string[];
  /** gcp: a reservation the GPU pool consumes. */
  readonly gpuReservation?: string;
  readonly pools: readonly PoolSpec[];
  readonly gpuAmiFamily: "al2023" | "bottlerocket";
  readonly endpoints: readonly PlannedEndpoint[];
  readonly warmPoolReplicas: number;
  readonly nodeCache: boolean;
  readonly noncurrentDays: number;
  /** local: the model store (in-cluster MinIO or an external S3-compatible server). */
  readonly localStore?: Omit<Extract<LocalModelStore, { kind: "minio" }>, "endpoints"> | Extract<LocalModelStore, { kind: "external" }>;
  readonly observability: boolean;
  /** Where the collector exports traces. @default the debug exporter */
  readonly traces?: ObservabilityArgs["traces"];
  /** Install metrics-server (EKS add-on, chart on local; GKE ships its own). */
  readonly metricsServer: boolean;
  readonly gateway: { replicasMin: number; replicasMax: number; host: string; apiKeyHashes: readonly string[]; tls: GatewayTls; traceSampleRate?: number };
  /** Grafana admin password. @default generated */
  readonly grafanaAdminPassword?: string;
  /** Controller image reference; empty = build controller/Dockerfile (aws/gcp registries are created here). */
  readonly controllerImage: string;
  /** Repository root, the controller image's build context. */
  readonly repoRoot: string;
  readonly controllerContract: ControllerContract;
  readonly digestOverrides: Readonly<Record<string, string>>;
}

export class ServingPlatform extends pulumi.ComponentResource {
  readonly cluster: Cluster;
  readonly pools: NodePool[];
  readonly gateway: Gateway;
  readonly cache: ModelCache;
  readonly controller: ApaController;
  readonly observability?: Observability;
  readonly endpoints: Record<string, ServingEndpoint> = {};
  readonly gatewayUrl: pulumi.Output<string>;
  /** The generated gateway certificate (PEM) to trust, or "" when the stack brings its own. */
  readonly gatewayCaCertificate: pulumi.Output<string>;
  readonly grafanaUrl: pulumi.Output<string>;

  constructor(name: string, args: ServingPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:platform:ServingPlatform", name, {}, opts);
    this.cluster = new Cluster(`${name}-cluster`, {
      cloud: args.cloud, region: args.region, kubernetesVersion: args.kubernetesVersion,
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
      contract: args.controllerContract, size,
      args: controllerArgs({
        gatewayMetricsService: GATEWAY_METRICS_SERVICE,
        // The agent's HTTP server serves HAProxy's backend CSV; ~20× smaller than the exporter page (docs/gateway.md).
        gatewayPage: { port: GATEWAY_PORTS.health, path: GATEWAY_STATS_PATH },
        ...(args.observability ? { prometheusUrl: `http://${PROMETHEUS_SERVICE}.${PLATFORM.monitoringNamespace}.svc:9090` } : {}),
      }),
    }, k8sOpts);
    const gpuNs = args.pools.some((p) => p.placement.gpu !== undefined)
      ? [kubeResource(`${name}-gpu-system-ns`, {
        apiVersion: "v1", kind: "Namespace",
        metadata: { name: PLATFORM.gpuSystemNamespace, labels: { "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "restricted" } },
      }, { parent: this, provider: this.cluster.provider })]
      : [];

    const names = args.endpoints.map((e) => e.decl.name);
    if (args.observability) {
      this.observability = new Observability(`${name}-observability`, {
        endpoints: names, size, ...(args.grafanaAdminPassword !== undefined ? { grafanaAdminPassword: args.grafanaAdminPassword } : {}),
        ...(args.traces !== undefined ? { traces: args.traces } : {}),
      }, k8sOpts);
    }

    this.pools = args.pools.map((p) => new NodePool(`${name}-pool-${p.placement.poolName}`, {
      cluster: this.cluster, poolName: p.placement.poolName, kind: p.placement.kind, machineType: p.machineType,
      minNodes: p.minNodes, maxNodes: p.maxNodes, amiFamily: args.gpuAmiFamily, gpuSystemNamespace: PLATFORM.gpuSystemNamespace,
      ...(p.placement.gpu !== undefined && args.gpuZones !== undefined ? { zones: args.gpuZones } : {}),
      ...(p.placement.gpu !== undefined && args.gpuReservation !== undefined ? { reservation: args.gpuReservation } : {}),
      ...(this.observability !== undefined ? { monitoringReady: this.observability.ready } : {}),
    }, { ...k8sOpts, dependsOn: gpuNs }));
    const nodes = this.pools.flatMap((p) => p.nodes);
    const eksAddons = this.cluster.eks !== undefined ? installEksAddons(`${name}-eks`, this.cluster, args.region, nodes, args.metricsServer, this) : undefined;
    if (args.cloud === "local" && args.metricsServer) new MetricsServer(`${name}-metrics-server`, {}, k8sOpts);

    // Payload logs go to the environment's bucket, written by the gateway agent's own least-privilege identity.
    const payloadLogs = args.endpoints.some((e) => e.decl.payloadLogging !== undefined);
    const local: LocalModelStore | undefined = args.localStore === undefined ? undefined
      : args.localStore.kind === "minio" ? { ...args.localStore, endpoints: names } : args.localStore;
    this.cache = new ModelCache(`${name}-models`, {
      cluster: this.cluster, region: args.region, noncurrentDays: args.noncurrentDays, forceDestroy: args.forceDestroyBuckets ?? false,
      ...(args.gcpProject !== undefined ? { gcpProject: args.gcpProject } : {}),
      ...(args.gcpProjectNumber !== undefined ? { gcpProjectNumber: args.gcpProjectNumber } : {}),
      ...(local !== undefined ? { local } : {}),
      ...(this.cluster.gke !== undefined ? { dependsOn: this.cluster.gke.apis } : {}),
      nodeCacheEndpoints: args.nodeCache ? args.endpoints.map((e) => ({ name: e.decl.name, digests: e.decl.versions.map((v) => v.digest) })) : [],
      digestOverrides: args.digestOverrides,
      ...(payloadLogs
        ? { payloadLogWriter: { namespace: PLATFORM.gatewayNamespace, serviceAccount: GATEWAY_AGENT_SA, podLabels: GATEWAY_POD_LABELS, prefix: PAYLOAD_LOG_PREFIX } }
        : {}),
    }, k8sOpts);
    const pl = this.cache.payloadLogs;
    this.gateway = new Gateway(`${name}-gateway`, {
      agentImage: this.controller.image,
      agentArgs: agentArgs(GATEWAY_AGENT_ENTRY, {
        publicPort: GATEWAY_PORTS.agentHttp, metricsPort: GATEWAY_PORTS.metrics, healthPort: GATEWAY_PORTS.health,
        workDir: GATEWAY_PATHS.workDir, apiKeysFile: `${GATEWAY_PATHS.authDir}/api-keys.json`, gatewayReplicas: args.gateway.replicasMin,
        ...(args.observability ? { otlpEndpoint: OTEL_TRACES_URL } : {}),
        ...(args.gateway.traceSampleRate !== undefined ? { traceSampleRate: args.gateway.traceSampleRate } : {}),
        ...(pl !== undefined
          ? { payloadLog: { sink: pl.sink, region: pl.region, prefix: PAYLOAD_LOG_PREFIX.replace(/\/$/, ""), ...(pl.endpointUrl !== undefined ? { endpointUrl: pl.endpointUrl } : {}) } }
          : {}),
      }),
      agentEnv: agentEnv(pl?.bucket, pl?.credentials !== undefined),
      ...(pl !== undefined ? { payloadLog: { ready: pl.ready, ...(pl.credentials !== undefined ? { credentials: pl.credentials } : {}) } } : {}),
      agentRbac: args.controllerContract.gatewayAgentRbac,
      tls: args.gateway.tls, replicasMin: args.gateway.replicasMin, replicasMax: args.gateway.replicasMax, size,
      digestOverrides: args.digestOverrides, apiKeysJson: apiKeysFile(args.gateway.apiKeyHashes, names),
      ...(args.gateway.host !== "" ? { host: args.gateway.host } : {}),
      ...(eksAddons !== undefined
        ? { serviceAnnotations: eksGatewayServiceAnnotations(443), loadBalancerClass: "service.k8s.aws/nlb", loadBalancerDependsOn: eksAddons.loadBalancer }
        : {}),
    }, k8sOpts);
    const afterSystemNs = { ...k8sOpts, dependsOn: [this.controller.namespace] };

    const byPool = new Map<string, PlannedEndpoint[]>();
    for (const e of args.endpoints) {
      const list = byPool.get(e.pool.poolName);
      if (list === undefined) byPool.set(e.pool.poolName, [e]);
      else list.push(e);
    }
    const downloader: ImageRole = args.cloud === "gcp" ? "gcloudCli" : "awsCli";
    new WarmPool(`${name}-warm`, {
      pools: args.pools.map((p) => {
        const eps = byPool.get(p.placement.poolName) ?? [];
        const largest = eps.reduce<{ cpu: number; memoryGiB: number } | undefined>((m, e) =>
          m === undefined || e.plan.cpu > m.cpu ? { cpu: e.plan.cpu, memoryGiB: e.plan.memoryGiB } : m, undefined);
        return {
          placement: p.placement,
          images: [imageRef(downloader, args.digestOverrides), ...eps.filter((e) => e.plan.kind !== "custom").map((e) => e.plan.image)],
          ...(largest !== undefined ? { largestPod: largest } : {}),
        };
      }),
      initialReplicas: args.warmPoolReplicas, digestOverrides: args.digestOverrides,
    }, { ...afterSystemNs, dependsOn: [this.controller.namespace, ...this.pools] });
    this.gatewayCaCertificate = this.gateway.caCertificate;

    for (const e of args.endpoints) {
      this.endpoints[e.decl.name] = new ServingEndpoint(`${name}-ep-${e.decl.name}`, {
        endpoint: e, cache: this.cache, k8sProvider: this.cluster.provider, nodeCache: args.nodeCache,
        crdDependsOn: [this.controller.crd],
        ...(this.observability !== undefined ? { monitoringDependsOn: this.observability.ready } : {}),
        digestOverrides: args.digestOverrides, adapterImage: this.controller.image,
      }, { ...k8sOpts, dependsOn: [this.cache, ...this.pools] });
    }
    this.gatewayUrl = this.gateway.url;
    this.grafanaUrl = this.observability?.grafanaUrl ?? pulumi.output("");
    this.registerOutputs({ gatewayUrl: this.gatewayUrl, gatewayCaCertificate: this.gatewayCaCertificate, grafanaUrl: this.grafanaUrl });
  }

  /** Image reference or build settings for the controller (registry created per cloud). */
  private controllerImage(name: string, args: ServingPlatformArgs): { image: string } | { build: NonNullable<import("../controller/apa-controller.ts").ApaControllerArgs["build"]> } {
    if (args.controllerImage !== "") return { image: args.controllerImage };
    const { eks, gke } = this.cluster;
    if (eks !== undefined) {
      const repo = new aws.ecr.Repository(`${name}-controller-repo`, {
        imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: "KMS" }],
      }, { parent: this, provider: eks.provider });
      const auth = aws.ecr.getAuthorizationTokenOutput({ registryId: repo.registryId }, { parent: this, provider: eks.provider });
      return { build: { repository: repo.repositoryUrl, contextPath: args.repoRoot, tag: controllerImageTag(args.repoRoot), registry: { address: auth.proxyEndpoint, username: auth.userName, password: pulumi.secret(auth.password) } } };
    }
    if (gke !== undefined) {
      const repo = new gcp.artifactregistry.Repository(`${name}-controller-repo`, {
        location: args.region, repositoryId: `${name}-controller`, format: "DOCKER",
        dockerConfig: { immutableTags: true },
      }, { parent: this, provider: gke.provider, dependsOn: [...gke.apis] });
      const client = gcp.organizations.getClientConfigOutput({ parent: this, provider: gke.provider });
      const host = `${args.region}-docker.pkg.dev`;
      return { build: { repository: pulumi.interpolate`${host}/${args.gcpProject}/${repo.repositoryId}/apa-controller`, contextPath: args.repoRoot, tag: controllerImageTag(args.repoRoot), registry: { address: host, username: "oauth2accesstoken", password: pulumi.secret(client.accessToken) } } };
    }
    throw new Error(`config key "autopilot-serving:controllerImage" is empty; allowed on cloud local: an image reference loaded into the cluster (docker build -f controller/Dockerfile -t <ref> . && kind load docker-image <ref>)`);
  }
}
