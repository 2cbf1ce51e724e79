/**
 * What the APA engine is given in the simulator: only what a production reader can produce, unless the
 * scenario opts in (docs/simulator.md, "Signals").
 * - Pod resource metrics refresh every `podMetricsIntervalS` (metrics-server ~15 s): a refresh carries each
 *   pod's means over the period, attached to the first sample after it (as the controller attaches them);
 *   samples in between carry no pod list ("not measured now"). Only the `podSignals` the reader reports are
 *   in it (the local loop's `/proc` reader: CPU alone).
 * - Requests over the objective reach the engine only with `overObjective` (the default in gateway mode,
 *   where the production log path counts them).
 * - In `gateway` mode the sample's time fields (mean service and queue time, p50/p99, over-objective) come
 *   from each simulated request's whole-millisecond timers folded by the production reader's own functions
 *   (`RequestWindow`, controller/src/gateway/request-stats.ts).
 */
import type { EndpointSample, PodSample } from "../engine/types.ts";
import { RequestWindow } from "../gateway/request-stats.ts";
import type { PodObservation } from "./policies/types.ts";
import { POD_SIGNAL_KEYS, type PodSignalKey, type SignalSpec } from "./scenario-types.ts";

type PodKey = PodSignalKey;

interface PodAccumulator {
  seconds: number;
  readonly sums: Record<PodKey, number>;
  readonly counts: Record<PodKey, number>;
}

/** Per-pod means over a metrics period, as metrics-server (and the runtime's Prometheus scrape) report them. */
export class PodMetricsPeriod {
  readonly #intervalMs: number;
  readonly #keys: readonly PodKey[];
  readonly #pods = new Map<number, PodAccumulator>();
  #nextAtMs: number;

  /** @param keys the pod signals the reader reports (the others are withheld). @default all */
  constructor(intervalS: number, keys: readonly PodKey[] = POD_SIGNAL_KEYS) {
    this.#intervalMs = intervalS * 1000;
    this.#nextAtMs = this.#intervalMs;
    this.#keys = keys;
  }

  /** Fold one second's observations; returns the pod list to attach when a refresh is due, else undefined. */
  add(atMs: number, pods: readonly PodObservation[]): PodSample[] | undefined {
    for (const o of pods) {
      if (o.phase !== "ready") continue;
      let acc = this.#pods.get(o.id);
      if (acc === undefined || acc.seconds < 0) {
        acc = { seconds: 0, sums: zero(), counts: zero() };
        this.#pods.set(o.id, acc);
      }
      acc.seconds++;
      for (const k of this.#keys) {
        const v = o.sample[k];
        if (v !== undefined) {
          acc.sums[k] += v;
          acc.counts[k] += 1;
        }
      }
    }
    if (this.#intervalMs <= 1000) return this.#flush(pods);
    if (atMs + 1e-6 < this.#nextAtMs) return undefined;
    this.#nextAtMs += this.#intervalMs;
    return this.#flush(pods);
  }

  #flush(pods: readonly PodObservation[]): PodSample[] {
    const out: PodSample[] = [];
    for (const o of pods) {
      if (o.phase !== "ready") {
        if (o.phase !== "draining") out.push({ ready: false });
        continue;
      }
      const acc = this.#pods.get(o.id);
      const s: Record<string, number | boolean> = { ready: true };
      if (acc !== undefined) for (const k of this.#keys) if (acc.counts[k] > 0) s[k] = acc.sums[k] / acc.counts[k];
      out.push(s as unknown as PodSample);
    }
    this.#pods.clear();
    return out;
  }
}

function zero(): Record<PodKey, number> {
  return { cpuUtil: 0, memoryUtil: 0, gpuUtil: 0, gpuMemoryUtil: 0, kvCacheUtil: 0, runtimeQueueLength: 0 };
}

/** The production reader's view of one interval's requests, for `signals.mode = "gateway"`. */
export class GatewayTimings {
  readonly #window: RequestWindow;

  constructor(objectiveMs: number | undefined) {
    this.#window = new RequestWindow(objectiveMs);
  }

  /** One request a pod answered: HAProxy's whole-millisecond `%Tw` and `%Tc + %Tr + %Td`. */
  served(queueMs: number, serviceMs: number): void {
    this.#window.observe({ queueMs: Math.round(queueMs), serviceMs: Math.round(serviceMs) });
  }

  /** The interval's time fields, as the production reader computes them. */
  take(): ReturnType<RequestWindow["take"]> {
    return this.#window.take();
  }
}

const TIME_FIELDS = ["serviceTimeMs", "queueTimeMs", "latencyP50Ms", "latencyP99Ms", "overObjective"] as const;

/**
 * The sample the engine gets: the simulator's sample with the production view applied — gateway time fields
 * (in gateway mode), pod metrics at their refresh period, over-objective counts only when the scenario gives them.
 */
export function engineSample(
  sample: EndpointSample,
  spec: SignalSpec,
  pods: PodSample[] | undefined,
  gatewayFields: ReturnType<RequestWindow["take"]> | undefined,
): EndpointSample {
  const out: Record<string, unknown> = { ...sample };
  delete out["pods"];
  if (gatewayFields !== undefined) {
    for (const k of TIME_FIELDS) delete out[k];
    Object.assign(out, gatewayFields);
  }
  if (!spec.overObjective) delete out["overObjective"];
  if (pods !== undefined) out["pods"] = pods;
  return out as unknown as EndpointSample;
}
