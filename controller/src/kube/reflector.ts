/**
 * List + watch cache for one resource type, on client-node's `Watch` (HTTP streaming, auth) and a generated
 * list call. Written instead of client-node's `ListWatch` because that one does not ask for bookmarks and stops
 * for good on any error other than 410; a controller must keep going. Behaviour:
 * - list, remember `metadata.resourceVersion`, then watch from it with `allowWatchBookmarks=true`;
 * - every event (bookmarks included) advances the resourceVersion and resets the backoff;
 * - a watch that ends (server timeout, dropped connection) resumes from the last resourceVersion, no relist;
 * - 410 Gone (HTTP status or an ERROR event) clears the resourceVersion → relist;
 * - other errors (5xx, connection refused, ERROR events) retry after a capped exponential backoff through the
 *   injected `delayFn`, reset by the next successful list or event.
 */
import { backoffDelayMs, defaultBackoff, type BackoffPolicy } from "./backoff.ts";
import type { Logger } from "./logger.ts";

/** The part of client-node's `Watch` used here. */
export interface WatchLike {
  watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController>;
}

export interface ListResult<T> {
  readonly items: readonly T[];
  readonly metadata?: { readonly resourceVersion?: string };
}

export type ChangeType = "add" | "update" | "delete";

/** Any object with Kubernetes metadata (client-node models and this package's ServingEndpoint). */
export interface KubernetesObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
}

export interface ReflectorOptions<T extends KubernetesObject> {
  /** Short name for logs and metrics, e.g. `deployments`. */
  readonly name: string;
  /** Collection path to watch, e.g. `/apis/apps/v1/deployments`. */
  readonly path: string;
  readonly list: () => Promise<ListResult<T>>;
  readonly watch: WatchLike;
  readonly labelSelector?: string;
  /** Server-side watch timeout, s. @default 300 */
  readonly timeoutSeconds?: number;
  /** Waits between retries; tests pass a recording fake. */
  readonly delayFn: (ms: number) => Promise<void>;
  readonly backoff?: BackoffPolicy;
  readonly log: Logger;
  readonly onChange?: (type: ChangeType, obj: T) => void;
  /** Called on every retried failure (for the controller's error metrics). */
  readonly onError?: (err: unknown) => void;
}

function statusCodeOf(err: unknown): number | undefined {
  if (err === null || typeof err !== "object") return undefined;
  const e = err as { statusCode?: unknown; code?: unknown };
  if (typeof e.statusCode === "number") return e.statusCode;
  if (typeof e.code === "number") return e.code;
  return undefined;
}

const keyOf = (obj: KubernetesObject): string => `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;

export class Reflector<T extends KubernetesObject> {
  readonly #opts: ReflectorOptions<T>;
  #objects = new Map<string, T>();
  #changes = 0;
  #list: { changes: number; items: T[] } | undefined;
  #resourceVersion = "";
  #failures = 0;
  #stopped = true;
  #synced = false;
  #abort: AbortController | undefined;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  /** Counters for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relists410: 0, errors: 0, delaysMs: [] as number[] };

  constructor(opts: ReflectorOptions<T>) {
    this.#opts = opts;
  }

  /** True once the first list has been loaded. */
  get hasSynced(): boolean {
    return this.#synced;
  }

  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  get(namespace: string, name: string): T | undefined {
    return this.#objects.get(`${namespace}/${name}`);
  }

  /** Counts changes to the cache (adds, updates, deletes, relists): derived views rebuild when it moves. */
  get changes(): number {
    return this.#changes;
  }

  /** Every cached object. The same array is returned until the cache changes: do not mutate it. */
  list(): readonly T[] {
    if (this.#list?.changes !== this.#changes) this.#list = { changes: this.#changes, items: [...this.#objects.values()] };
    return this.#list.items;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#resourceVersion === "") await this.#relist();
        if (this.#stopped) break;
        const ended = await this.#watchOnce();
        if (ended.gone) {
          this.stats.relists410 += 1;
          this.#opts.log.info("watch expired (410 Gone); relisting", { resource: this.#opts.name });
          this.#resourceVersion = "";
        } else if (ended.error !== undefined) {
          await this.#fail(ended.error);
        } else if (!ended.sawEvent) {
          // A watch that closes without a single event (not even a bookmark) is treated as a soft failure so a
          // server that drops every connection at once is not hammered.
          await this.#fail(new Error("watch closed without events"));
        }
      } catch (err) {
        if (statusCodeOf(err) === 410) {
          this.#resourceVersion = "";
          continue;
        }
        await this.#fail(err);
      }
    }
  }

  async #fail(err: unknown): Promise<void> {
    if (this.#stopped) return;
    this.#failures += 1;
    this.stats.errors += 1;
    const delayMs = backoffDelayMs(this.#failures, this.#opts.backoff ?? defaultBackoff);
    this.stats.delaysMs.push(delayMs);
    this.#opts.onError?.(err);
    this.#opts.log.warn("list/watch failed; retrying", {
      resource: this.#opts.name,
      error: err instanceof Error ? err.message : String(err),
      status: statusCodeOf(err),
      delayMs,
    });
    await Promise.race([this.#opts.delayFn(delayMs), new Promise<void>((r) => (this.#wake = r))]);
  }

  async #relist(): Promise<void> {
    this.stats.lists += 1;
    const result = await this.#opts.list();
    const fresh = new Map<string, T>();
    for (const obj of result.items) fresh.set(keyOf(obj), obj);
    for (const [key, old] of this.#objects) if (!fresh.has(key)) this.#opts.onChange?.("delete", old);
    for (const [key, obj] of fresh) {
      const old = this.#objects.get(key);
      if (old === undefined) this.#opts.onChange?.("add", obj);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) this.#opts.onChange?.("update", obj);
    }
    this.#objects = fresh;
    this.#changes += 1;
    this.#resourceVersion = result.metadata?.resourceVersion ?? "";
    this.#synced = true;
    this.#failures = 0;
  }

  #watchOnce(): Promise<{ gone: boolean; error?: unknown; sawEvent: boolean }> {
    this.stats.watches += 1;
    this.#opts.log.debug("watch starting", { resource: this.#opts.name, resourceVersion: this.#resourceVersion });
    return new Promise((resolve) => {
      let gone = false;
      let eventError: unknown;
      let sawEvent = false;
      const onEvent = (phase: string, apiObj: unknown): void => {
        const obj = apiObj as T & { code?: number; message?: string };
        if (phase === "ERROR") {
          if (obj.code === 410) gone = true;
          else eventError = Object.assign(new Error(obj.message ?? "watch ERROR event"), { statusCode: obj.code });
          return;
        }
        sawEvent = true;
        this.#failures = 0;
        if (phase === "ADDED" || phase === "MODIFIED" || phase === "DELETED") this.#changes += 1;
        if (phase === "ADDED" || phase === "MODIFIED") {
          const key = keyOf(obj);
          const existed = this.#objects.has(key);
          this.#objects.set(key, obj);
          this.#opts.onChange?.(existed ? "update" : "add", obj);
        } else if (phase === "DELETED") {
          this.#objects.delete(keyOf(obj));
          this.#opts.onChange?.("delete", obj);
        }
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.#resourceVersion = rv;
      };
      const onDone = (err: unknown): void => {
        this.#opts.log.debug("watch ended", { resource: this.#opts.name, error: err instanceof Error ? err.message : err, gone, sawEvent });
        this.#abort = undefined;
        if (statusCodeOf(err) === 410) gone = true;
        const isTimeout = err instanceof Error && err.name === "TimeoutError";
        const aborted = err instanceof Error && err.name === "AbortError";
        resolve({ gone, error: gone || isTimeout || aborted || !err ? eventError : err, sawEvent: sawEvent || isTimeout });
      };
      const query: Record<string, string | number | boolean | undefined> = {
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.#opts.timeoutSeconds ?? 300,
        labelSelector: this.#opts.labelSelector,
      };
      this.#opts.watch.watch(this.#opts.path, query, onEvent, onDone).then(
        (abort) => {
          this.#abort = abort;
          if (this.#stopped) abort.abort();
        },
        (err: unknown) => onDone(err),
      );
    });
  }
}
