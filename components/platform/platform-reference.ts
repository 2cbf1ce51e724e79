/**
 * A platform declared in another stack. The platform program exports `platformExports(platform)` (stack outputs
 * `platform`, `kubeconfig` and `modelStoreSecret`); a team's program reads them with
 * `await PlatformReference.fromStack("org/platform/prod")` and declares its `ServingEndpoint`s on the reference:
 * the endpoints get the platform's pools (selectors, tolerations), model store and read identities, gateway and
 * controller image exactly as endpoints declared in the platform stack do.
 *
 * Differences from endpoints of the platform stack: a team stack's endpoints read their model into the pod (the
 * node-local cache prepares only the platform stack's endpoints), and the in-cluster MinIO store is not offered to
 * team stacks (its setup Job creates users for the platform stack's endpoints only): use S3, GCS or an external
 * S3-compatible store.
 */
import { createImageRegistry, type RegistryTarget } from "../model/image-registry.ts";
import { kindLoadCluster } from "../model/kind-load.ts";
import { type ImageRegistry, ServingImageBuilder } from "../model/serving-images.ts";
import * as aws from "@pulumi/aws";
import * as gcp from "@pulumi/gcp";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { EndpointPlatform, PlatformLike } from "../endpoint/endpoint-platform.ts";
import type { StoreWiring } from "../model-cache/store-grant.ts";
import type { Cloud, PoolPlacement } from "../types.ts";
import type { ServingPlatform } from "./serving-platform.ts";
import { componentInputs } from "../component-inputs.ts";

/** Format tag of the `platform` output; a reader refuses any other. */
export const PLATFORM_EXPORTS_SCHEMA = "autopilot-serving/platform@1";

/** The model store as team stacks see it (no credentials; those travel in the secret `modelStoreSecret`). */
export type StoreReference =
  | { readonly kind: "s3"; readonly bucket: string; readonly bucketArn: string; readonly kmsKeyArn: string; readonly region: string; readonly eksClusterName: string }
  | { readonly kind: "gcs"; readonly bucket: string; readonly gcpProject: string; readonly gcpProjectNumber: string; readonly region: string }
  | { readonly kind: "minio"; readonly bucket: string }
  | { readonly kind: "external"; readonly url: string; readonly bucket: string; readonly region: string; readonly accessKeyId: string };

/** The platform stack's `platform` output: everything an endpoint declared elsewhere needs, as plain data. */
export interface PlatformExports {
  readonly schema: typeof PLATFORM_EXPORTS_SCHEMA;
  readonly cloud: Cloud;
  /** aws/gcp region ("" on local). */
  readonly region: string;
  /** local: the kubeconfig context the platform was deployed into ("" = current); team stacks use their own kubeconfig. */
  readonly kubeContext: string;
  readonly modelStore: StoreReference;
  /** Node pools: names endpoints use in `computePool`, selectors, tolerations, sizes. */
  readonly pools: readonly PoolPlacement[];
  readonly gateway: { readonly url: string; readonly caCertificate: string };
  /** The controller image (it carries the Triton adapter) and the image digests the platform pins. */
  readonly registry: { readonly controllerImage: string; readonly imageDigests: Readonly<Record<string, string>> };
  /** The Prometheus operator is installed (endpoints get a PodMonitor). */
  readonly observability: boolean;
}

/** The stack outputs a platform program exports for team stacks. */
export interface PlatformStackOutputs {
  readonly platform: pulumi.Output<PlatformExports>;
  /** Secret. "" on local. */
  readonly kubeconfig: pulumi.Output<string>;
  /** Secret: the external store's secret access key ("" for S3, GCS and MinIO). */
  readonly modelStoreSecret: pulumi.Output<string>;
}

/** What `platform` exports for team stacks: `export const { platform, kubeconfig, modelStoreSecret } = platformExports(p)`. */
export function platformExports(p: ServingPlatform): PlatformStackOutputs {
  const w = p.cache.wiring;
  const store: pulumi.Output<StoreReference> = w.kind === "s3"
    ? pulumi.output({ kind: "s3" as const, bucket: w.bucket, bucketArn: w.bucketArn, kmsKeyArn: w.kmsKeyArn, region: w.region, eksClusterName: w.eksClusterName })
    : w.kind === "gcs"
      ? pulumi.output({ kind: "gcs" as const, bucket: w.bucket, gcpProject: w.gcpProject, gcpProjectNumber: w.gcpProjectNumber, region: p.region })
      : w.kind === "minio"
        ? pulumi.output({ kind: "minio" as const, bucket: w.bucket })
        : pulumi.output({ kind: "external" as const, url: w.url, bucket: w.bucket, region: w.region, accessKeyId: w.accessKeyId });
  const platform = pulumi.all([store, p.gatewayUrl, p.gatewayCaCertificate, p.controller.image, p.cluster.clusterName]).apply(([modelStore, url, ca, image, cluster]) => ({
    schema: PLATFORM_EXPORTS_SCHEMA, cloud: p.cloud, region: p.region, kubeContext: p.cloud === "local" && cluster !== "current-context" ? cluster : "",
    modelStore, pools: p.placements, gateway: { url, caCertificate: ca },
    registry: { controllerImage: image, imageDigests: { ...p.imageDigests } }, observability: p.observability !== undefined,
  } satisfies PlatformExports));
  return {
    platform,
    kubeconfig: pulumi.secret(p.cluster.kubeconfig),
    modelStoreSecret: pulumi.secret(w.kind === "external" ? pulumi.output(w.secretAccessKey) : pulumi.output("")),
  };
}

export interface PlatformReferenceArgs {
  /** The platform stack's `platform` output. */
  readonly exports: PlatformExports;
  /** The platform stack's `kubeconfig` output (aws/gcp). @default "" (local: the caller's kubeconfig and `exports.kubeContext`) */
  readonly kubeconfig?: pulumi.Input<string>;
  /** The platform stack's `modelStoreSecret` output (external store only). @default "" */
  readonly modelStoreSecret?: pulumi.Input<string>;
  /** local: the kind cluster the team's serving images are loaded into (`kind load docker-image`); "" = none.
   * @default the `<name>` of the platform's `kubeContext` `kind-<name>`; none for any other context */
  readonly kindCluster?: string;
}

export class PlatformReference extends pulumi.ComponentResource implements PlatformLike {
  readonly exports: PlatformExports;
  /** Provider of the team's Kubernetes objects, from the platform's kubeconfig. */
  readonly k8sProvider: k8s.Provider;
  readonly gatewayUrl: pulumi.Output<string>;
  private readonly context: EndpointPlatform;

  /**
   * Reads the platform stack's outputs (`org/project/stack`). Async: endpoints are checked against the platform's
   * pools when they are declared, so the pools must be known — `const platform = await PlatformReference.fromStack(…)`.
   */
  static async fromStack(stackName: string, opts: { readonly name?: string; readonly kindCluster?: string } = {}): Promise<PlatformReference> {
    const name = opts.name ?? "platform";
    const ref = new pulumi.StackReference(`${name}-stack`, { name: stackName });
    const details = await ref.getOutputDetails("platform");
    const value = details.value ?? details.secretValue;
    if (value === undefined) {
      throw new Error(`stack "${stackName}" has no output "platform"; the platform program must export platformExports(platform) (see examples/platform)`);
    }
    return new PlatformReference(name, {
      exports: value as PlatformExports, kubeconfig: ref.getOutput("kubeconfig") as pulumi.Output<string>,
      modelStoreSecret: ref.getOutput("modelStoreSecret") as pulumi.Output<string>,
      ...(opts.kindCluster !== undefined ? { kindCluster: opts.kindCluster } : {}),
    }, { dependsOn: [ref] });
  }

  constructor(name: string, args: PlatformReferenceArgs, opts?: pulumi.ComponentResourceOptions) {
    const e = args.exports;
    if (e?.schema !== PLATFORM_EXPORTS_SCHEMA) {
      throw new Error(`platform reference "${name}": output "platform" has schema ${JSON.stringify(e?.schema)}; allowed: "${PLATFORM_EXPORTS_SCHEMA}" (export platformExports(platform) from the platform program with this version of autopilot-serving)`);
    }
    if (e.modelStore.kind === "minio") {
      throw new Error(`platform reference "${name}": the platform's model store is the in-cluster MinIO, which has users only for the platform stack's own endpoints; allowed for team stacks: an S3, GCS or external S3-compatible store (config localModelStore: external)`);
    }
    const kindCluster = kindLoadCluster(`platform reference "${name}"`, e.cloud, args.kindCluster, e.kubeContext);
    super("autopilot:platform:PlatformReference", name, componentInputs(args, { secrets: ["kubeconfig", "modelStoreSecret"] }), opts);
    this.exports = e;
    this.gatewayUrl = pulumi.output(e.gateway.url);
    // A fresh options object per resource: Pulumi writes the chosen provider into the object it is given.
    const o = () => ({ parent: this });
    this.k8sProvider = new k8s.Provider(`${name}-k8s`, e.cloud === "local"
      ? { ...(e.kubeContext !== "" ? { context: e.kubeContext } : {}), enableServerSideApply: true }
      : { kubeconfig: pulumi.secret(args.kubeconfig ?? ""), enableServerSideApply: true }, o());
    const s = e.modelStore;
    let store: StoreWiring;
    if (s.kind === "s3") {
      store = { ...s, provider: new aws.Provider(`${name}-aws`, { region: s.region as aws.Region }, o()) };
    } else if (s.kind === "gcs") {
      store = { kind: "gcs", bucket: s.bucket, gcpProject: s.gcpProject, gcpProjectNumber: s.gcpProjectNumber, provider: new gcp.Provider(`${name}-gcp`, { project: s.gcpProject, region: s.region }, o()) };
    } else {
      store = { ...s, secretAccessKey: pulumi.secret(args.modelStoreSecret ?? "") };
    }
    // The team's own serving-image repository (in the platform's account / project), made on first use.
    let registry: ImageRegistry | undefined;
    const target: RegistryTarget = store.kind === "s3" ? { kind: "aws", provider: store.provider }
      : store.kind === "gcs" ? { kind: "gcp", provider: store.provider, project: store.gcpProject, region: e.region }
        : { kind: "local", ...(kindCluster !== undefined ? { kindCluster } : {}) };
    this.context = {
      servingImages: new ServingImageBuilder(() => (registry ??= createImageRegistry(`${name}-serving`, target, this))),
      cloud: e.cloud, pools: e.pools, imageDigests: e.registry.imageDigests, k8sProvider: this.k8sProvider, store, storeReady: [],
      nodeCache: false, monitoring: e.observability, monitoringDependsOn: [], crdDependsOn: [], dependsOn: [],
      ...(e.registry.controllerImage !== "" ? { adapterImage: e.registry.controllerImage } : {}), gatewayUrl: this.gatewayUrl,
    };
    this.registerOutputs({ gatewayUrl: this.gatewayUrl });
  }

  endpointPlatform(): EndpointPlatform {
    return this.context;
  }
}
