/**
 * Restricted Pod Security (https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted):
 * non-root, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, read-only root filesystem
 * where the program allows it. Every pod this package renders uses these helpers.
 */

/** UID/GID every platform container runs as. */
export const RUN_AS_UID = 1000;

/** Pod-level securityContext. */
export function restrictedPodSecurity(): Record<string, unknown> {
  return {
    runAsNonRoot: true,
    runAsUser: RUN_AS_UID,
    runAsGroup: RUN_AS_UID,
    fsGroup: RUN_AS_UID,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Container-level securityContext. */
export function restrictedContainerSecurity(readOnlyRootFilesystem = true): Record<string, unknown> {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Requests = limits (Guaranteed QoS) from cores and GiB, plus optional GPUs. */
export function guaranteedResources(cpu: number | string, memory: string, gpus = 0): Record<string, Record<string, string>> {
  const r: Record<string, string> = { cpu: String(cpu), memory };
  if (gpus > 0) r["nvidia.com/gpu"] = String(gpus);
  return { requests: { ...r }, limits: { ...r } };
}

/** Requests below limits (Burstable), for small sidecars and agents. */
export function burstableResources(cpuReq: string, memReq: string, cpuLim: string, memLim: string): Record<string, Record<string, string>> {
  return { requests: { cpu: cpuReq, memory: memReq }, limits: { cpu: cpuLim, memory: memLim } };
}

/** Namespace labels that enforce the restricted Pod Security Standard. */
export function restrictedNamespaceLabels(): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/audit": "restricted",
  };
}
