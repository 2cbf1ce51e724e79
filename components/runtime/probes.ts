/**
 * Probe sizing. The startup probe gets the whole model-load budget (the kubelet kills a container that fails it);
 * readiness stays tight so a pod that stops answering leaves the gateway within ~15 s.
 */

/** A Kubernetes HTTP probe (core/v1 Probe, the fields we set). */
export interface HttpProbe {
  readonly httpGet: { readonly path: string; readonly port: number };
  readonly periodSeconds: number;
  readonly timeoutSeconds: number;
  readonly failureThreshold: number;
  readonly successThreshold?: number;
}

/** Startup, readiness and liveness probes of one container. */
export interface ProbeSet {
  readonly startup: HttpProbe;
  readonly readiness: HttpProbe;
  readonly liveness: HttpProbe;
}

/** Startup probe period, s. */
export const STARTUP_PERIOD_S = 10;

/**
 * Probes for a server answering `path` on `port` that needs about `loadS` seconds to load its model.
 * The startup budget is twice the estimate (cold page cache, slow disks), at least 2 minutes.
 */
export function probesFor(path: string, port: number, loadS: number): ProbeSet {
  const budgetS = Math.max(120, Math.ceil(2 * loadS));
  const httpGet = { path, port };
  return {
    startup: { httpGet, periodSeconds: STARTUP_PERIOD_S, timeoutSeconds: 5, failureThreshold: Math.ceil(budgetS / STARTUP_PERIOD_S) },
    readiness: { httpGet, periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 3, successThreshold: 1 },
    liveness: { httpGet, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 },
  };
}
