/** Policy 6: restricted pod security (Kubernetes Pod Security Standards, "restricted" profile, plus read-only root). */
import { containersOf, mayHavePodTemplates, podTemplates, type PodTemplateView } from "../lib/workloads.ts";
import { arr, at, k8sName, num, obj, str, stringMap, type Json } from "../lib/read.ts";
import { describeTemplate, namespaceOf } from "../lib/endpoints.ts";
import type { ResourcePolicyDefinition, ResourceView, Violation } from "../types.ts";

export interface PodSecurityConfig {
  /**
   * Workloads exempt from the policy, as exact `namespace/name` pairs (`namespace/*` exempts a whole namespace):
   * node agents that need host access by design (NVIDIA device plugin, DCGM exporter, Prometheus node exporter)
   * and kube-system. Names are never matched by pattern, so a look-alike name elsewhere is not exempt.
   */
  exemptWorkloads: string[];
  /**
   * Pod-template annotation that exempts the listed containers (comma-separated names) from the read-only
   * root filesystem rule, for runtimes that must write to their root filesystem.
   */
  writableRootAnnotation: string;
  /** Host directories a pod may mount (`hostPath` at or below one of them). @default the node-local model cache */
  allowedHostPaths: string[];
}

/** Exact `namespace/name` or `namespace/*`. */
export const EXEMPTION_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?/([a-z0-9]([-.a-z0-9]*[a-z0-9])?|\\*)$";

const defaults: PodSecurityConfig = {
  exemptWorkloads: [
    "kube-system/*",
    // The charts' node agents, by the names their pinned charts render (components/charts/chart-facts.ts).
    "autopilot-gpu-system/gpu-device-plugin-nvidia-device-plugin",
    "autopilot-gpu-system/gpu-dcgm-dcgm-exporter",
    "autopilot-monitoring/kps-prometheus-node-exporter",
    // The ModelCache's node agent creates each endpoint's hostPath cache directory with its owner (chown needs root).
    "autopilot-node-cache/node-cache-prep",
  ],
  writableRootAnnotation: "policies.autopilot.dev/writable-root-filesystem",
  allowedHostPaths: ["/var/lib/autopilot/models"],
};

/** Volume types the restricted profile allows (hostPath is checked against allowedHostPaths instead). */
const RESTRICTED_VOLUMES = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret", "hostPath"];
/** Sysctls the Pod Security Standards call safe (baseline and restricted allow only these). */
export const SAFE_SYSCTLS = [
  "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
];

export const podSecurity: ResourcePolicyDefinition<PodSecurityConfig> = {
  kind: "resource",
  name: "restricted-pod-security",
  description: "Pods run non-root, without privilege escalation or host namespaces, ports and paths, with all capabilities dropped, seccomp RuntimeDefault and a read-only root filesystem.",
  enforcementLevel: "mandatory",
  remediation:
    "Set securityContext on the pod (runAsNonRoot: true, seccompProfile.type: RuntimeDefault) and on each container " +
    "(allowPrivilegeEscalation: false, privileged: false, capabilities.drop: [\"ALL\"], readOnlyRootFilesystem: true; " +
    "mount an emptyDir for scratch space); no hostNetwork/hostPID/hostIPC, hostPort, procMount other than Default, " +
    "unsafe sysctls, or hostPath outside allowedHostPaths. A runtime that truly needs a writable root lists its containers " +
    "in the pod annotation named by writableRootAnnotation.",
  defaults,
  configSchema: {
    exemptWorkloads: {
      type: "array", items: { type: "string", pattern: EXEMPTION_PATTERN }, default: defaults.exemptWorkloads,
      description: "Exact namespace/name pairs (or namespace/*) of workloads exempt from the policy (node agents needing host access).",
    },
    writableRootAnnotation: {
      type: "string", default: defaults.writableRootAnnotation,
      description: "Pod annotation listing containers allowed a writable root filesystem.",
    },
    allowedHostPaths: {
      type: "array", items: { type: "string", pattern: "^/.+" }, default: defaults.allowedHostPaths,
      description: "Host directories (absolute, not /) that pods may mount as hostPath, with everything below them.",
    },
  },
  types: mayHavePodTemplates,
  check: (r, config) => {
    const ns = namespaceOf(r);
    const name = k8sName(r.props) ?? r.name;
    if (config.exemptWorkloads.some((e) => e === `${ns}/${name}` || e === `${ns}/*`)) return [];
    return podTemplates(r.type, r.props).flatMap((t) => checkTemplate(r, t, config));
  },
};

function checkTemplate(r: ResourceView, t: PodTemplateView, config: PodSecurityConfig): Violation[] {
  const who = describeTemplate(r, t);
  const out: Violation[] = [];
  const pod = at(t.spec, "securityContext");
  const writable = (stringMap(t.metadata["annotations"])[config.writableRootAnnotation] ?? "")
    .split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const c of containersOf(t.spec)) {
    const broken = containerProblems(c.props, pod);
    if (at(c.props, "securityContext", "readOnlyRootFilesystem") !== true && !writable.includes(c.name)) {
      broken.push("readOnlyRootFilesystem is not true");
    }
    if (broken.length > 0) out.push({ message: `${who} ${c.where}: ${broken.join("; ")}.` });
  }
  for (const hostField of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (t.spec[hostField] === true) out.push({ message: `${who}: ${hostField} is true.` });
  }
  for (const s of arr(at(pod, "sysctls"))) {
    const sysctl = str(at(s, "name")) ?? "";
    if (!SAFE_SYSCTLS.includes(sysctl)) out.push({ message: `${who}: securityContext.sysctls sets "${sysctl}", which is not one of the safe sysctls (${SAFE_SYSCTLS.join(", ")}).` });
  }
  arr(t.spec["volumes"]).forEach((v, i) => {
    const problem = volumeProblem(obj(v) ?? {}, config.allowedHostPaths);
    if (problem !== undefined) out.push({ message: `${who}: volumes[${i}] "${str(at(v, "name")) ?? ""}" ${problem}.` });
  });
  return out;
}

/** The restricted profile's container rules (pod-level values inherited where Kubernetes inherits them). */
function containerProblems(container: Json, pod: unknown): string[] {
  const sc = at(container, "securityContext");
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
  const procMount = str(at(sc, "procMount"));
  if (procMount !== undefined && procMount !== "Default") broken.push(`procMount is ${procMount}, not Default`);
  arr(container["ports"]).forEach((p, i) => {
    const hostPort = num(at(p, "hostPort"));
    if (hostPort !== undefined && hostPort !== 0) broken.push(`ports[${i}].hostPort is ${hostPort}`);
  });
  return broken;
}

/** Why a volume is outside the restricted profile, or undefined. */
function volumeProblem(v: Json, allowedHostPaths: readonly string[]): string | undefined {
  const kinds = Object.keys(v).filter((k) => k !== "name");
  const other = kinds.filter((k) => !RESTRICTED_VOLUMES.includes(k));
  if (other.length > 0) return `is a ${other.join(", ")} volume, which the restricted profile does not allow`;
  if (v["hostPath"] === undefined) return undefined;
  const path = str(at(v, "hostPath", "path")) ?? "";
  const normal = normalizePath(path);
  const inside = normal !== undefined && allowedHostPaths.some((a) => {
    const base = normalizePath(a);
    return base !== undefined && base !== "/" && (normal === base || normal.startsWith(`${base}/`));
  });
  return inside ? undefined : `mounts host path "${path}", outside allowedHostPaths (${allowedHostPaths.join(", ") || "none"})`;
}

/** An absolute path without `.`/`..` segments or trailing slash; undefined when relative or it climbs above `/`. */
function normalizePath(path: string): string | undefined {
  if (!path.startsWith("/")) return undefined;
  const parts: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(seg);
  }
  return `/${parts.join("/")}`;
}
