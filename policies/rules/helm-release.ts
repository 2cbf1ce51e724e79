/**
 * Policy 16: a `helm.sh/v3:Release` is reviewed. Helm applies a Release's objects inside the provider, so none of
 * them reaches the pack (unlike `helm.v4.Chart`, whose objects are registered one by one and checked by every
 * policy). What the pack can see is the chart, its version and the values: the Release must name a pinned chart
 * version listed after review, and its values must not switch on host access.
 */
import { at, obj, str, type Json } from "../lib/read.ts";
import { namespaceOf } from "../lib/endpoints.ts";
import { readSkippingUnknownScalars } from "../lib/workloads.ts";
import type { ResourcePolicyDefinition, Violation } from "../types.ts";

export const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

export interface HelmReleaseConfig {
  /** Reviewed charts a Release may install, as exact `<chart>@<version>` (chart as the Release names it). @default [] */
  allowedCharts: string[];
}

/** Values that turn on host access or root in the common chart conventions, and the value that is dangerous. */
const DANGEROUS_VALUES: readonly (readonly [string, unknown])[] = [
  ["privileged", true], ["hostNetwork", true], ["hostPID", true], ["hostIPC", true], ["allowPrivilegeEscalation", true], ["runAsUser", 0],
];
const MAX_DEPTH = 16;

export const helmRelease: ResourcePolicyDefinition<HelmReleaseConfig> = {
  kind: "resource",
  name: "helm-release-reviewed",
  description: "A helm.sh/v3:Release, whose objects the pack cannot see, installs a pinned, reviewed chart version whose values switch on no host access.",
  enforcementLevel: "mandatory",
  remediation:
    "Install third-party charts with helm.v4.Chart (the pinnedChart helper): every object it renders is registered, so " +
    "every policy checks it. If a Release is unavoidable, pin `version`, review what the chart renders, and add " +
    "\"<chart>@<version>\" to the policy config allowedCharts; never set privileged, host namespaces, hostPath or " +
    "hostPort through its values.",
  defaults: { allowedCharts: [] },
  configSchema: {
    allowedCharts: {
      type: "array", items: { type: "string", pattern: "^[^@\\s]+@[^@\\s]+$" }, default: [],
      description: "Reviewed <chart>@<version> pairs a helm.sh/v3:Release may install.",
    },
  },
  types: [HELM_RELEASE],
  check: (r, config) => {
    const out: Violation[] = [];
    const chart = str(r.props["chart"]) ?? "";
    const version = str(r.props["version"]);
    const who = `Release ${str(r.props["namespace"]) ?? namespaceOf(r)}/${str(r.props["name"]) ?? r.name} (chart "${chart}")`;
    if (version === undefined || version === "") {
      out.push({ message: `${who}: no version; the chart would float to whatever its repository serves next.` });
    } else if (!config.allowedCharts.includes(`${chart}@${version}`)) {
      out.push({
        message: `${who}: "${chart}@${version}" is not in allowedCharts; Helm applies a Release's objects inside the ` +
          "provider, so no policy sees them.",
      });
    }
    for (const finding of dangerousValues(obj(r.props["values"]) ?? {}, "values", 0)) out.push({ message: `${who}: ${finding}.` });
    return out;
  },
};

/** Paths in the values that turn on host access, as `values.a.b sets privileged: true`. */
function dangerousValues(values: Json, path: string, depth: number): string[] {
  if (depth > MAX_DEPTH) return [];
  const out: string[] = [];
  for (const key of Object.keys(values)) {
    const v = readSkippingUnknownScalars(values, key);
    const here = `${path}.${key}`;
    const rule = DANGEROUS_VALUES.find(([k, bad]) => k === key && v === bad);
    if (rule !== undefined) out.push(`${here} sets ${key}: ${JSON.stringify(v)}`);
    if (key === "hostPath" && obj(v) !== undefined) out.push(`${here} mounts host path "${str(at(v, "path")) ?? ""}"`);
    if (key === "hostPort" && typeof v === "number" && v !== 0) out.push(`${here} sets hostPort: ${v}`);
    if (Array.isArray(v)) v.forEach((item, i) => { if (obj(item) !== undefined) out.push(...dangerousValues(item as Json, `${here}[${i}]`, depth + 1)); });
    else if (obj(v) !== undefined) out.push(...dangerousValues(v as Json, here, depth + 1));
  }
  return out;
}
