/**
 * Installs a pinned third-party chart with `helm.v4.Chart` (every object becomes a Pulumi resource the policy
 * pack sees), with an explicit release name — the chart's object names derive from it, and the v4 Chart would
 * otherwise use the Pulumi resource name — and refuses, at preview, values that would make the chart depend on a
 * Helm hook (the v4 Chart never runs hooks; chart-facts.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CHARTS } from "../images.ts";
import { type ChartKey, hookFindings } from "./chart-facts.ts";

export interface PinnedChartArgs {
  /** Helm release name (object names derive from it). */
  readonly release: string;
  readonly namespace: pulumi.Input<string>;
  /** Chart values; when they are an Output (they hold other resources' outputs) the hook check runs once they resolve. */
  readonly values: Record<string, unknown> | pulumi.Output<Record<string, unknown>>;
}

function refuseHooks(key: ChartKey, values: Record<string, unknown>): Record<string, unknown> {
  const findings = hookFindings(key, values);
  if (findings.length > 0) throw new Error(findings.join("\n"));
  return values;
}

export function pinnedChart(name: string, key: ChartKey, args: PinnedChartArgs, opts: pulumi.ComponentResourceOptions): k8s.helm.v4.Chart {
  const values = pulumi.Output.isInstance(args.values) ? args.values.apply((v) => refuseHooks(key, v)) : refuseHooks(key, args.values);
  const c = CHARTS[key];
  return new k8s.helm.v4.Chart(name, {
    name: args.release, chart: c.chart, version: c.version, repositoryOpts: { repo: c.repo },
    namespace: args.namespace, values,
  }, opts);
}
