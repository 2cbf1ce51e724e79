/**
 * FakeApiServer: an HTTP TEST DOUBLE of the Kubernetes API server (not a real one), for driving the real
 * `@kubernetes/client-node` in tests. It serves list / watch / get / patch / create / replace for the resources
 * the controller uses, keeps a global resourceVersion and an event log for watches (with bookmarks and 410 Gone
 * after compaction), records every request, and injects faults: status codes (409, 410, 5xx), dropped watches
 * and slow responses. Listens on 127.0.0.1 on a free port.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export type Obj = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
};

/** Resource kinds the double knows, by the plural used in URLs. */
const RESOURCES: Record<string, { group: string; kind: string }> = {
  servingendpoints: { group: "/apis/serving.autopilot.dev/v1alpha1", kind: "ServingEndpoint" },
  deployments: { group: "/apis/apps/v1", kind: "Deployment" },
  endpointslices: { group: "/apis/discovery.k8s.io/v1", kind: "EndpointSlice" },
  leases: { group: "/apis/coordination.k8s.io/v1", kind: "Lease" },
  events: { group: "/apis/events.k8s.io/v1", kind: "Event" },
  pods: { group: "/apis/metrics.k8s.io/v1beta1", kind: "PodMetrics" },
};

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly contentType: string | undefined;
  /** The bearer token, to tell clients apart. */
  readonly token: string | undefined;
  readonly body: unknown;
  /** Status sent when a fault answered this request (undefined: handled normally). */
  faultStatus?: number;
}

export interface Fault {
  readonly method?: string;
  /** Matches the URL path (no query). */
  readonly path?: RegExp;
  /** Only watch requests (true) or only non-watch requests (false). */
  readonly watch?: boolean;
  /** Answer with this status instead of handling the request. */
  readonly status?: number;
  /** Wait this long first (a slow response); with no `status` the request is then handled normally. */
  readonly delayMs?: number;
  /** How many requests to affect. */
  times: number;
}

interface Watcher {
  readonly plural: string;
  readonly selector: string | undefined;
  readonly res: ServerResponse;
}

function matchesSelector(labels: Record<string, string> | undefined, selector: string | undefined): boolean {
  if (!selector) return true;
  for (const term of selector.split(",").map((t) => t.trim()).filter(Boolean)) {
    const ne = term.split("!=");
    if (ne.length === 2) {
      if (labels?.[ne[0] ?? ""] === ne[1]) return false;
      continue;
    }
    const eq = term.split("=");
    if (eq.length === 2) {
      if (labels?.[eq[0] ?? ""] !== eq[1]) return false;
      continue;
    }
    if (labels?.[term] === undefined) return false;
  }
  return true;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  readonly faults: Fault[] = [];
  /** When true, a scale patch also sets status.replicas/updatedReplicas/observedGeneration like the Deployment controller. */
  simulateDeploymentController = true;
  #server: Server | undefined;
  #rv = 100;
  #compactedRv = 0;
  #store = new Map<string, Map<string, Obj>>();
  #log: { rv: number; plural: string; type: string; obj: Obj }[] = [];
  #watchers = new Set<Watcher>();
  url = "";

  async start(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server?.listen(0, "127.0.0.1", resolve));
    const addr = this.#server.address();
    if (addr === null || typeof addr !== "object") throw new Error("no address");
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.#watchers) w.res.destroy();
    this.#watchers.clear();
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }

  get resourceVersion(): number {
    return this.#rv;
  }

  /** Open watch connections, by resource plural. */
  openWatches(plural?: string): number {
    return [...this.#watchers].filter((w) => plural === undefined || w.plural === plural).length;
  }

  #bucket(plural: string): Map<string, Obj> {
    let b = this.#store.get(plural);
    if (b === undefined) this.#store.set(plural, (b = new Map()));
    return b;
  }

  get(plural: string, namespace: string, name: string): Obj | undefined {
    const o = this.#bucket(plural).get(`${namespace}/${name}`);
    return o === undefined ? undefined : structuredClone(o);
  }

  list(plural: string): Obj[] {
    return [...this.#bucket(plural).values()].map((o) => structuredClone(o));
  }

  /** Creates or replaces an object (bumping resourceVersion, and generation when spec changed) and notifies watchers. */
  put(plural: string, obj: Obj): Obj {
    const b = this.#bucket(plural);
    const key = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
    const old = b.get(key);
    const next = structuredClone(obj);
    this.#rv += 1;
    next.metadata.resourceVersion = String(this.#rv);
    const specChanged = old === undefined || JSON.stringify(old.spec) !== JSON.stringify(next.spec);
    next.metadata.generation = (old?.metadata.generation ?? 0) + (specChanged ? 1 : 0);
    next.metadata["creationTimestamp"] ??= old?.metadata["creationTimestamp"] ?? "2026-11-22T17:00:00Z";
    next.apiVersion ??= (RESOURCES[plural]?.group ?? "").replace(/^\/apis\//, "");
    next.kind ??= RESOURCES[plural]?.kind;
    b.set(key, next);
    this.#emit(plural, old === undefined ? "ADDED" : "MODIFIED", next);
    return structuredClone(next);
  }

  delete(plural: string, namespace: string, name: string): void {
    const b = this.#bucket(plural);
    const old = b.get(`${namespace}/${name}`);
    if (old === undefined) return;
    b.delete(`${namespace}/${name}`);
    this.#rv += 1;
    this.#emit(plural, "DELETED", { ...old, metadata: { ...old.metadata, resourceVersion: String(this.#rv) } });
  }

  #emit(plural: string, type: string, obj: Obj): void {
    this.#log.push({ rv: this.#rv, plural, type, obj: structuredClone(obj) });
    for (const w of this.#watchers) {
      if (w.plural === plural && matchesSelector(obj.metadata.labels, w.selector)) w.res.write(`${JSON.stringify({ type, object: obj })}\n`);
    }
  }

  /** Sends a BOOKMARK with the current resourceVersion to every open watch. */
  bookmark(): void {
    for (const w of this.#watchers) {
      const kind = RESOURCES[w.plural]?.kind;
      w.res.write(`${JSON.stringify({ type: "BOOKMARK", object: { kind, metadata: { resourceVersion: String(this.#rv) } } })}\n`);
    }
  }

  /** Drops every open watch connection (like a load balancer cutting idle streams). */
  dropWatches(): void {
    for (const w of this.#watchers) w.res.destroy();
    this.#watchers.clear();
  }

  /** Compacts history: watches from older resourceVersions get 410 Gone; open watches receive an ERROR 410 and end. */
  compact(): void {
    this.#compactedRv = this.#rv;
    for (const w of this.#watchers) {
      w.res.end(`${JSON.stringify({ type: "ERROR", object: goneStatus() })}\n`);
    }
    this.#watchers.clear();
  }

  count(method: string, path: RegExp): number {
    return this.requests.filter((r) => r.method === method && path.test(r.path)).length;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://x");
    const query = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: unknown = undefined;
    if (text !== "") {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    const method = req.method ?? "GET";
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
    const recorded: RecordedRequest = { method, path: url.pathname, query, contentType: req.headers["content-type"], token, body };
    this.requests.push(recorded);
    const isWatch = query["watch"] === "true";
    const fault = this.faults.find(
      (f) =>
        f.times > 0 &&
        (f.method === undefined || f.method === method) &&
        (f.path === undefined || f.path.test(url.pathname)) &&
        (f.watch === undefined || f.watch === isWatch),
    );
    if (fault !== undefined) {
      fault.times -= 1;
      if (fault.delayMs !== undefined) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.status !== undefined) {
        recorded.faultStatus = fault.status;
        return sendStatus(res, fault.status, `injected fault ${fault.status}`);
      }
    }
    try {
      this.#route(method, url.pathname, query, body, res, recorded.contentType);
    } catch (err) {
      sendStatus(res, 500, String(err));
    }
  }

  #route(method: string, path: string, query: Record<string, string>, body: unknown, res: ServerResponse, contentType?: string): void {
    // /apis/<g>/<v>[/namespaces/<ns>]/<plural>[/<name>[/<sub>]]
    const m = /^(\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (m === null) return sendStatus(res, 404, `no route ${path}`);
    const [, , ns, plural = "", name, sub] = m;
    const bucket = this.#bucket(plural);
    if (name === undefined) {
      if (method === "GET" && query["watch"] === "true") return this.#watch(plural, ns, query, res);
      if (method === "GET") {
        const all = [...bucket.values()].filter(
          (o) => (ns === undefined || o.metadata.namespace === ns) && matchesSelector(o.metadata.labels, query["labelSelector"]),
        );
        // Pagination (limit + continue): the continue token is the offset into the list (a test double's token).
        const limit = query["limit"] === undefined ? 0 : Number(query["limit"]);
        const from = query["continue"] === undefined ? 0 : Number(query["continue"]);
        const items = limit > 0 ? all.slice(from, from + limit) : all;
        const more = limit > 0 && from + limit < all.length;
        const metadata = { resourceVersion: String(this.#rv), ...(more ? { continue: String(from + limit) } : {}) };
        return sendJson(res, 200, { kind: `${RESOURCES[plural]?.kind ?? "Unknown"}List`, metadata, items });
      }
      if (method === "POST") {
        const obj = body as Obj;
        if (plural === "events") {
          obj.metadata = { ...obj.metadata, name: obj.metadata?.name ?? `ev-${this.#rv + 1}`, namespace: ns ?? "" };
        }
        obj.metadata.namespace = ns ?? obj.metadata.namespace;
        if (bucket.has(`${ns ?? ""}/${obj.metadata.name}`)) return sendStatus(res, 409, `${plural} "${obj.metadata.name}" already exists`);
        return sendJson(res, 201, this.put(plural, obj));
      }
      return sendStatus(res, 405, "method not allowed");
    }
    const key = `${ns ?? ""}/${name}`;
    const cur = bucket.get(key);
    if (cur === undefined) return sendStatus(res, 404, `${plural} "${name}" not found`);
    if (method === "GET") {
      if (sub === "scale") return sendJson(res, 200, scaleOf(cur));
      return sendJson(res, 200, cur);
    }
    if (method === "PUT") {
      const obj = body as Obj;
      if (obj.metadata.resourceVersion !== cur.metadata.resourceVersion) {
        return sendStatus(res, 409, `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified`);
      }
      return sendJson(res, 200, this.put(plural, { ...obj, metadata: { ...obj.metadata, namespace: ns ?? "" } }));
    }
    if (method === "PATCH") {
      const patch = body as { metadata?: { resourceVersion?: string }; spec?: unknown; status?: unknown };
      const wantRv = patch.metadata?.resourceVersion;
      if (wantRv !== undefined && wantRv !== cur.metadata.resourceVersion) {
        return sendStatus(res, 409, `Operation cannot be fulfilled on ${plural} "${name}": the object has been modified`);
      }
      if (sub === "scale") {
        const replicas = (patch.spec as { replicas?: number } | undefined)?.replicas;
        const next = structuredClone(cur);
        next.spec = { ...next.spec, replicas };
        const saved = this.put(plural, next);
        if (this.simulateDeploymentController) {
          const st = { ...saved.status, observedGeneration: saved.metadata.generation, replicas, updatedReplicas: replicas };
          return sendJson(res, 200, scaleOf(this.put(plural, { ...saved, status: st })));
        }
        return sendJson(res, 200, scaleOf(saved));
      }
      if (sub === "status") {
        const next = structuredClone(cur);
        next.status = mergePatch(cur.status, patch.status) as Record<string, unknown>;
        return sendJson(res, 200, this.put(plural, next));
      }
      if (contentType === "application/apply-patch+yaml") return this.#apply(plural, cur, body as Obj, query, res);
      const { metadata: _ignored, ...rest } = patch as Record<string, unknown>;
      return sendJson(res, 200, this.put(plural, mergePatch(cur, rest) as Obj));
    }
    return sendStatus(res, 405, "method not allowed");
  }

  /**
   * Server-side apply, the part the controller sends: `apiVersion`, `kind` and a field manager are required (as
   * the API server requires them); `metadata.ownerReferences` merge by uid (a list map); the rest merges as a
   * merge patch would.
   */
  #apply(plural: string, cur: Obj, applied: Obj, query: Record<string, string>, res: ServerResponse): void {
    const a = applied as Obj & { apiVersion?: string; kind?: string };
    if (a.apiVersion === undefined || a.kind === undefined) return sendStatus(res, 400, "apply patch: apiVersion and kind must be set");
    if (query["fieldManager"] === undefined || query["fieldManager"] === "") return sendStatus(res, 400, "apply patch: fieldManager is required");
    const { metadata, apiVersion: _apiVersion, kind: _kind, ...rest } = a as Obj & Record<string, unknown>;
    const next = mergePatch(structuredClone(cur), rest) as Obj;
    const refs = (metadata as { ownerReferences?: { uid: string }[] } | undefined)?.ownerReferences;
    if (refs !== undefined) {
      const have = ((next.metadata as { ownerReferences?: { uid: string }[] }).ownerReferences ?? []).filter((o) => !refs.some((r) => r.uid === o.uid));
      (next.metadata as { ownerReferences?: unknown[] }).ownerReferences = [...have, ...refs];
    }
    return sendJson(res, 200, this.put(plural, next));
  }

  #watch(plural: string, ns: string | undefined, query: Record<string, string>, res: ServerResponse): void {
    const from = Number(query["resourceVersion"] ?? "0");
    res.writeHead(200, { "content-type": "application/json", connection: "close" });
    res.flushHeaders();
    if (from > 0 && from < this.#compactedRv) {
      res.end(`${JSON.stringify({ type: "ERROR", object: goneStatus() })}\n`);
      return;
    }
    const selector = query["labelSelector"];
    for (const e of this.#log) {
      if (e.plural !== plural || e.rv <= from) continue;
      if (ns !== undefined && e.obj.metadata.namespace !== ns) continue;
      if (matchesSelector(e.obj.metadata.labels, selector)) res.write(`${JSON.stringify({ type: e.type, object: e.obj })}\n`);
    }
    const w: Watcher = { plural, selector, res };
    this.#watchers.add(w);
    res.on("close", () => this.#watchers.delete(w));
  }
}

function goneStatus(): object {
  return { kind: "Status", apiVersion: "v1", status: "Failure", message: "too old resource version", reason: "Expired", code: 410 };
}

function scaleOf(d: Obj): object {
  return {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: { name: d.metadata.name, namespace: d.metadata.namespace, resourceVersion: d.metadata.resourceVersion },
    spec: { replicas: (d.spec as { replicas?: number } | undefined)?.replicas ?? 0 },
    status: { replicas: (d.status as { replicas?: number } | undefined)?.replicas ?? 0 },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function sendStatus(res: ServerResponse, code: number, message: string): void {
  const reason = code === 404 ? "NotFound" : code === 409 ? "Conflict" : code === 410 ? "Expired" : code >= 500 ? "InternalError" : "BadRequest";
  sendJson(res, code, { kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code });
}
