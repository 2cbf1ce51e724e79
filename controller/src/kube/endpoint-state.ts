/** What the controller process keeps per endpoint between cycles (lost on restart by design), and its history trim. */
import type { V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import type { ServingEndpoint, ServingEndpointStatus } from "../contract/crd/types.ts";
import { EngineDriver } from "../engine/driver.ts";
import type { EngineConfig } from "../engine/config.ts";
import type { EndpointSample, EndpointSpec, PodSample } from "../engine/types.ts";
import { decodeSeasonality, encodeSeasonality } from "../engine/seasonality.ts";
import type { resolveTargets } from "./cluster-state.ts";
import { hashOf } from "./endpoint-status.ts";

export interface EndpointState {
  /** The shared engine driver: sample history, engine memory, decisionNeeded gating. */
  readonly driver: EngineDriver;
  degradedUntilMs: number;
  noAddressSinceMs: number | undefined;
  lastStatus: ServingEndpointStatus | undefined;
  lastStatusWriteMs: number | undefined;
  /** The object whose status the last status comparison read (a replaced object is compared again). */
  statusSeenSe: ServingEndpoint | undefined;
  /** The validation of the spec at its generation (at its resourceVersion when the object has no generation). */
  validated: { generation: number | undefined; resourceVersion: string | undefined; error: string | undefined } | undefined;
  lastDegraded: boolean;
  podsAtMs: number;
  /** Load-only status changes (QPS, observed concurrency, reasons) are looked at from this time on. */
  statusCheckAtMs: number;
  /** The per-endpoint gauges' values as last exported (undefined after their series were removed). */
  exported: { readonly desired: number; readonly ready: number; readonly target: number } | undefined;
  /** Derived views of this endpoint's objects, reused while the objects are the same (watch events replace them). */
  derived: Derived | undefined;
  /** The controller's endpoint-list build that last saw this endpoint (states of deleted endpoints are dropped). */
  seenCycle: number;
  /** The persisted seasonality (status.seasonality) has been read back into the driver (once per process). */
  seasonalityRestored: boolean;
  /** The seasonality's bucket count (`folded`) at its last encoding, and that encoding (persisted with the status). */
  seasonalityFolded: number | undefined;
  seasonalityText: string | undefined;
  /** Deployment key → the resourceVersion an owner-reference write was applied against (not sent again for it). */
  ownerApplied: Map<string, string> | undefined;
}

/** What the controller derives from the endpoint's objects; recomputed only when one of them is replaced. */
export interface Derived {
  readonly se: ServingEndpoint;
  readonly deployments: readonly V1Deployment[];
  readonly slices: readonly V1EndpointSlice[];
  readonly targets: ReturnType<typeof resolveTargets>;
  readonly spec: EndpointSpec;
  readonly addressed: number;
}

/** How the controller drives the engine for each endpoint. */
export interface DriverSettings {
  readonly config: EngineConfig;
  /** History kept per endpoint, ms (never less than the engine reads). */
  readonly historyMs: number;
}

/**
 * A new endpoint's state. Its first decision (and so every later one) is spread over `spreadMs` by a hash of
 * its key, so 10,000 endpoints do not all run the engine in the same cycle.
 */
export function newEndpointState(key: string, nowMs: number, spreadMs: number, cycle: number, settings: DriverSettings): EndpointState {
  return {
    driver: new EngineDriver({ config: settings.config, historyMs: settings.historyMs, firstRunAtMs: nowMs + (hashOf(key) % spreadMs) }),
    degradedUntilMs: 0,
    noAddressSinceMs: undefined,
    lastStatus: undefined,
    lastStatusWriteMs: undefined,
    statusSeenSe: undefined,
    validated: undefined,
    lastDegraded: false,
    podsAtMs: Number.NEGATIVE_INFINITY,
    statusCheckAtMs: Number.NEGATIVE_INFINITY,
    derived: undefined,
    exported: undefined,
    seenCycle: cycle,
    seasonalityRestored: false,
    seasonalityFolded: undefined,
    seasonalityText: undefined,
    ownerApplied: undefined,
  };
}

/**
 * The learned seasonality survives a controller restart through the endpoint's status: the first time this process
 * handles the endpoint, `status.seasonality` (if any, and of a version this engine reads) goes back into the driver.
 */
export function restoreSeasonality(st: EndpointState, status: ServingEndpointStatus | undefined): void {
  if (st.seasonalityRestored) return;
  st.seasonalityRestored = true;
  const s = decodeSeasonality(status?.seasonality);
  if (s === undefined) return;
  st.driver.restoreSeasonality(s);
  st.seasonalityFolded = s.folded;
  st.seasonalityText = status?.seasonality;
}

/**
 * The encoded seasonality to persist: re-encoded only when a bucket closed since the last encoding (once per 15 min
 * by default), so the status does not change every second with the bucket's running peak.
 */
export function seasonalityToPersist(st: EndpointState): string | undefined {
  const s = st.driver.seasonality;
  if (s === undefined || s.folded === 0) return st.seasonalityText;
  if (s.folded !== st.seasonalityFolded) {
    st.seasonalityFolded = s.folded;
    st.seasonalityText = encodeSeasonality(s);
  }
  return st.seasonalityText;
}

/**
 * The sample as the endpoint's history keeps it: every field in one object literal, in one order (absent ones
 * undefined). Ten thousand endpoints × a history of samples are read by the engine every few seconds: one shape
 * and no out-of-object property store keeps those reads to one object each.
 */
export function historySample(s: EndpointSample, pods: readonly PodSample[] | undefined): EndpointSample {
  return {
    atMs: s.atMs,
    intervalMs: s.intervalMs,
    inFlight: s.inFlight,
    queued: s.queued,
    arrivals: s.arrivals,
    completions: s.completions,
    rejections: s.rejections,
    errors: s.errors,
    queueTimeMs: s.queueTimeMs,
    serviceTimeMs: s.serviceTimeMs,
    latencyP50Ms: s.latencyP50Ms,
    latencyP99Ms: s.latencyP99Ms,
    overObjective: s.overObjective,
    pods: pods ?? s.pods,
  };
}
