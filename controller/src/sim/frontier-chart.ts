/**
 * SVG chart of one scenario's Pareto frontiers: replica-seconds (x) against SLO attainment (y), one polyline per
 * baseline family through its non-dominated sweep points, every sweep point as a dot, APA as a red diamond, the
 * replica-seconds lower bound as a dashed vertical line. Plain string building, as chart.ts.
 */
import { paretoFrontier, type FrontierPoint } from "./sweep.ts";

const COLORS: Record<string, string> = { kpa: "#1f77b4", hpa: "#2ca02c", ray: "#9467bd", apa: "#d62728" };
const W = 640;
const H = 420;
const L = 70;
const R = 150;
const T = 40;
const B = 50;

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function renderFrontier(title: string, points: readonly FrontierPoint[], apa: FrontierPoint, lowerBound: number | undefined): string {
  const all = [...points, apa];
  const xs = all.map((p) => p.replicaSeconds).concat(lowerBound !== undefined ? [lowerBound] : []);
  const ys = all.map((p) => p.sloAttainment * 100);
  const x0 = Math.min(...xs) * 0.95;
  const x1 = Math.max(...xs) * 1.05;
  const y0 = Math.max(0, Math.min(...ys) - 0.5);
  const y1 = Math.min(100, Math.max(...ys) + 0.2);
  const px = (x: number) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - R);
  const py = (y: number) => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="20" font-size="13">${esc(title)}: replica-seconds vs SLO attainment (up and left is better)</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 12}" text-anchor="middle">replica-seconds</text>`,
    `<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">SLO attainment %</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const xv = x0 + ((x1 - x0) * i) / 4;
    const yv = y0 + ((y1 - y0) * i) / 4;
    out.push(`<text x="${px(xv)}" y="${H - B + 14}" text-anchor="middle">${xv.toFixed(0)}</text>`);
    out.push(`<text x="${L - 6}" y="${py(yv) + 4}" text-anchor="end">${yv.toFixed(2)}</text>`);
  }
  if (lowerBound !== undefined) {
    out.push(`<line x1="${px(lowerBound)}" y1="${T}" x2="${px(lowerBound)}" y2="${H - B}" stroke="#555" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${px(lowerBound) + 3}" y="${T + 10}" fill="#555">lower bound</text>`);
  }
  let legend = T;
  for (const family of ["kpa", "hpa", "ray"]) {
    const fam = points.filter((p) => p.family === family);
    if (fam.length === 0) continue;
    const color = COLORS[family] ?? "#333";
    const front = paretoFrontier(fam);
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${front.map((p) => `${px(p.replicaSeconds)},${py(p.sloAttainment * 100)}`).join(" ")}"/>`);
    for (const p of fam) out.push(`<circle cx="${px(p.replicaSeconds)}" cy="${py(p.sloAttainment * 100)}" r="3" fill="${color}"><title>${esc(p.label)}</title></circle>`);
    out.push(`<text x="${W - R + 10}" y="${legend + 12}" fill="${color}">${family} frontier</text>`);
    legend += 16;
  }
  const ax = px(apa.replicaSeconds);
  const ay = py(apa.sloAttainment * 100);
  out.push(`<polygon points="${ax},${ay - 6} ${ax + 6},${ay} ${ax},${ay + 6} ${ax - 6},${ay}" fill="${COLORS["apa"]}"><title>apa</title></polygon>`);
  out.push(`<text x="${W - R + 10}" y="${legend + 12}" fill="${COLORS["apa"]}">apa</text>`);
  out.push("</svg>");
  return out.join("\n");
}
