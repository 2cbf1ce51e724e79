/** Policy 6: restricted pod security (Kubernetes Pod Security Standards, "restricted" profile, plus read-only root). */
import { WORKLOAD_TYPES, containersOf, podTemplate } from "../lib/workloads.ts";
import { arr, at, globMatch, k8sName, k8sNamespace, str, stringMap } from "../lib/read.ts";
import { describe } from "../lib/endpoints.ts";
import type { ResourcePolicyDefinition, Violation } from "../types.ts";

export interface PodSecurityConfig {
  /**
   * Workloads exempt from the policy, as `namespace/name` globs: node agents that need host access by design
   * (NVIDIA device plugin, DCGM exporter, Prometheus node exporter) and kube-system.
   */
  exemptWorkloads: string[];
  /**
   * Pod-template annotation that exempts the listed containers (comma-separated names) from the read-only
   * root filesystem rule, for runtimes that must write to their root filesystem.
   */
  writableRootAnnotation: string;
}

const defaults: PodSecurityConfig = {
  exemptWorkloads: [
    "kube-system/*", "*/*nvidia-device-plugin*", "*/*dcgm-exporter*", "*/*node-exporter*",
    // The ModelCache's node agent creates each endpoint's hostPath cache directory with its owner (chown needs root).
    "autopilot-node-cache/node-cache-prep",
  ],
  writableRootAnnotation: "policies.autopilot.dev/writable-root-filesystem",
};

export const podSecurity: ResourcePolicyDefinition<PodSecurityConfig> = {
  kind: "resource",
  name: "restricted-pod-security",
  description: "Pods run non-root, without privilege escalation, with all capabilities dropped, seccomp RuntimeDefault and a read-only root filesystem.",
  enforcementLevel: "mandatory",
  remediation:
    "Set securityContext on the pod (runAsNonRoot: true, seccompProfile.type: RuntimeDefault) and on each container " +
    "(allowPrivilegeEscalation: false, privileged: false, capabilities.drop: [\"ALL\"], readOnlyRootFilesystem: true; " +
    "mount an emptyDir for scratch space). A runtime that truly needs a writable root lists its containers in the " +
    "pod annotation named by writableRootAnnotation.",
  defaults,
  configSchema: {
    exemptWorkloads: {
      type: "array", items: { type: "string" }, default: defaults.exemptWorkloads,
      description: "namespace/name globs of workloads exempt from the policy (node agents needing host access).",
    },
    writableRootAnnotation: {
      type: "string", default: defaults.writableRootAnnotation,
      description: "Pod annotation listing containers allowed a writable root filesystem.",
    },
  },
  types: WORKLOAD_TYPES,
  check: (r, config) => {
    const t = podTemplate(r.type, r.props);
    if (t === undefined) return [];
    const id = `${k8sNamespace(r.props)}/${k8sName(r.props) ?? r.name}`;
    if (config.exemptWorkloads.some((g) => globMatch(g, id))) return [];
    const out: Violation[] = [];
    const pod = at(t.spec, "securityContext");
    const writable = (stringMap(t.metadata["annotations"])[config.writableRootAnnotation] ?? "")
      .split(",").map((s) => s.trim()).filter((s) => s !== "");
    for (const c of containersOf(t.spec)) {
      const sc = at(c.props, "securityContext");
      const broken: string[] = [];
      const runAsNonRoot = at(sc, "runAsNonRoot") ?? at(pod, "runAsNonRoot");
      const runAsUser = at(sc, "runAsUser") ?? at(pod, "runAsUser");
      if (runAsNonRoot !== true) broken.push("runAsNonRoot is not true");
      if (runAsUser === 0) broken.push("runAsUser is 0 (root)");
      if (at(sc, "allowPrivilegeEscalation") !== false) broken.push("allowPrivilegeEscalation is not false");
      if (at(sc, "privileged") === true) broken.push("privileged is true");
      const drops = arr(at(sc, "capabilities", "drop")).map((d) => str(d));
      if (!drops.includes("ALL")) broken.push("capabilities.drop does not include ALL");
      const adds = arr(at(sc, "capabilities", "add")).map((d) => str(d)).filter((d) => d !== "NET_BIND_SERVICE");
      if (adds.length > 0) broken.push(`capabilities.add has ${adds.join(", ")}`);
      const seccomp = str(at(sc, "seccompProfile", "type")) ?? str(at(pod, "seccompProfile", "type"));
      if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") broken.push(`seccompProfile.type is ${seccomp ?? "unset"}, not RuntimeDefault`);
      if (at(sc, "readOnlyRootFilesystem") !== true && !writable.includes(c.name)) {
        broken.push("readOnlyRootFilesystem is not true");
      }
      if (broken.length > 0) out.push({ message: `${describe(r)} ${c.where}: ${broken.join("; ")}.` });
    }
    for (const hostField of ["hostNetwork", "hostPID", "hostIPC"]) {
      if (t.spec[hostField] === true) out.push({ message: `${describe(r)}: ${hostField} is true.` });
    }
    return out;
  },
};
