/**
 * The fidelity benchmark's figures and goals (bench/fidelity/figures.ts): per-second series in, figures out;
 * the trajectory goal compares the targets in order, each change within the tolerance.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { figures, goals, sameTrajectory, trajectoryText } from "../../bench/fidelity/figures.ts";

const phases = [{ rate: 10, durationS: 3 }, { rate: 150, durationS: 4 }, { rate: 10, durationS: 3 }];

describe("fidelity figures", () => {
  it("replica-seconds, 429s, time to capacity (high phase's start to its last 429) and the target changes", () => {
    const f = figures(phases, [1, 1, 1, 3, 8, 8, 8, 8, 4, 2], [0, 0, 0, 5, 9, 0, 0, 0, 0, 0], [4, 4, 4, 4, 6, 6, 6, 9, 9, 9]);
    assert.equal(f.replicaSeconds, 44);
    assert.equal(f.rejected, 14);
    assert.equal(f.timeToCapacityS, 2);
    assert.equal(trajectoryText(f.targets), "4@0 6@4 9@7");
  });
  it("the same trajectory: the same targets in order, each change within 2 s", () => {
    const t = (...c: [number, number][]) => c.map(([target, atS]) => ({ target, atS }));
    assert.ok(sameTrajectory(t([4, 0], [6, 22], [9, 31]), t([4, 0], [6, 24], [9, 30])));
    assert.ok(!sameTrajectory(t([4, 0], [6, 22], [9, 31]), t([4, 0], [6, 25], [9, 31])), "3 s apart");
    assert.ok(!sameTrajectory(t([4, 0], [6, 22], [9, 31]), t([4, 0], [6, 22])), "a raise missing");
    assert.ok(!sameTrajectory(t([4, 0], [6, 22]), t([4, 0], [8, 22])), "another target");
  });
  it("goals: within 10% on replica-seconds, 15% on 429s (none when the simulator has none), 1 s on time to capacity", () => {
    const sim = { replicaSeconds: 500, rejected: 100, failed: 0, timeToCapacityS: 2, targets: [{ target: 4, atS: 0 }] };
    const g = goals({ replicaSeconds: 545, rejected: 116, failed: 0, timeToCapacityS: 3, targets: [{ target: 4, atS: 0 }] }, sim);
    assert.deepEqual({ ...g, costRatio: Number(g.costRatio.toFixed(2)) }, { replicaSeconds: true, rejected: false, timeToCapacity: true, trajectory: true, costRatio: 1.09 });
    assert.equal(goals({ ...sim, rejected: 1 }, { ...sim, rejected: 0 }).rejected, false);
  });
});
