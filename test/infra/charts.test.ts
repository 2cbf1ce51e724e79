/**
 * Third-party charts as a real apply sees them: `helm.v4.Chart` never runs Helm hooks, and a real preview hands
 * the policy pack every object inside each chart. components/charts/chart-facts.ts records, from each pinned
 * chart's templates, which values create objects only as hooks and which workloads (containers, resources and
 * security contexts from which values) the chart renders; these tests hold every chart the stacks install to
 * that record.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CHART_FACTS, type ChartKey, chartWorkloadObjects, hookFindings } from "../../components/charts/chart-facts.ts";
import { kubePrometheusStackValues } from "../../components/observability/observability-values.ts";
import { evaluateStack, EXAMPLE_STACKS } from "../../infra/evaluate.ts";
import { definitions, pulumiPolicies } from "../../policies/pack.ts";
import { loadPackConfig } from "../../policies/offline/pack-config.ts";
import { runPack } from "../../policies/offline/run-pack.ts";
import { toOffline } from "../../policies/offline/evaluate-program.ts";
import { ofType, type Obj } from "./helpers.ts";

const keyOf = (chart: string) => (Object.keys(CHART_FACTS) as ChartKey[]).find((k) => CHART_FACTS[k].chart.chart === chart);

describe("charts: no Helm hooks, and the policy pack passes every chart object", () => {
  it("a chart whose values need a hook is caught: kube-prometheus-stack with its default admission webhooks", () => {
    const findings = hookFindings("kubePrometheusStack", { prometheusOperator: {} });
    assert.equal(findings.length, 2, findings.join("\n"));
    assert.match(findings[0]!, /admission webhook certificate Jobs .* a Helm hook, which helm\.v4\.Chart never applies; set prometheusOperator\.admissionWebhooks\.enabled: false/);
    assert.deepEqual(hookFindings("kubePrometheusStack", kubePrometheusStackValues("small", "1d")), []);
  });

  for (const stack of EXAMPLE_STACKS) {
    it(`${stack}: every chart is pinned, named, known to chart-facts and needs no hook`, async () => {
      const ev = await evaluateStack(stack);
      const charts = ofType(ev, "kubernetes:helm.sh/v4:Chart");
      assert.ok(charts.length >= 3, `${charts.length} charts`);
      for (const c of charts) {
        const key = keyOf(String(c.inputs.chart));
        assert.ok(key !== undefined, `${String(c.inputs.chart)} is not described in chart-facts.ts`);
        assert.equal(c.inputs.version, CHART_FACTS[key].chart.version);
        assert.match(String(c.inputs.name), /^[a-z0-9-]+$/, `${String(c.inputs.chart)}: explicit release name (object names derive from it)`);
        assert.deepEqual(hookFindings(key, c.inputs.values as Obj), [], String(c.inputs.chart));
        // Every container of every workload the chart renders has requests and limits set in our values.
        for (const { obj, createdBy } of chartWorkloadObjects(key, String(c.inputs.name), String(c.inputs.namespace), c.inputs.values as Obj)) {
          for (const ctr of (obj as Obj).spec.template.spec.containers as Obj[]) {
            const r = ctr.resources as Obj;
            assert.ok(r?.requests?.cpu && r?.requests?.memory && r?.limits?.cpu && r?.limits?.memory, `${String(c.inputs.chart)} ${(obj as Obj).metadata.name}/${ctr.name} (${createdBy}) has no requests/limits`);
          }
        }
      }
    });

    it(`${stack}: the whole pack, over the program's resources and the charts' workloads, reports nothing mandatory`, async () => {
      const ev = await evaluateStack(stack, { chartObjects: true });
      const fromCharts = ev.resources.filter((r) => r.fromChartFacts === true);
      assert.ok(fromCharts.length >= 4, `${fromCharts.length} chart workloads`);
      const config = loadPackConfig(new URL(`../../policies/config/${stack}.json`, import.meta.url).pathname, definitions);
      const diags = await runPack(pulumiPolicies(), toOffline(ev.resources, stack), config);
      assert.deepEqual(diags.filter((d) => d.enforcementLevel === "mandatory").map((d) => `${d.policyName}: ${d.message.split("\n")[0]}`), []);
    });
  }

  it("without resources in the values the pack would block a chart (what a real preview showed)", async () => {
    const objs = chartWorkloadObjects("kubePrometheusStack", "kps", "autopilot-monitoring", { grafana: {} });
    const diags = await runPack(pulumiPolicies(), objs.filter((o) => o.createdBy === "pulumi").map(({ obj }) => ({ type: `kubernetes:apps/v1:${String(obj.kind)}`, name: String((obj.metadata as Obj).name), props: obj })));
    assert.ok(diags.some((d) => d.policyName === "container-resources-set" && /kps-grafana/.test(d.message)), JSON.stringify(diags.map((d) => d.message.split("\n")[0])));
  });
});
