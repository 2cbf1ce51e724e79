/**
 * The node-cache preparer: a DaemonSet on every node that creates `<nodeCacheRoot>/<endpoint>` owned by the
 * platform UID, so the (non-root) model-fetch init step can write there. It is the one pod in the platform that
 * runs as root with a hostPath (kubelet creates hostPath directories root-owned); it still drops every
 * capability, cannot escalate, and has a read-only root filesystem. Its namespace is labelled `privileged`.
 */
import { imageRef } from "../images.ts";
import { RUN_AS_UID } from "../k8s/pod-security.ts";
import { type KubeObject, PLATFORM } from "../types.ts";

/** Namespace of the preparer. */
export const NODE_CACHE_NAMESPACE = "autopilot-node-cache";

/** Shell run by the preparer: create one directory per endpoint, then sleep. */
export function prepareScript(endpoints: readonly string[]): string {
  const dirs = endpoints.map((e) => `"/host${PLATFORM.nodeCacheRoot}/${e}"`).join(" ");
  return [
    "set -eu",
    `for d in ${dirs}; do mkdir -p "$d" && chown ${RUN_AS_UID}:${RUN_AS_UID} "$d" && chmod 0750 "$d"; done`,
    "exec sleep 2147483647",
  ].join("\n");
}

/** The DaemonSet (tolerates every taint so GPU nodes get their directories too). */
export function buildNodeCacheDaemonSet(endpoints: readonly string[], digests: Readonly<Record<string, string>> = {}): KubeObject {
  const labels = { [PLATFORM.labelComponent]: "node-cache-prep", [PLATFORM.labelPartOf]: PLATFORM.partOf };
  return {
    apiVersion: "apps/v1", kind: "DaemonSet",
    metadata: { name: "node-cache-prep", namespace: NODE_CACHE_NAMESPACE, labels },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          automountServiceAccountToken: false,
          tolerations: [{ operator: "Exists" }],
          securityContext: { seccompProfile: { type: "RuntimeDefault" } },
          containers: [{
            name: "prepare",
            // aws-cli's Amazon Linux base has sh, mkdir, chown and sleep.
            image: imageRef("awsCli", digests),
            command: ["/bin/sh", "-c"], args: [prepareScript(endpoints)],
            resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
            securityContext: {
              runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
              // CHOWN to hand the directories to the platform UID; nothing else.
              capabilities: { drop: ["ALL"], add: ["CHOWN"] }, seccompProfile: { type: "RuntimeDefault" },
            },
            volumeMounts: [{ name: "cache-root", mountPath: `/host${PLATFORM.nodeCacheRoot}` }],
          }],
          volumes: [{ name: "cache-root", hostPath: { path: PLATFORM.nodeCacheRoot, type: "DirectoryOrCreate" } }],
        },
      },
    },
  };
}
