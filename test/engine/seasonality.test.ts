import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateEngineConfig } from "../../controller/src/engine/config.ts";
import { decodeSeasonality, emptySeasonality, encodeSeasonality, forecastDemand, observeDemand, type Seasonality } from "../../controller/src/engine/seasonality.ts";

// a 10-minute period of 60 buckets (10 s); a burst to demand 15 in the bucket at 540–600 s, 1 otherwise
const cfg = validateEngineConfig({ forecastPeriodMs: 600_000, forecastBuckets: 60 });
const demandAt = (tMs: number, bursts = true) => (bursts && tMs % 600_000 >= 540_000 ? 15 : 1);
function feed(fromMs: number, toMs: number, bursts = true, s?: Seasonality): Seasonality {
  let out = s;
  for (let t = fromMs; t < toMs; t += 5000) out = observeDemand(out, demandAt(t, bursts), t, cfg);
  return out!;
}

describe("seasonality: learn, forecast, stop when the pattern breaks", () => {
  it("forecasts nothing before a full period has been seen", () => {
    const s = feed(0, 590_000);
    assert.equal(forecastDemand(s, 590_000, 40_000), undefined);
  });
  it("after a period, raises the forecast a lead ahead of the burst", () => {
    const s = feed(0, 1_100_000);
    assert.equal(forecastDemand(s, 1_100_000, 45_000), 15, "40 s before the burst at 1140 s, 45 s ahead");
    assert.equal(forecastDemand(s, 1_050_000, 45_000), 1, "well before it: the base");
  });
  it("a forecast burst that does not come switches the forecast off for a period", () => {
    let s = feed(0, 1_800_000);
    s = feed(1_800_000, 2_400_000, false, s); // the burst of 2340–2400 s does not come
    assert.equal(forecastDemand(s, 2_450_000, 45_000), undefined);
    assert.equal(forecastDemand(s, 2_900_000, 45_000), undefined, "not trusted again within a period");
  });
  it("persists compactly and comes back the same (a restarted controller keeps it)", () => {
    const s = feed(0, 1_100_000);
    const text = encodeSeasonality(s);
    assert.ok(text.length < 500, String(text.length));
    const back = decodeSeasonality(text)!;
    assert.equal(forecastDemand(back, 1_100_000, 45_000), forecastDemand(s, 1_100_000, 45_000));
    assert.deepEqual(back.peaks.map((x) => Math.round(x * 1000)), s.peaks.map((x) => Math.round(x * 1000)));
    assert.equal(decodeSeasonality("v1:garbage"), undefined);
    assert.equal(emptySeasonality(cfg, 0).peaks.length, 60);
  });
});
