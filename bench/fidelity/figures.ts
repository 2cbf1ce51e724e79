/**
 * The fidelity benchmark's figures and goals, pure: per-second series of one arm in, its figures out; two
 * arms' figures in, the goal verdicts out.
 * Goals: replica-seconds within 10%, 429s within 15%, time to capacity within 1 s, the same target-concurrency
 * trajectory: the same targets in the same order, each change within `TRAJECTORY_TOLERANCE_S` of the other arm's.
 */
import type { LoadPhase } from "../../controller/src/local/load.ts";

/** Each target change of one arm may land this many seconds from the other arm's (a pod start, a tick). */
export const TRAJECTORY_TOLERANCE_S = 2;

export interface TargetChange {
  readonly target: number;
  readonly atS: number;
}

export interface ArmFigures {
  readonly replicaSeconds: number;
  readonly rejected: number;
  /** 5xx and failed connections (not a goal: both arms should have none). */
  readonly failed: number;
  /** Seconds from the start of the highest phase to its last 429 (0 without any). */
  readonly timeToCapacityS: number;
  /** Target concurrency at the start and at each change. */
  readonly targets: readonly TargetChange[];
}

/** "4@0 6@22 9@30". */
export const trajectoryText = (t: readonly TargetChange[]): string => t.map((c) => `${c.target}@${c.atS}`).join(" ");

/** The highest phase's [start, end) in seconds. */
export function peakPhase(phases: readonly LoadPhase[]): [number, number] {
  let t = 0;
  let best: [number, number] = [0, 0];
  let rate = -1;
  for (const p of phases) {
    if (p.rate > rate) {
      rate = p.rate;
      best = [t, t + p.durationS];
    }
    t += p.durationS;
  }
  return best;
}

/** Figures of one arm from per-second series (replicas scheduled, 429s, target). */
export function figures(phases: readonly LoadPhase[], scheduled: readonly number[], rejected: readonly number[], target: readonly number[], failed: readonly number[] = []): ArmFigures {
  const [from, to] = peakPhase(phases);
  let last = -1;
  for (let s = from; s < Math.min(to, rejected.length); s++) if ((rejected[s] ?? 0) > 0) last = s;
  const changes: TargetChange[] = [];
  for (let s = 0; s < target.length; s++) if (s === 0 || target[s] !== target[s - 1]) changes.push({ target: target[s] ?? 0, atS: s });
  return {
    replicaSeconds: scheduled.reduce((a, b) => a + b, 0),
    rejected: rejected.reduce((a, b) => a + b, 0),
    failed: failed.reduce((a, b) => a + b, 0),
    timeToCapacityS: last < 0 ? 0 : last + 1 - from,
    targets: changes,
  };
}

/** The same targets in the same order, each change within `toleranceS` of the other's. */
export function sameTrajectory(a: readonly TargetChange[], b: readonly TargetChange[], toleranceS = TRAJECTORY_TOLERANCE_S): boolean {
  return a.length === b.length && a.every((c, i) => c.target === b[i]?.target && Math.abs(c.atS - (b[i]?.atS ?? Infinity)) <= toleranceS);
}

const within = (a: number, b: number, frac: number): boolean => (b === 0 ? a === 0 : Math.abs(a - b) <= frac * b);

export interface Goals {
  readonly replicaSeconds: boolean;
  readonly rejected: boolean;
  readonly timeToCapacity: boolean;
  readonly trajectory: boolean;
  /** real ÷ simulated replica-seconds. */
  readonly costRatio: number;
}

/** The verdicts of a real run against the simulator's. */
export function goals(real: ArmFigures, sim: ArmFigures): Goals {
  return {
    replicaSeconds: within(real.replicaSeconds, sim.replicaSeconds, 0.1),
    rejected: within(real.rejected, sim.rejected, 0.15),
    timeToCapacity: Math.abs(real.timeToCapacityS - sim.timeToCapacityS) <= 1,
    trajectory: sameTrajectory(real.targets, sim.targets),
    costRatio: real.replicaSeconds / Math.max(1e-9, sim.replicaSeconds),
  };
}

export const allMet = (g: Goals): boolean => g.replicaSeconds && g.rejected && g.timeToCapacity && g.trajectory;
