/**
 * Windows over the 1 s metric history and the aggregates both axes read. Pure functions of the samples.
 */
import type { EndpointSample, PodSample } from "./types.ts";

/** Samples with `atMs` in (nowMs - windowMs, nowMs]. `history` is ascending. */
export function windowOf(
  history: readonly EndpointSample[],
  nowMs: number,
  windowMs: number,
): readonly EndpointSample[] {
  const from = nowMs - windowMs;
  let lo = history.length;
  // Scan from the end: the windows are short compared with the history.
  while (lo > 0) {
    const s = history[lo - 1];
    if (s === undefined || s.atMs <= from) break;
    lo--;
  }
  let hi = history.length;
  while (hi > lo && (history[hi - 1]?.atMs ?? 0) > nowMs) hi--;
  return history.slice(lo, hi);
}

function intervalMsOf(s: EndpointSample, sampleIntervalMs: number): number {
  return s.intervalMs !== undefined && s.intervalMs > 0 ? s.intervalMs : sampleIntervalMs;
}

/** True when the samples cover at least `minCoverage` of the window (gaps make a window untrustworthy). */
export function covers(
  samples: readonly EndpointSample[],
  windowMs: number,
  sampleIntervalMs: number,
  minCoverage: number,
): boolean {
  let covered = 0;
  for (const s of samples) covered += intervalMsOf(s, sampleIntervalMs);
  return covered >= minCoverage * windowMs;
}

/** Aggregates of one window. */
export interface WindowStats {
  readonly samples: number;
  /** Offered arrival rate, requests/s (arrivals include requests later rejected). */
  readonly arrivalsPerS: number;
  readonly completionsPerS: number;
  readonly rejectionsPerS: number;
  readonly errorsPerS: number;
  readonly completions: number;
  readonly arrivals: number;
  /** Completion-weighted mean pod service time, ms; undefined when no completion reported one. */
  readonly serviceMs: number | undefined;
  /** Completion-weighted mean queue time, ms. */
  readonly queueMs: number | undefined;
  /** Completion-weighted mean of the per-sample p99 latency, ms. */
  readonly p99Ms: number | undefined;
  /** Completion-weighted mean of the per-sample p50 latency, ms. */
  readonly p50Ms: number | undefined;
  readonly meanInFlight: number;
  readonly meanQueued: number;
  /** Mean per-ready-pod in-flight; undefined when no pod was ready. */
  readonly perPodInFlight: number | undefined;
  /** Mean ready pods seen in the samples (from `pods`), undefined when samples carry no pods. */
  readonly meanReadyPods: number | undefined;
  /** Mean of each pod signal over ready pods and samples; undefined when never reported. */
  readonly pod: PodMeans;
}

/** Mean of each pod metric (every PodSample field but `ready`). */
export type PodMeans = Omit<PodSample, "ready">;

const podKeys = ["cpuUtil", "memoryUtil", "gpuUtil", "gpuMemoryUtil", "kvCacheUtil", "runtimeQueueLength"] as const;

function add(sum: number[], n: number[], i: number, v: number | undefined): void {
  if (v !== undefined && Number.isFinite(v)) {
    sum[i] = (sum[i] ?? 0) + v;
    n[i] = (n[i] ?? 0) + 1;
  }
}

function readyCount(pods: readonly PodSample[] | undefined): number | undefined {
  if (pods === undefined) return undefined;
  let n = 0;
  for (const p of pods) if (p.ready) n++;
  return n;
}

/**
 * Aggregate a window. `fallbackReady` is used for per-pod figures when samples carry no pod list;
 * `withPodSignals: false` skips the per-pod resource means (the horizontal axis does not read them).
 */
export function statsOf(
  samples: readonly EndpointSample[],
  sampleIntervalMs: number,
  fallbackReady: number,
  withPodSignals = true,
): WindowStats {
  let ms = 0;
  let arrivals = 0;
  let completions = 0;
  let rejections = 0;
  let errors = 0;
  let serviceW = 0;
  let serviceSum = 0;
  let queueW = 0;
  let queueSum = 0;
  let p99W = 0;
  let p99Sum = 0;
  let p50W = 0;
  let p50Sum = 0;
  let inFlight = 0;
  let queued = 0;
  let perPodSum = 0;
  let perPodN = 0;
  let readySum = 0;
  let readyN = 0;
  // Fixed slots per pod signal (in `podKeys` order): this loop runs over every pod of every sample.
  const podSum = [0, 0, 0, 0, 0, 0];
  const podN = [0, 0, 0, 0, 0, 0];
  for (const s of samples) {
    ms += intervalMsOf(s, sampleIntervalMs);
    arrivals += s.arrivals;
    completions += s.completions;
    rejections += s.rejections;
    errors += s.errors ?? 0;
    // Per-completion means are weighted by completions; a sample without completions adds nothing to them
    // (its arrivals, rejections and in-flight still count above, so a stalled endpoint stays visible).
    const w = Math.max(s.completions, 0);
    if (s.serviceTimeMs !== undefined && w > 0) {
      serviceSum += s.serviceTimeMs * w;
      serviceW += w;
    }
    if (s.queueTimeMs !== undefined && w > 0) {
      queueSum += s.queueTimeMs * w;
      queueW += w;
    }
    if (s.latencyP99Ms !== undefined && w > 0) {
      p99Sum += s.latencyP99Ms * w;
      p99W += w;
    }
    if (s.latencyP50Ms !== undefined && w > 0) {
      p50Sum += s.latencyP50Ms * w;
      p50W += w;
    }
    inFlight += s.inFlight;
    queued += s.queued;
    const ready = readyCount(s.pods);
    if (ready !== undefined) {
      readySum += ready;
      readyN++;
    }
    const r = ready ?? fallbackReady;
    if (r > 0) {
      perPodSum += s.inFlight / r;
      perPodN++;
    }
    if (withPodSignals && s.pods !== undefined) {
      for (const p of s.pods) {
        if (!p.ready) continue;
        add(podSum, podN, 0, p.cpuUtil);
        add(podSum, podN, 1, p.memoryUtil);
        add(podSum, podN, 2, p.gpuUtil);
        add(podSum, podN, 3, p.gpuMemoryUtil);
        add(podSum, podN, 4, p.kvCacheUtil);
        add(podSum, podN, 5, p.runtimeQueueLength);
      }
    }
  }
  const seconds = ms / 1000;
  const rate = (x: number) => (seconds > 0 ? x / seconds : 0);
  const pod: Record<string, number> = {};
  podKeys.forEach((k, i) => {
    const n = podN[i] ?? 0;
    if (n > 0) pod[k] = (podSum[i] ?? 0) / n;
  });
  const n = samples.length;
  return {
    samples: n,
    arrivalsPerS: rate(arrivals),
    completionsPerS: rate(completions),
    rejectionsPerS: rate(rejections),
    errorsPerS: rate(errors),
    completions,
    arrivals,
    serviceMs: serviceW > 0 ? serviceSum / serviceW : undefined,
    queueMs: queueW > 0 ? queueSum / queueW : undefined,
    p99Ms: p99W > 0 ? p99Sum / p99W : undefined,
    p50Ms: p50W > 0 ? p50Sum / p50W : undefined,
    meanInFlight: n > 0 ? inFlight / n : 0,
    meanQueued: n > 0 ? queued / n : 0,
    perPodInFlight: perPodN > 0 ? perPodSum / perPodN : undefined,
    meanReadyPods: readyN > 0 ? readySum / readyN : undefined,
    pod: pod as PodMeans,
  };
}

/**
 * Predicted pod service time at per-pod concurrency `c`, from a window measured at per-pod in-flight
 * `x` with mean service time `s` and low-load service time `s0`. Above the measured point we assume no
 * further inflation (the vertical axis only raises when it saw none), unless `growsAbove` (a batching
 * pod whose latency model is not fitted yet: then service time grows in proportion, i.e. no throughput
 * gain is assumed from concurrency not yet seen); below it, service time shrinks in proportion to
 * concurrency (processor sharing) but never below the low-load time.
 */
export function predictServiceMs(
  s: number,
  x: number | undefined,
  c: number,
  s0: number | undefined,
  growsAbove = false,
): number {
  if (x === undefined || x <= 0) return s;
  if (c >= x) return growsAbove ? s * (c / x) : s;
  const floor = s0 !== undefined ? Math.min(s0, s) : s * (c / x);
  return Math.max(floor, s * (c / x));
}

/**
 * Offered demand in concurrency units at target concurrency `c`, per sample (Little's law: offered
 * arrival rate × service time at `c`). Requests rejected at the gateway are part of the arrival rate, so
 * overload does not hide demand, and the queue that builds while pods boot is not extrapolated.
 * Each sample's service time is rescaled to `c` from that sample's own per-pod in-flight (a cut makes
 * each request faster on a processor-sharing pod). `serviceAtTargetMs`, when known (a batching pod's
 * fitted latency model at the operating point), replaces the measured service time: a batching pod is
 * slower at the concurrency it will run at. Samples without a service time use the window's mean;
 * without any, demand falls back to in-flight + queued (what the gateway sees).
 */
export function demandSeries(
  samples: readonly EndpointSample[],
  c: number,
  s0: number | undefined,
  fallbackReady: number,
  serviceAtTargetMs?: number,
  growsAbove = false,
): number[] {
  let sw = 0;
  let ssum = 0;
  for (const x of samples) {
    if (hasServiceTime(x)) {
      sw += x.completions;
      ssum += x.serviceTimeMs * x.completions;
    }
  }
  const sMean = sw > 0 ? ssum / sw : undefined;
  // Extrapolating upward divides by the per-pod in-flight; an instant reading of a few requests is too
  // noisy for that (1/x is biased up), so that case uses the window's mean in-flight.
  let inFlightSum = 0;
  let readySum = 0;
  for (const x of samples) {
    inFlightSum += x.inFlight;
    readySum += readyCount(x.pods) ?? fallbackReady;
  }
  const windowPerPod = readySum > 0 ? inFlightSum / readySum : undefined;
  return samples.map((x) => {
    const sec = (x.intervalMs !== undefined && x.intervalMs > 0 ? x.intervalMs : 1000) / 1000;
    const measured = hasServiceTime(x) ? x.serviceTimeMs : sMean;
    if (measured === undefined) return x.inFlight + x.queued;
    const ready = readyCount(x.pods) ?? fallbackReady;
    const perPod = ready > 0 ? x.inFlight / ready : undefined;
    const s = serviceAtTargetMs ?? predictServiceMs(measured, growsAbove && windowPerPod !== undefined && c > windowPerPod ? windowPerPod : perPod, c, s0, growsAbove);
    return ((x.arrivals / sec) * s) / 1000;
  });
}

/**
 * A sample's service time counts only when requests completed and it is positive: HAProxy's averages are
 * whole milliseconds, so a sub-millisecond model can read 0, and arrivals × 0 ms would erase real load.
 */
function hasServiceTime(x: EndpointSample): x is EndpointSample & { serviceTimeMs: number } {
  return x.serviceTimeMs !== undefined && x.serviceTimeMs > 0 && x.completions > 0;
}

export function mean(xs: readonly number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return xs.length > 0 ? t / xs.length : 0;
}

/**
 * In-flight per pod at which CPU reaches utilisation 1, from the samples of a window whose CPU is not
 * yet saturated (a saturated reading says nothing about where saturation starts; the latency knee
 * covers that): Σ in-flight / Σ CPU. CPU use of a CPU-bound pod grows in proportion to the requests
 * it works on, so one window is enough, once the mean CPU is at least `trustUtil` over at least `minSampleFraction` of the samples. Readings at or
 * above `saturatedUtil` are skipped. Example: 2 in flight at CPU 0.5 → saturation at 4 in flight.
 */
export function cpuSaturation(
  samples: readonly EndpointSample[],
  fallbackReady: number,
  saturatedUtil: number,
  trustUtil: number,
  minSampleFraction: number,
): number | undefined {
  let sx = 0;
  let su = 0;
  let n = 0;
  // Pod metrics refresh slower than the gateway (metrics-server: ~15 s); only samples that carry them count, and
  // their CPU is a mean over the refresh period. The in-flight set against it is the mean over the same period (the
  // gateway samples since the previous refresh), not the one instant of the sample: an instant reading of a few
  // requests per pod is noisy, and a ratio of noisy readings drifts (errors in variables).
  let measured = 0;
  let periodX = 0;
  let periodN = 0;
  for (const smp of samples) {
    const podsNow = smp.pods !== undefined ? smp.pods.filter((p) => p.ready).length : undefined;
    const readyNow = podsNow !== undefined && podsNow > 0 ? podsNow : fallbackReady;
    if (readyNow > 0) {
      periodX += smp.inFlight / readyNow;
      periodN++;
    }
    if (smp.pods === undefined) continue;
    measured++;
    const x = periodN > 0 ? periodX / periodN : undefined;
    periodX = 0;
    periodN = 0;
    let t = 0;
    let c = 0;
    for (const p of smp.pods) {
      if (p.ready && p.cpuUtil !== undefined && Number.isFinite(p.cpuUtil)) {
        t += p.cpuUtil;
        c++;
      }
    }
    if (podsNow === undefined || podsNow <= 0 || c === 0 || x === undefined) continue;
    const cpu = t / c;
    if (cpu >= saturatedUtil) continue;
    sx += x;
    su += cpu;
    n++;
  }
  if (n < measured * minSampleFraction || n === 0 || su / n < trustUtil) return undefined;
  return sx / su;
}
