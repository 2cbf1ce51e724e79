/**
 * WarmPool: placeholder pods at negative priority + image pre-pull, per pool (design in warm-pool-spec.ts).
 * Placeholder replicas belong to the APA controller's warm-pool sizer (`ignoreChanges: ["spec.replicas"]`).
 */
import { kubeResource } from "../k8s/kube-resource.ts";
import * as pulumi from "@pulumi/pulumi";
import type { PoolPlacement } from "../types.ts";
import { buildPlaceholderDeployment, buildPrepullDaemonSet, buildPriorityClass, placeholderSlot } from "./warm-pool-spec.ts";
import { componentInputs } from "../component-inputs.ts";

export interface WarmPoolArgs {
  /** Pools to keep warm capacity on. */
  readonly pools: readonly {
    readonly placement: PoolPlacement;
    /** Runtime images to pre-pull on the pool. */
    readonly images: readonly string[];
    /** Largest endpoint pod on the pool (CPU pools size their slot from it). @default { cpu: 1, memoryGiB: 1 } (GPU pools: a whole node's GPUs) */
    readonly largestPod?: { readonly cpu: number; readonly memoryGiB: number };
  }[];
  /** Placeholder replicas per pool at creation. */
  readonly initialReplicas: number;
  /** Image digests by role, pinning the placeholder and pre-pull images. @default {} */
  readonly digestOverrides?: Readonly<Record<string, string>>;
}

export class WarmPool extends pulumi.ComponentResource {
  /** Placeholder Deployment names by pool (what the controller's sizer scales). */
  readonly placeholderDeployments: Record<string, string> = {};

  constructor(name: string, args: WarmPoolArgs, opts?: pulumi.ComponentResourceOptions) {
    super("autopilot:warm-pool:WarmPool", name, componentInputs(args), opts);
    const priority = kubeResource(`${name}-priority`, buildPriorityClass(), { parent: this });
    for (const p of args.pools) {
      const pool = p.placement;
      const dep = buildPlaceholderDeployment(pool, placeholderSlot(pool, p.largestPod), args.initialReplicas, args.digestOverrides);
      kubeResource(`${name}-${pool.poolName}-placeholders`, dep, {
        parent: this, dependsOn: [priority], ignoreChanges: ["spec.replicas"],
      });
      this.placeholderDeployments[pool.poolName] = (dep.metadata as { name: string }).name;
      kubeResource(`${name}-${pool.poolName}-prepull`, buildPrepullDaemonSet(pool, p.images, args.digestOverrides), { parent: this });
    }
    this.registerOutputs({ placeholderDeployments: this.placeholderDeployments });
  }
}
