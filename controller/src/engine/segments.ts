/**
 * Operating points inside one vertical window. The learned profile takes one point per window (window
 * means: see profile.ts); a window that spans a change of ready pods holds two operating points, and
 * their mean is a level the pods never ran at. Split at the largest change of ready pods, so each side
 * becomes its own profile point, when both sides are long enough to be means (a third of the window
 * each) and land in different profile bins. This is how a pod's first window after a scale-up — the
 * few pods that were at the limit, then the many that took over — shows the range of in-flight the
 * profile needs to fit a line, instead of one blurred point.
 */
import type { EngineConfig } from "./config.ts";
import { binOf, updateProfile, type ProfilePoint, type ResourceKey } from "./profile.ts";
import { statsOf, type PodMeans } from "./signals.ts";
import type { EndpointSample, RuntimeKind } from "./types.ts";

type Resources = Partial<Record<ResourceKey, number>>;

/** The hard resources the profile learns against in-flight (vLLM pre-allocates GPU memory: not one). */
export function resourcesOf(p: PodMeans, rt: RuntimeKind): Resources {
  const r: Resources = {};
  if (p.memoryUtil !== undefined) r.memory = p.memoryUtil;
  if (p.kvCacheUtil !== undefined) r.kv = p.kvCacheUtil;
  if (p.gpuMemoryUtil !== undefined && rt !== "vllm") r.gpuMemory = p.gpuMemoryUtil;
  return r;
}

/**
 * Merge one vertical window into the profile: its whole-window means (`whole`), or, when it spans two
 * operating points (see `operatingPoints`), each part's means, oldest first; a part needs its share of
 * the window's minimum completions.
 */
export function learnWindow(
  profile: readonly ProfilePoint[],
  samples: readonly EndpointSample[],
  whole: { readonly inFlight: number; readonly serviceMs: number; readonly resources: Resources },
  fallbackReady: number,
  cfg: EngineConfig,
  resources: (p: PodMeans) => Resources,
): ProfilePoint[] {
  const parts = operatingPoints(samples, fallbackReady, cfg);
  if (parts.length === 1) return updateProfile(profile, whole.inFlight, whole.serviceMs, whole.resources, cfg);
  let out = [...profile];
  for (const part of parts) {
    const w = statsOf(part, cfg.sampleIntervalMs, fallbackReady);
    if (w.perPodInFlight !== undefined && w.serviceMs !== undefined && w.completions >= cfg.minCompletionsPerWindow / parts.length) {
      out = updateProfile(out, w.perPodInFlight, w.serviceMs, resources(w.pod), cfg);
    }
  }
  return out;
}

function readyOf(s: EndpointSample, fallback: number): number {
  if (s.pods === undefined) return fallback;
  let n = 0;
  for (const p of s.pods) if (p.ready) n++;
  return n;
}

function perPod(samples: readonly EndpointSample[], fallback: number): number | undefined {
  let sum = 0;
  let n = 0;
  for (const s of samples) {
    const r = readyOf(s, fallback);
    if (r > 0) {
      sum += s.inFlight / r;
      n++;
    }
  }
  return n > 0 ? sum / n : undefined;
}

/**
 * The window as one part, or two parts split at its largest change of ready pods (see above). Each part holds
 * at least `segmentMinFraction` of the samples (two at least): of 30 samples, 10.
 */
export function operatingPoints(
  samples: readonly EndpointSample[],
  fallbackReady: number,
  cfg: Pick<EngineConfig, "segmentMinFraction" | "profileBinsPerOctave">,
): readonly (readonly EndpointSample[])[] {
  const minSide = Math.max(2, Math.ceil(samples.length * cfg.segmentMinFraction - 1e-9));
  let at = -1;
  let jump = 0;
  for (let i = minSide; i <= samples.length - minSide; i++) {
    const d = Math.abs(readyOf(samples[i]!, fallbackReady) - readyOf(samples[i - 1]!, fallbackReady));
    if (d > jump) {
      jump = d;
      at = i;
    }
  }
  if (at < 0) return [samples];
  const before = samples.slice(0, at);
  const after = samples.slice(at);
  const xb = perPod(before, fallbackReady);
  const xa = perPod(after, fallbackReady);
  if (xb === undefined || xa === undefined || binOf(xb, cfg.profileBinsPerOctave) === binOf(xa, cfg.profileBinsPerOctave)) return [samples];
  return [before, after];
}
