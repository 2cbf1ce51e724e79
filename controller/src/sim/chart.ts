/**
 * A hand-built SVG chart of a scenario run: one panel per signal (offered QPS, ready replicas,
 * target concurrency, p99, 429s per second), every policy overlaid. Plain string building: a
 * charting library would be a heavy dependency for five line plots.
 */
import { BUCKETS, quantile } from "./histogram.ts";
import type { ScenarioRun } from "./run.ts";

const COLORS: Record<string, string> = {
  apa: "#d62728",
  kpa: "#1f77b4",
  "kpa-tuned": "#17becf",
  hpa: "#2ca02c",
  ray: "#9467bd",
  static: "#7f7f7f",
  oracle: "#111111",
  "oracle-ahead": "#8c564b",
};

const W = 1100;
const PANEL_H = 150;
const GAP = 46;
const LEFT = 70;
const RIGHT = 40;
const TOP = 60;
const MAX_POINTS = 700;

interface Panel {
  readonly title: string;
  readonly log?: boolean;
  readonly line?: number;
  readonly series: { name: string; values: number[] }[];
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function niceMax(x: number): number {
  if (!(x > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

function fmt(x: number): string {
  if (x >= 1e6) return `${+(x / 1e6).toFixed(1)}M`;
  if (x >= 1e3) return `${+(x / 1e3).toFixed(1)}k`;
  return `${+x.toFixed(x < 10 ? 1 : 0)}`;
}

export function renderChart(run: ScenarioRun): string {
  const sc = run.scenario;
  const durS = Math.ceil(sc.durationS);
  const bucket = Math.max(1, Math.ceil(durS / MAX_POINTS));
  const nb = Math.ceil(durS / bucket);
  const mean = (a: Float64Array): number[] => {
    const out: number[] = [];
    for (let b = 0; b < nb; b++) {
      let s = 0;
      let n = 0;
      for (let i = b * bucket; i < Math.min(durS, (b + 1) * bucket); i++, n++) s += a[i]!;
      out.push(n > 0 ? s / n : 0);
    }
    return out;
  };
  const p99 = (r: ScenarioRun["runs"][number]): number[] => {
    const sr = r.output.series;
    const out: number[] = [];
    const h = new Float64Array(BUCKETS);
    for (let b = 0; b < nb; b++) {
      h.fill(0);
      let n = 0;
      for (let s = b * bucket; s < Math.min(durS, (b + 1) * bucket); s++) {
        n += sr.served[s]!;
        for (let i = 0; i < BUCKETS; i++) h[i]! += sr.hist[s * BUCKETS + i]!;
      }
      out.push(n > 0 ? quantile(h, 0.99, 0, n) : NaN);
    }
    return out;
  };
  const first = run.runs[0];
  const panels: Panel[] = [
    { title: "offered load (requests/s)", series: first ? [{ name: "offered", values: mean(first.output.series.arrivals) }] : [] },
    { title: "ready replicas (log scale)", log: true, series: run.runs.map((r) => ({ name: r.result.policy, values: mean(r.output.series.ready) })) },
    {
      title: "target concurrency (per-pod limit at the gateway)",
      log: true,
      series: run.runs.map((r) => ({ name: r.result.policy, values: mean(r.output.series.targetConcurrency).map((v) => Math.min(v, 1e4)) })),
    },
    { title: `p99 latency (ms, log scale; dashed = SLO ${sc.slo.p99Ms} ms)`, log: true, line: sc.slo.p99Ms, series: run.runs.map((r) => ({ name: r.result.policy, values: p99(r) })) },
    {
      title: "429s + 5xx per second",
      series: run.runs.map((r) => {
        const sr = r.output.series;
        const bad = new Float64Array(durS);
        for (let s = 0; s < durS; s++) bad[s] = sr.rejected[s]! + sr.failed[s]!;
        return { name: r.result.policy, values: mean(bad) };
      }),
    },
  ];
  const plotW = W - LEFT - RIGHT;
  const H = TOP + panels.length * (PANEL_H + GAP) + 30;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${LEFT}" y="22" font-size="16" font-weight="bold">${esc(`scenario ${sc.name}`)}</text>`);
  let lx = LEFT;
  for (const r of run.runs) {
    const c = COLORS[r.result.policy] ?? "#e377c2";
    parts.push(`<line x1="${lx}" y1="40" x2="${lx + 22}" y2="40" stroke="${c}" stroke-width="3"/>`);
    parts.push(`<text x="${lx + 27}" y="44">${esc(r.result.policy)}</text>`);
    lx += 40 + 8 * r.result.policy.length;
  }
  panels.forEach((panel, pi) => {
    const y0 = TOP + pi * (PANEL_H + GAP) + 18;
    const all = panel.series.flatMap((s) => s.values).filter((v) => Number.isFinite(v));
    const positive = all.filter((v) => v > 0);
    const logMin = panel.log ? 10 ** Math.floor(Math.log10(Math.min(...positive, panel.line ?? Infinity, 1))) : 0;
    const maxV = panel.log ? 10 ** Math.ceil(Math.log10(Math.max(...positive, panel.line ?? 0, logMin * 10))) : niceMax(Math.max(...all, 0));
    const yOf = (v: number): number => {
      if (panel.log) {
        const lv = Math.log10(Math.max(v, logMin));
        return y0 + PANEL_H - ((lv - Math.log10(logMin)) / (Math.log10(maxV) - Math.log10(logMin))) * PANEL_H;
      }
      return y0 + PANEL_H - (v / maxV) * PANEL_H;
    };
    const xOf = (i: number): number => LEFT + (i / Math.max(1, nb - 1)) * plotW;
    parts.push(`<text x="${LEFT}" y="${y0 - 6}" font-weight="bold">${esc(panel.title)}</text>`);
    parts.push(`<rect x="${LEFT}" y="${y0}" width="${plotW}" height="${PANEL_H}" fill="none" stroke="#999"/>`);
    const ticks = panel.log
      ? Array.from({ length: Math.round(Math.log10(maxV / logMin)) + 1 }, (_, i) => logMin * 10 ** i)
      : [0, 0.2, 0.4, 0.6, 0.8, 1].map((f) => f * maxV);
    for (const t of ticks) {
      const y = yOf(t);
      parts.push(`<line x1="${LEFT}" y1="${y.toFixed(1)}" x2="${LEFT + plotW}" y2="${y.toFixed(1)}" stroke="#eee"/>`);
      parts.push(`<text x="${LEFT - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`);
    }
    const stepS = [10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400].find((st) => durS / st <= 8) ?? 86400;
    for (let tS = 0; tS <= durS; tS += stepS) {
      const x = LEFT + (tS / durS) * plotW;
      const label = durS > 600 ? `${tS / 60} min` : `${tS} s`;
      parts.push(`<text x="${x.toFixed(1)}" y="${y0 + PANEL_H + 14}" text-anchor="middle" fill="#555">${label}</text>`);
    }
    if (panel.line !== undefined) {
      const y = yOf(panel.line);
      parts.push(`<line x1="${LEFT}" y1="${y.toFixed(1)}" x2="${LEFT + plotW}" y2="${y.toFixed(1)}" stroke="#000" stroke-dasharray="6,4"/>`);
    }
    // APA last, so it is drawn on top
    const ordered = [...panel.series.filter((x) => x.name !== "apa"), ...panel.series.filter((x) => x.name === "apa")];
    for (const s of ordered) {
      const c = s.name === "offered" ? "#333" : (COLORS[s.name] ?? "#e377c2");
      let d = "";
      let pen = false;
      s.values.forEach((v, i) => {
        if (!Number.isFinite(v)) {
          pen = false;
          return;
        }
        d += `${pen ? "L" : "M"}${xOf(i).toFixed(1)},${yOf(v).toFixed(1)}`;
        pen = true;
      });
      const dash = s.name.startsWith("oracle") ? ` stroke-dasharray="5,3"` : "";
      const width = s.name === "apa" ? 2.2 : 1.4;
      parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="${width}"${dash} stroke-linejoin="round"/>`);
    }
  });
  const foot = run.plan.attributions.map((a) => `data: ${a}`).join("  ");
  if (foot) parts.push(`<text x="${LEFT}" y="${H - 10}" font-size="10" fill="#555">${esc(foot)}</text>`);
  parts.push(`</svg>`);
  return parts.join("\n");
}
