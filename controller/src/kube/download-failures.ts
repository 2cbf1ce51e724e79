/**
 * Model download failures as Kubernetes Events. A version whose model cannot be fetched (a digest mismatch, a
 * missing manifest, a store that refuses the pod's identity, no disk) never starts: its init container
 * `fetch-model` exits 1 with one `fetch-model: …` line saying why, which the kubelet keeps as the container's
 * termination message (`terminationMessagePolicy: FallbackToLogsOnError`). The pod stays Pending and un-Ready, and
 * the other versions keep the traffic (the split moves only once a version is Ready). This reporter lists the
 * endpoints' Pending pods every `intervalMs` on the leader and turns each such failure into one Warning Event
 * `ModelDownloadFailed` on the ServingEndpoint (the pod as the related object), once per pod and message, so
 * `kubectl describe servingendpoint` and `kubectl get events` say why the version is not serving.
 * Pure parts (`downloadFailure`, `downloadFailureEvent`) plus a thin poller.
 */
import { V1MicroTime, type EventsV1Event, type V1Pod } from "@kubernetes/client-node";
import { SERVING_API_VERSION, SERVING_KIND } from "../contract/crd/types.ts";
import { ENDPOINT_LABEL, REPORTING_CONTROLLER, VERSION_LABEL } from "../contract/labels.ts";
import type { Logger } from "./logger.ts";

/** The init container that fills the model cache (components/endpoint/download-script.ts). */
export const DOWNLOAD_CONTAINER = "fetch-model";
export const DOWNLOAD_FAILED_REASON = "ModelDownloadFailed";

export interface DownloadFailure {
  readonly namespace: string;
  readonly pod: string;
  readonly podUid: string;
  readonly endpoint: string;
  readonly version: string;
  /** The `fetch-model: …` line (else the termination message's last line, else the exit code). */
  readonly message: string;
  readonly restarts: number;
}

/** The failed model download of `pod`, if its `fetch-model` init container last exited non-zero. */
export function downloadFailure(pod: V1Pod): DownloadFailure | undefined {
  const st = pod.status?.initContainerStatuses?.find((c) => c.name === DOWNLOAD_CONTAINER);
  if (st === undefined) return undefined;
  const current = st.state?.terminated;
  const term = current !== undefined && current.exitCode !== 0 ? current : st.lastState?.terminated;
  if (term === undefined || term.exitCode === 0) return undefined;
  const labels = pod.metadata?.labels ?? {};
  const endpoint = labels[ENDPOINT_LABEL];
  if (endpoint === undefined) return undefined;
  const lines = (term.message ?? "").split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const message = [...lines].reverse().find((l) => l.startsWith("fetch-model: ")) ?? lines.at(-1) ?? `${DOWNLOAD_CONTAINER} exited ${term.exitCode}${term.reason !== undefined ? ` (${term.reason})` : ""}`;
  return {
    namespace: pod.metadata?.namespace ?? "", pod: pod.metadata?.name ?? "", podUid: pod.metadata?.uid ?? "",
    endpoint, version: labels[VERSION_LABEL] ?? "?", message, restarts: st.restartCount ?? 0,
  };
}

/** The Warning Event of one failure, on the ServingEndpoint, the pod as the related object. */
export function downloadFailureEvent(f: DownloadFailure, nowMs: number, instance: string): EventsV1Event {
  return {
    apiVersion: "events.k8s.io/v1",
    kind: "Event",
    metadata: { generateName: `${f.endpoint}-`, namespace: f.namespace },
    eventTime: new V1MicroTime(nowMs),
    reportingController: REPORTING_CONTROLLER,
    reportingInstance: instance,
    action: "DownloadModel",
    reason: DOWNLOAD_FAILED_REASON,
    type: "Warning",
    note: `version ${f.version} cannot start, its model download failed (pod ${f.pod}, ${f.restarts} restarts): ${f.message}; the other versions keep serving`.slice(0, 1024),
    regarding: { apiVersion: SERVING_API_VERSION, kind: SERVING_KIND, name: f.endpoint, namespace: f.namespace },
    related: { apiVersion: "v1", kind: "Pod", name: f.pod, namespace: f.namespace, ...(f.podUid !== "" ? { uid: f.podUid } : {}) },
  };
}

export interface DownloadFailureReporterDeps {
  /** The endpoints' Pending pods (label selector `serving.autopilot.dev/endpoint`, field selector `status.phase=Pending`). */
  readonly listPendingPods: () => Promise<readonly V1Pod[]>;
  readonly createEvent: (namespace: string, event: EventsV1Event) => Promise<unknown>;
  readonly isLeader: () => boolean;
  readonly nowMs: () => number;
  readonly log: Logger;
  readonly instance: string;
  /** @default 15000 */
  readonly intervalMs?: number;
}

export class DownloadFailureReporter {
  readonly #d: DownloadFailureReporterDeps;
  /** pod uid + message already reported (pruned to the pods still failing). */
  #reported = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Events created (tests, logs). */
  created = 0;

  constructor(deps: DownloadFailureReporterDeps) {
    this.#d = deps;
  }

  /** One pass: an Event for each failure not reported yet. */
  async poll(): Promise<void> {
    if (!this.#d.isLeader()) return;
    const failures = (await this.#d.listPendingPods()).map(downloadFailure).filter((f): f is DownloadFailure => f !== undefined);
    const seen = new Set<string>();
    for (const f of failures) {
      const key = `${f.podUid}|${f.message}`;
      seen.add(key);
      if (this.#reported.has(key)) continue;
      try {
        await this.#d.createEvent(f.namespace, downloadFailureEvent(f, this.#d.nowMs(), this.#d.instance));
        this.#reported.add(key);
        this.created += 1;
      } catch (err) {
        this.#d.log.warn("model download Event not written", { endpoint: `${f.namespace}/${f.endpoint}`, pod: f.pod, error: String(err) });
      }
    }
    this.#reported = new Set([...this.#reported].filter((k) => seen.has(k)));
  }

  start(): void {
    this.#timer ??= setInterval(() => {
      this.poll().catch((err: unknown) => this.#d.log.warn("listing pending endpoint pods failed", { error: String(err) }));
    }, this.#d.intervalMs ?? 15_000);
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
