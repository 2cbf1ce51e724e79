/**
 * Recorder-style aggregation of the controller's Events (as client-go's event recorders do): events of the
 * same endpoint, type, reason and action within `windowMs` are one Event. The first is created; later ones
 * only count locally, and the Event's `series` (count, last observed time) and note ("(combined from similar
 * events): <latest note>") are patched at most every `seriesFlushMs`. A flapping endpoint therefore costs one
 * create and one patch a minute, not one create per scale. Pure bookkeeping: the caller sends the writes.
 *
 * Worked example with the defaults (10 min window, 60 s flush): 30 scale-ups of one endpoint in 5 minutes →
 * 1 create, ≤ 5 patches (the last one carries count 30).
 */
import { V1MicroTime, type EventsV1Event } from "@kubernetes/client-node";

export interface EventRecorderOptions {
  /** Similar events within this time of the first are aggregated, ms. @default 600000 */
  readonly windowMs?: number;
  /** Least time between two series patches of one Event, ms. @default 60000 */
  readonly seriesFlushMs?: number;
}

/** A write the caller should send. */
export type EventWrite =
  | { readonly kind: "create"; readonly key: string; readonly namespace: string; readonly event: EventsV1Event }
  | { readonly kind: "patch"; readonly key: string; readonly namespace: string; readonly name: string; readonly patch: Partial<EventsV1Event> };

interface Aggregate {
  readonly firstMs: number;
  readonly namespace: string;
  /** The created Event's name (known once the create succeeded). */
  name: string | undefined;
  count: number;
  lastNote: string;
  lastObservedMs: number;
  /** Count already written to the Event. */
  writtenCount: number;
  lastPatchMs: number;
}

/** Aggregation key: namespace, regarding object, type, reason, action (the note may differ). */
export function similarityKey(e: EventsV1Event): string {
  const r = e.regarding;
  return `${r?.namespace ?? e.metadata?.namespace ?? ""}/${r?.kind ?? ""}/${r?.name ?? ""}|${e.type ?? ""}|${e.reason ?? ""}|${e.action ?? ""}`;
}

export class EventRecorder {
  readonly #windowMs: number;
  readonly #flushMs: number;
  readonly #aggregates = new Map<string, Aggregate>();
  /** Events recorded and folded into an existing Event (metrics, tests). */
  aggregated = 0;

  constructor(o: EventRecorderOptions = {}) {
    this.#windowMs = o.windowMs ?? 600_000;
    this.#flushMs = o.seriesFlushMs ?? 60_000;
  }

  /** Records one event at `nowMs`: a create for the first of its kind in the window, else nothing yet. */
  record(e: EventsV1Event, nowMs: number): EventWrite | undefined {
    const key = similarityKey(e);
    const a = this.#aggregates.get(key);
    if (a === undefined || nowMs - a.firstMs >= this.#windowMs) {
      const namespace = e.metadata?.namespace ?? "";
      this.#aggregates.set(key, { firstMs: nowMs, namespace, name: undefined, count: 1, lastNote: e.note ?? "", lastObservedMs: nowMs, writtenCount: 1, lastPatchMs: nowMs });
      return { kind: "create", key, namespace, event: e };
    }
    a.count += 1;
    a.lastNote = e.note ?? "";
    a.lastObservedMs = nowMs;
    this.aggregated += 1;
    return undefined;
  }

  /** The name the API server gave the created Event (patches need it). */
  created(key: string, name: string | undefined): void {
    const a = this.#aggregates.get(key);
    if (a !== undefined && name !== undefined) a.name = name;
  }

  /** A create failed: the next similar event creates again. */
  createFailed(key: string): void {
    const a = this.#aggregates.get(key);
    if (a !== undefined && a.name === undefined) this.#aggregates.delete(key);
  }

  /** Series patches due at `nowMs`; drops aggregates whose window has passed and that are fully written. */
  flush(nowMs: number): EventWrite[] {
    const out: EventWrite[] = [];
    for (const [key, a] of this.#aggregates) {
      const due = a.name !== undefined && a.count > a.writtenCount && nowMs - a.lastPatchMs >= this.#flushMs;
      if (due && a.name !== undefined) {
        out.push({
          kind: "patch",
          key,
          namespace: a.namespace,
          name: a.name,
          patch: {
            series: { count: a.count, lastObservedTime: new V1MicroTime(a.lastObservedMs) },
            note: `(combined from similar events): ${a.lastNote}`.slice(0, 1024),
          },
        });
        a.writtenCount = a.count;
        a.lastPatchMs = nowMs;
      } else if (nowMs - a.firstMs >= this.#windowMs && a.count === a.writtenCount) {
        this.#aggregates.delete(key);
      }
    }
    return out;
  }

  clear(): void {
    this.#aggregates.clear();
  }
}
