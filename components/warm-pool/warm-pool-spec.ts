/**
 * Warm capacity, chosen design: low-priority placeholder pods + an image pre-pull DaemonSet.
 *
 * - Placeholders: a Deployment of `pause` pods per pool in a PriorityClass of value -10 that never preempts.
 *   Each placeholder reserves one "slot" (GPU pools: a whole node's GPUs; CPU pools: the largest endpoint pod on
 *   the pool). The cluster autoscaler keeps nodes for them; a real model pod preempts a placeholder at once
 *   and starts on an already-booted node, while the evicted placeholder goes Pending and asks for a new node.
 * - Pre-pull: a DaemonSet on the pool whose init containers pull each runtime image (and exit), so a
 *   preempting pod finds its multi-GB image on the node.
 * - Size: the controller's warm-pool sizer sets the placeholder Deployment's replicas; Pulumi sets only the
 *   initial count and ignores `spec.replicas` afterwards.
 */
import { imageRef } from "../images.ts";
import { restrictedContainerSecurity, restrictedPodSecurity } from "../k8s/pod-security.ts";
import type { KubeObject, PoolPlacement } from "../types.ts";
import { PLATFORM } from "../types.ts";

/** PriorityClass of placeholder pods. */
export const PLACEHOLDER_PRIORITY_CLASS = "autopilot-warm-placeholder";

/** The PriorityClass object. */
export function buildPriorityClass(): KubeObject {
  return {
    apiVersion: "scheduling.k8s.io/v1", kind: "PriorityClass",
    metadata: { name: PLACEHOLDER_PRIORITY_CLASS, labels: { [PLATFORM.labelPartOf]: PLATFORM.partOf } },
    value: -10, globalDefault: false, preemptionPolicy: "Never",
    description: "Warm-pool placeholder pods: evicted first so real model pods start on booted nodes.",
  };
}

/** Resources one placeholder reserves. */
export function placeholderSlot(pool: PoolPlacement, largestPod: { cpu: number; memoryGiB: number } | undefined): { cpu: string; memory: string; gpus: number } {
  if (pool.gpu !== undefined) {
    // A whole GPU node: GPUs are the scarce part; CPU/memory stay small so system pods still fit beside it.
    return { cpu: "1", memory: "2Gi", gpus: pool.gpu.perNode };
  }
  const cpu = largestPod?.cpu ?? 1;
  const mem = largestPod?.memoryGiB ?? 1;
  return { cpu: String(cpu), memory: `${mem}Gi`, gpus: 0 };
}

/** Placeholder Deployment of one pool. */
export function buildPlaceholderDeployment(pool: PoolPlacement, slot: ReturnType<typeof placeholderSlot>, initialReplicas: number, digests: Readonly<Record<string, string>> = {}): KubeObject {
  const name = `warm-${pool.poolName}`;
  const labels = { [PLATFORM.labelComponent]: "warm-placeholder", [PLATFORM.labelPartOf]: PLATFORM.partOf, [PLATFORM.labelWarmPool]: pool.poolName };
  const res: Record<string, string> = { cpu: slot.cpu, memory: slot.memory };
  if (slot.gpus > 0) res["nvidia.com/gpu"] = String(slot.gpus);
  return {
    apiVersion: "apps/v1", kind: "Deployment",
    metadata: { name, namespace: PLATFORM.systemNamespace, labels, annotations: { "serving.autopilot.dev/replicas-owner": "apa-controller/warm-pool-sizer" } },
    spec: {
      replicas: initialReplicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          priorityClassName: PLACEHOLDER_PRIORITY_CLASS,
          terminationGracePeriodSeconds: 0,
          automountServiceAccountToken: false,
          nodeSelector: { ...pool.nodeSelector },
          tolerations: pool.tolerations.map((t) => ({ ...t })),
          securityContext: restrictedPodSecurity(),
          containers: [{
            name: "pause", image: imageRef("pause", digests),
            resources: { requests: res, limits: res },
            securityContext: restrictedContainerSecurity(true),
          }],
        },
      },
    },
  };
}

/** Image pre-pull DaemonSet of one pool: one init container per image, each exits at once. */
export function buildPrepullDaemonSet(pool: PoolPlacement, images: readonly string[], digests: Readonly<Record<string, string>> = {}): KubeObject {
  const name = `prepull-${pool.poolName}`;
  const labels = { [PLATFORM.labelComponent]: "image-prepull", [PLATFORM.labelPartOf]: PLATFORM.partOf, "serving.autopilot.dev/pool": pool.poolName };
  const tiny = { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } };
  return {
    apiVersion: "apps/v1", kind: "DaemonSet",
    metadata: { name, namespace: PLATFORM.systemNamespace, labels },
    spec: {
      selector: { matchLabels: labels },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "50%" } },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          nodeSelector: { ...pool.nodeSelector },
          tolerations: pool.tolerations.map((t) => ({ ...t })),
          securityContext: restrictedPodSecurity(),
          initContainers: [...new Set(images)].map((image, i) => ({
            name: `pull-${i}`, image, command: ["sh", "-c", "exit 0"], resources: tiny,
            securityContext: restrictedContainerSecurity(true),
          })),
          containers: [{ name: "pause", image: imageRef("pause", digests), resources: tiny, securityContext: restrictedContainerSecurity(true) }],
        },
      },
    },
  };
}
