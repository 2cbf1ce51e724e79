/**
 * The node-cache preparer: a DaemonSet on every node with two containers sharing the hostPath cache root
 * (`/var/lib/autopilot/models`, created root-owned 0755 by the kubelet):
 * - `prepare` (root, only CAP_CHOWN, no privilege escalation, read-only root): creates
 *   `<root>/<endpoint>` for every declared endpoint and hands it to the platform UID — `chmod` first, while root
 *   still owns the directory (without CAP_FOWNER root may not chmod a file it does not own), then `chown`; a
 *   directory already owned by the platform UID is left alone, so a restart is a no-op. It also removes the
 *   (emptied) directories of endpoints no longer declared. The only pod of the platform that runs as root.
 * - `gc` (platform UID, no capabilities): deletes cached versions no endpoint declares any more once they have been
 *   undeclared for the grace period (a `.undeclared` marker records when it first saw that), killed downloads after a
 *   day, and empties undeclared endpoints' directories. With the
 *   download step's free-space reserve this keeps the cache from filling the node.
 * Both print one line per pass and then sleep; the namespace is labelled `privileged` (hostPath).
 * Commands: POSIX sh and coreutils only (the aws-cli image is Amazon Linux 2).
 */
import { imageRef } from "../images.ts";
import { RUN_AS_UID } from "../k8s/pod-security.ts";
import { type KubeObject, PLATFORM } from "../types.ts";

/** Namespace of the preparer. */
export const NODE_CACHE_NAMESPACE = "autopilot-node-cache";
/** Where the containers mount the node's cache root. */
export const NODE_CACHE_MOUNT = `/host${PLATFORM.nodeCacheRoot}`;
/** A version no endpoint declares is deleted this long after its download completed (pods of a version removed by
 * the same `pulumi up` may still be terminating). */
export const NODE_CACHE_GRACE_S = 3600;
/** Seconds between passes. */
export const NODE_CACHE_INTERVAL_S = 600;

/** An endpoint using the node cache and the version digests it declares now (`sha256:<hex>`). */
export interface NodeCacheEndpoint {
  readonly name: string;
  readonly digests: readonly string[];
}

const quoted = (xs: readonly string[]) => xs.map((x) => `"${x}"`).join(" ");
const loop = (pass: string) => [`while :; do`, `  ${pass}`, `  sleep ${NODE_CACHE_INTERVAL_S} & wait $!`, "done"];

/** Script of the `prepare` container. */
export function prepareScript(endpoints: readonly NodeCacheEndpoint[]): string {
  const uid = `${RUN_AS_UID}:${RUN_AS_UID}`;
  return [
    "set -eu",
    `root="${NODE_CACHE_MOUNT}"`,
    `declared=" ${endpoints.map((e) => e.name).join(" ")} "`,
    "prepare() {",
    `  for e in ${quoted(endpoints.map((e) => e.name))}; do`,
    '    d="$root/$e"',
    '    mkdir -p "$d"',
    `    if [ "$(stat -c %u:%g "$d")" != "${uid}" ]; then chmod 0750 "$d"; chown ${uid} "$d"; fi`,
    "  done",
    "}",
    "prune() {",
    '  for d in "$root"/*; do',
    '    [ -d "$d" ] || continue',
    '    case "$declared" in *" ${d##*/} "*) continue ;; esac',
    // gc (the platform UID) empties it first; root without CAP_DAC_OVERRIDE can only remove it once empty.
    '    rmdir "$d" 2>/dev/null && echo "node-cache: removed $d (endpoint no longer declared)" || true',
    "  done",
    "}",
    `trap 'exit 0' TERM INT`,
    "prepare",
    `echo "node-cache: ${endpoints.length} endpoint directories ready under $root"`,
    ...loop("prune"),
  ].join("\n");
}

/** Script of the `gc` container. */
export function gcScript(endpoints: readonly NodeCacheEndpoint[]): string {
  const keep = endpoints.map((e) => `    ${e.name}) keep=" ${e.digests.map((d) => `sha256-${d.replace(/^sha256:/, "")}`).join(" ")} " ;;`);
  return [
    "set -eu",
    `root="${NODE_CACHE_MOUNT}"`,
    `grace=${NODE_CACHE_GRACE_S}`,
    'age() { echo $(( $(date +%s) - $(stat -c %Y "$1") )); }',
    "gc() {",
    '  removed=0',
    '  for d in "$root"/*; do',
    '    [ -d "$d" ] || continue',
    '    keep=""; declared=1',
    '    case "${d##*/}" in',
    ...keep,
    "    *) declared=0 ;;",
    "    esac",
    '    for v in "$d"/sha256-*; do',
    '      [ -d "$v" ] || continue',
    '      if [ "$declared" = 1 ]; then case "$keep" in *" ${v##*/} "*) rm -f "$v/.undeclared"; continue ;; esac; fi',
    // The grace period runs from the first pass that found the version undeclared.
    '      [ -e "$v/.undeclared" ] || touch "$v/.undeclared"',
    '      if [ "$(age "$v/.undeclared")" -ge "$grace" ]; then rm -rf "$v" && removed=$((removed + 1)) && echo "node-cache: removed $v"; fi',
    "    done",
    '    for p in "$d"/.partial/dl.*; do',
    '      [ -d "$p" ] || continue',
    '      if [ "$(age "$p")" -ge 86400 ]; then rm -rf "$p" && removed=$((removed + 1)); fi',
    "    done",
    '    if [ "$declared" = 0 ]; then rm -rf "$d/.partial"; fi',
    "  done",
    '  echo "node-cache: gc pass removed $removed entries"',
    "}",
    `trap 'exit 0' TERM INT`,
    ...loop("gc"),
  ].join("\n");
}

/** The DaemonSet (tolerates every taint so GPU nodes get their directories too). */
export function buildNodeCacheDaemonSet(endpoints: readonly NodeCacheEndpoint[], digests: Readonly<Record<string, string>> = {}): KubeObject {
  const labels = { [PLATFORM.labelComponent]: "node-cache-prep", [PLATFORM.labelPartOf]: PLATFORM.partOf };
  const small = { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "100m", memory: "64Mi" } };
  const mount = [{ name: "cache-root", mountPath: NODE_CACHE_MOUNT }];
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
          containers: [
            {
              name: "prepare",
              // aws-cli's Amazon Linux base has sh, coreutils and sleep, and every node pulls it anyway (model downloads).
              image: imageRef("awsCli", digests),
              command: ["/bin/sh", "-c"], args: [prepareScript(endpoints)],
              resources: small,
              securityContext: {
                runAsUser: 0, runAsGroup: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                // CHOWN to hand the directories to the platform UID; nothing else.
                capabilities: { drop: ["ALL"], add: ["CHOWN"] }, seccompProfile: { type: "RuntimeDefault" },
              },
              volumeMounts: mount,
            },
            {
              name: "gc",
              image: imageRef("awsCli", digests),
              command: ["/bin/sh", "-c"], args: [gcScript(endpoints)],
              resources: small,
              securityContext: {
                runAsUser: RUN_AS_UID, runAsGroup: RUN_AS_UID, runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
              },
              volumeMounts: mount,
            },
          ],
          volumes: [{ name: "cache-root", hostPath: { path: PLATFORM.nodeCacheRoot, type: "DirectoryOrCreate" } }],
        },
      },
    },
  };
}
