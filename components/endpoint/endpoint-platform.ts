/**
 * What a ServingEndpoint takes from the platform it runs on. The ServingPlatform of the same program and a
 * PlatformReference (a team stack reading the platform stack's outputs) both provide it, so one endpoint component
 * serves both.
 */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { StoreWiring } from "../model-cache/store-grant.ts";
import type { ModelPublishSettings } from "../model/publish-target.ts";
import type { ServingImageBuilder } from "../model/serving-images.ts";
import type { Cloud, PoolPlacement } from "../types.ts";

export interface EndpointPlatform {
  readonly cloud: Cloud;
  /** The pools endpoints may name in `computePool`, with the selectors and tolerations their pods get. */
  readonly pools: readonly PoolPlacement[];
  /** Image digests by role (stack config `imageDigests`), applied to every image the endpoint runs. */
  readonly imageDigests: Readonly<Record<string, string>>;
  /** Provider of every Kubernetes object of the endpoint. */
  readonly k8sProvider: k8s.Provider;
  /** The model store and how endpoints get read access to their prefix. */
  readonly store: StoreWiring;
  /** How the deployer's machine reaches a local store to publish models (components/model/publish-target.ts). */
  readonly modelPublish?: ModelPublishSettings;
  /** What the endpoint's pods wait for besides their own identity (the store's set-up, the node-cache preparer). */
  readonly storeReady: readonly pulumi.Resource[];
  /** Pods use the node-local hostPath model cache. */
  readonly nodeCache: boolean;
  /** The Prometheus operator's CRDs are installed: each endpoint gets a PodMonitor. */
  readonly monitoring: boolean;
  /** What the PodMonitor waits for (the operator's CRDs, when the same program installs them). */
  readonly monitoringDependsOn: readonly pulumi.Resource[];
  /** What the ServingEndpoint custom resource waits for (the CRD, when the same program installs it). */
  readonly crdDependsOn: readonly pulumi.Resource[];
  /** What the whole endpoint waits for (the cache, the node pools). */
  readonly dependsOn: readonly pulumi.Resource[];
  /** The controller image, which carries the Triton adapter (Triton endpoints run it beside Triton). */
  readonly adapterImage?: pulumi.Input<string>;
  /** Builds and pushes the per-version serving images of MLflow-served versions (shared by every endpoint on the
   * platform, one image per environment). @default none: those versions run the runtime's image */
  readonly servingImages?: ServingImageBuilder;
  /** `https://<host>` of the gateway. */
  readonly gatewayUrl: pulumi.Output<string>;
}

/** A platform a ServingEndpoint can be declared on: `ServingPlatform` or `PlatformReference`. */
export interface PlatformLike {
  endpointPlatform(): EndpointPlatform;
}
