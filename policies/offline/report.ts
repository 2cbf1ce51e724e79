/** Human-readable report of an offline policy run: violations grouped by resource, each with its remediation. */
import { REMEDIATION_PREFIX } from "../pack.ts";
import type { Diagnostic, OfflineResource } from "./run-pack.ts";
import { makeUrn } from "./run-pack.ts";

/** Banner printed first, so nobody mistakes the result for a real preview. */
export const OFFLINE_BANNER =
  "OFFLINE policy check — the program ran under Pulumi mocks (no cloud, no cluster, no Pulumi CLI); this is not a `pulumi preview`.";

export interface ReportInput {
  readonly stack: string;
  readonly resources: readonly OfflineResource[];
  readonly policyCount: number;
  readonly configSource: string;
  readonly diagnostics: readonly Diagnostic[];
}

/** Counts by level; `mandatory` > 0 means the check fails. */
export function summarize(d: readonly Diagnostic[]): { mandatory: number; advisory: number; cannotRun: number } {
  return {
    mandatory: d.filter((x) => x.enforcementLevel === "mandatory").length,
    advisory: d.filter((x) => x.enforcementLevel === "advisory" && !x.cannotRun).length,
    cannotRun: d.filter((x) => x.cannotRun).length,
  };
}

/** Splits a reported message into the violation and the remediation. */
export function splitMessage(message: string): { violation: string; remediation?: string } {
  const i = message.indexOf(`\n${REMEDIATION_PREFIX}`);
  if (i < 0) return { violation: message };
  return { violation: message.slice(0, i), remediation: message.slice(i + 1 + REMEDIATION_PREFIX.length) };
}

/** The report text. */
export function formatReport(input: ReportInput): string {
  const lines: string[] = [OFFLINE_BANNER, ""];
  lines.push(`stack: ${input.stack} · ${input.resources.length} resources · ${input.policyCount} policies · config: ${input.configSource}`);
  const byUrn = new Map<string, OfflineResource>();
  for (const r of input.resources) byUrn.set(r.urn ?? makeUrn(r.type, r.name), r);
  const groups = new Map<string, Diagnostic[]>();
  for (const d of input.diagnostics) {
    const key = d.urn ?? "";
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  for (const [urn, ds] of groups) {
    const r = byUrn.get(urn);
    lines.push("");
    lines.push(urn === "" ? "✗ (stack-wide)" : `✗ ${r?.type ?? "?"}  ${r?.name ?? urn}`);
    if (urn !== "") lines.push(`    urn: ${urn}`);
    for (const d of ds) {
      const { violation, remediation } = splitMessage(d.message);
      lines.push(`    [${d.enforcementLevel}] ${d.policyName}: ${violation}`);
      if (remediation !== undefined) lines.push(`        remediation: ${remediation}`);
    }
  }
  const s = summarize(input.diagnostics);
  lines.push("");
  lines.push(
    `result: ${s.mandatory} mandatory, ${s.advisory} advisory violation(s), ${s.cannotRun} policy run(s) blocked by unknown values → ` +
      (s.mandatory > 0 ? "FAIL (exit 1)" : "PASS (exit 0)"),
  );
  return lines.join("\n");
}
