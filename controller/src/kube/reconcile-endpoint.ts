/**
 * One endpoint's reconcile on the leader, each cycle: validate, resolve its Deployments, build the engine's
 * replica state, run the engine when it is due, guard and apply the scale, record the Event, and compose the
 * status (written through the controller's write queue). Part of the controller shell (controller.ts).
 */
import type { V1Deployment, V1EndpointSlice } from "@kubernetes/client-node";
import { validateServingEndpoint } from "../contract/crd/validate.ts";
import type { ServingEndpoint, ServingEndpointCondition, ServingEndpointStatus } from "../contract/crd/types.ts";
import { toEndpointSpec } from "../engine/from-crd.ts";
import type { EndpointSample, ReplicaState } from "../engine/types.ts";
import { isRollingOut, keyOfObject, replicaStateOf, resolveTargets, slicePodCount, type ScaleTarget } from "./cluster-state.ts";
import type { ControllerConfig } from "./config.ts";
import type { ControllerMetrics } from "./own-metrics.ts";
import { composeStatus, podSelectorOf } from "./endpoint-status.ts";
import { seasonalityToPersist, type EndpointState } from "./endpoint-state.ts";
import type { Logger } from "./logger.ts";
import { guardScale } from "./scale-guard.ts";
import { adoptDeployments, applyScale, emitScaleEvent, type WriteDeps } from "./scale-writes.ts";
import { CONDITION_READY, CONDITION_SCALING, setCondition, withOthersConditions, type ConditionInput } from "./status.ts";

/** What of the controller's dependencies a reconcile reads. */
export interface ReconcileDeps {
  readonly config: ControllerConfig;
  readonly metrics: ControllerMetrics;
  readonly log: Logger;
  /** Run the engine every cycle instead of when it asks (benchmark use). */
  readonly decideEveryCycle?: boolean;
}

export interface ReconcileContext {
  readonly deps: ReconcileDeps;
  readonly writes: WriteDeps;
  /** The cycle's engine counters (calls and wall time inside `decide`). */
  readonly lastCycle: { engineCalls: number; engineMs: number };
  writeStatus(se: ServingEndpoint, st: EndpointState, next: ServingEndpointStatus, nowMs: number, log: () => Logger): Promise<void>;
}

/** Nothing the status shows at once can have changed since the last write (most endpoints, most seconds). */
function quiet(
  st: EndpointState,
  se: ServingEndpoint,
  state: ReplicaState,
  degraded: boolean,
  nowMs: number,
  desired: number,
  target: number,
  scaledAt: string | undefined,
): boolean {
  const last = st.lastStatus;
  return (
    last !== undefined &&
    last.replicas === state.desiredReplicas &&
    last.readyReplicas === state.readyReplicas &&
    last.desiredReplicas === desired &&
    (last.targetConcurrency ?? 0) === target &&
    last.lastScaleTime === scaledAt &&
    st.lastDegraded === degraded &&
    // a closed seasonality bucket is persisted with the next status write (a cached string unless one closed)
    last.seasonality === seasonalityToPersist(st) &&
    // A changed object (its status edited by someone else, or our write come back) is compared again.
    st.statusSeenSe === se &&
    nowMs < st.statusCheckAtMs
  );
}

/**
 * One endpoint's reconcile. Synchronous up to the engine's gate: an endpoint whose engine is not due and whose
 * status would not change returns undefined (no promise, no allocation beyond its replica state); otherwise the
 * promise of its decision and writes.
 */
export function reconcileEndpoint(
  ctx: ReconcileContext,
  se: ServingEndpoint,
  st: EndpointState,
  nowMs: number,
  iso: string,
  sample: EndpointSample | undefined,
  problem: string | undefined,
  myDeployments: readonly V1Deployment[],
  mySlices: readonly V1EndpointSlice[],
  decisions: Map<string, number>,
  key: string = keyOfObject(se),
): Promise<void> | undefined {
  const { config } = ctx.deps;
  // The spec is validated once per generation (a status write comes back as a new object of the same generation).
  // Without a generation, once per resourceVersion.
  const generation = se.metadata.generation;
  const resourceVersion = generation !== undefined ? undefined : se.metadata.resourceVersion;
  let validated = st.validated;
  if (validated === undefined || validated.generation !== generation || validated.resourceVersion !== resourceVersion) {
    const v = validateServingEndpoint(se);
    validated = st.validated = { generation, resourceVersion, error: v.ok ? undefined : v.errors.map((e) => e.message).join("; ") };
  }
  if (validated.error !== undefined) {
    const c = setCondition(ownConditions(st, se), { type: CONDITION_READY, status: "False", reason: "InvalidSpec", message: validated.error }, iso, se.metadata.generation);
    return ctx.writeStatus(se, st, { ...se.status, selector: podSelectorOf(se.metadata.name), conditions: c }, nowMs, () => ctx.deps.log.child({ endpoint: key }));
  }
  let dv = st.derived;
  if (dv === undefined || dv.se !== se || dv.deployments !== myDeployments || dv.slices !== mySlices) {
    dv = { se, deployments: myDeployments, slices: mySlices, targets: resolveTargets(se, myDeployments), spec: toEndpointSpec(se.spec), addressed: slicePodCount(se, mySlices) };
    st.derived = dv;
    st.driver.setSpec(dv.spec);
  }
  const targets = dv.targets;
  if (!targets.ok) {
    const c = setCondition(ownConditions(st, se), { type: CONDITION_READY, status: "False", reason: targets.reason, message: targets.message }, iso, se.metadata.generation);
    return ctx.writeStatus(se, st, { ...se.status, selector: podSelectorOf(se.metadata.name), conditions: c }, nowMs, () => ctx.deps.log.child({ endpoint: key }));
  }
  adoptDeployments(ctx.writes, se, targets.targets.map((t) => t.deployment), (st.ownerApplied ??= new Map()), nowMs, () => ctx.deps.log.child({ endpoint: key }));
  const addressed = dv.addressed;
  let current = 0;
  for (const t of targets.targets) current += t.deployment.spec?.replicas ?? 0;
  if (addressed >= current) st.noAddressSinceMs = undefined;
  else st.noAddressSinceMs ??= nowMs;
  const state = replicaStateOf({
    targets: targets.targets,
    podsWithAddress: addressed,
    // What this leader last wrote is newer than the cache until the watch delivers it back.
    targetConcurrency: st.lastStatus?.targetConcurrency ?? se.status?.targetConcurrency ?? 0,
    noAddressSinceMs: st.noAddressSinceMs,
    nowMs,
    unschedulableAfterMs: config.unschedulableAfterMs,
  });
  const degraded = problem ?? (nowMs < st.degradedUntilMs ? `metrics recovered less than ${config.failStaticRecoveryMs} ms ago` : undefined);
  // The shared driver's gate (decisionNeeded, or every cycle for the benchmark): a skipped call changes nothing.
  const due = ctx.deps.decideEveryCycle === true || st.driver.due(nowMs, state);
  const last = st.lastStatus;
  if (!due && quiet(st, se, state, degraded !== undefined, nowMs, last?.desiredReplicas ?? -1, last?.targetConcurrency ?? 0, last?.lastScaleTime)) return undefined;
  return decideAndWrite(ctx, se, st, nowMs, iso, sample, problem, targets.targets, state, degraded, due, decisions, key);
}

/** The controller's own conditions as last written (or observed), with other writers' conditions as observed. */
function ownConditions(st: EndpointState, se: ServingEndpoint): ServingEndpointCondition[] {
  return withOthersConditions(st.lastStatus?.conditions ?? se.status?.conditions ?? [], se.status?.conditions);
}

async function decideAndWrite(
  ctx: ReconcileContext,
  se: ServingEndpoint,
  st: EndpointState,
  nowMs: number,
  iso: string,
  sample: EndpointSample | undefined,
  problem: string | undefined,
  targets: readonly ScaleTarget[],
  state: ReplicaState,
  degraded: string | undefined,
  due: boolean,
  decisions: Map<string, number>,
  key: string,
): Promise<void> {
  const { metrics } = ctx.deps;
  let logger: Logger | undefined;
  // Built only when something is logged: most endpoints log nothing in most cycles.
  const elog = (): Logger => (logger ??= ctx.deps.log.child({ endpoint: key }));
  const conds = ownConditions(st, se);
  const gen = se.metadata.generation;
  let desired = state.desiredReplicas;
  let scaling: ConditionInput = { type: CONDITION_SCALING, status: "True", reason: "Waiting", message: "engine not due yet" };
  let target = state.targetConcurrency;
  let observed = st.lastStatus?.observedConcurrency;
  let lastScaleTime = st.lastStatus?.lastScaleTime ?? se.status?.lastScaleTime;
  const previous = st.lastStatus ?? se.status;
  if (due) {
    const e0 = performance.now();
    const d = st.driver.decideNow(nowMs, state);
    ctx.lastCycle.engineMs += performance.now() - e0;
    ctx.lastCycle.engineCalls += 1;
    target = d.targetConcurrency;
    observed = d.observedConcurrency ?? observed;
    desired = d.desiredReplicas;
    const action = guardScale({
      currentReplicas: state.desiredReplicas,
      desiredReplicas: d.desiredReplicas,
      metricsDegraded: degraded,
      rollingOut: targets.some((t) => isRollingOut(t.deployment)),
    });
    const dk = `${d.replicasReason}/${action.kind}`;
    decisions.set(dk, (decisions.get(dk) ?? 0) + 1);
    const prevScaling = previous?.conditions?.find((x) => x.type === CONDITION_SCALING);
    scaling =
      d.replicasReason === "NotDue" && prevScaling !== undefined
        ? { type: CONDITION_SCALING, status: prevScaling.status, reason: prevScaling.reason, message: prevScaling.message }
        : { type: CONDITION_SCALING, status: "True", reason: d.replicasReason, message: d.replicasMessage };
    if (action.kind === "hold") {
      scaling = { type: CONDITION_SCALING, status: "True", reason: action.reason, message: action.message };
      desired = state.desiredReplicas;
      elog().info("scale held", { reason: action.reason, message: action.message });
    } else if (action.kind === "scale") {
      const applied = await applyScale(ctx.writes, targets.map((t) => t.deployment), targets.map((t) => t.weight), action.to, nowMs, elog());
      if (applied === "applied") {
        lastScaleTime = new Date(nowMs).toISOString();
        emitScaleEvent(ctx.writes, { se, from: action.from, to: action.to, reason: d.replicasReason, message: d.replicasMessage, nowMs }, elog());
        elog().info("scaled", { from: action.from, to: action.to, reason: d.replicasReason, message: d.replicasMessage });
      } else {
        desired = state.desiredReplicas;
        scaling =
          applied === "deferred"
            ? { type: CONDITION_SCALING, status: "True", reason: "ScaleDeferred", message: `replicas ${action.to} wait for the API write limit or a retry backoff; retrying next decision` }
            : { type: CONDITION_SCALING, status: "False", reason: "ScaleFailed", message: `could not set replicas to ${action.to}; retrying next decision` };
      }
    }
  } else if (previous?.conditions !== undefined) {
    const prevScaling = previous.conditions.find((c) => c.type === CONDITION_SCALING);
    if (prevScaling !== undefined) scaling = { type: prevScaling.type, status: prevScaling.status, reason: prevScaling.reason, message: prevScaling.message };
  }
  if (quiet(st, se, state, degraded !== undefined, nowMs, desired, target, lastScaleTime)) {
    // The engine ran but nothing the status shows at once changed (the common case every second).
    return;
  }
  // Each labelled set hashes its labels: only values that moved are exported again.
  const ex = st.exported;
  if (ex?.desired !== desired) metrics.desiredReplicas.set({ endpoint: key }, desired);
  if (ex?.ready !== state.readyReplicas) metrics.readyReplicas.set({ endpoint: key }, state.readyReplicas);
  if (ex?.target !== target) metrics.targetConcurrency.set({ endpoint: key }, target);
  st.exported = { desired, ready: state.readyReplicas, target };
  st.lastDegraded = degraded !== undefined;
  const next = composeStatus({
    previous,
    conditions: conds,
    scaling,
    degraded,
    recovering: problem === undefined,
    state,
    desired,
    target,
    observed,
    sample,
    lastScaleTime,
    generation: gen,
    nowIso: iso,
    name: se.metadata.name,
    scaleToZero: se.spec.scaleToZero === true,
    seasonality: seasonalityToPersist(st),
  });
  return ctx.writeStatus(se, st, next, nowMs, elog);
}
