/**
 * A small REST client for the test control plane: bearer token, the API server's CA, JSON bodies, and
 * server-side apply of any object through discovery (kind → resource, namespaced or not). Plain `node:https`
 * because the tests need the raw status codes and `Status` bodies the API server answers, exactly as sent.
 */
import { request as httpsRequest } from "node:https";

export interface KubeResponse {
  readonly status: number;
  /** Parsed JSON, or the text when it is not JSON. */
  readonly body: unknown;
  /** The texts of the `Warning` headers (deprecations, PodSecurity warnings, unknown fields under Warn). */
  readonly warnings: readonly string[];
}

/** A Kubernetes object as sent: apiVersion, kind, metadata and the rest. */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

interface ResourceInfo {
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface ApplyOptions {
  /** `dryRun=All`: validated and admitted, not persisted. @default false */
  readonly dryRun?: boolean;
  /** @default "autopilot-test" */
  readonly fieldManager?: string;
}

export class KubeRest {
  readonly #discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  readonly server: string;
  readonly caPem: string;
  readonly token: string;

  constructor(server: string, caPem: string, token: string) {
    this.server = server;
    this.caPem = caPem;
    this.token = token;
  }

  /**
   * One request; `body` is sent as JSON unless `contentType` says otherwise (a string body is sent as is);
   * `accept` replaces `application/json` (e.g. the Table form kubectl asks for).
   */
  request(method: string, path: string, body?: unknown, contentType = "application/json", accept = "application/json"): Promise<KubeResponse> {
    const url = new URL(path, this.server);
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        url,
        {
          method,
          ca: this.caPem,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept,
            ...(payload === undefined ? {} : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
          },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON (e.g. /readyz answers "ok")
            }
            const header = res.headers["warning"];
            const warnings = (header === undefined ? [] : Array.isArray(header) ? header : [header]).map((w) => w.replace(/^\d+ \S+ "(.*)"$/, "$1"));
            resolve({ status: res.statusCode ?? 0, body: parsed, warnings });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** Resource name and scope of `kind` in `apiVersion`, from the server's discovery (cached per group version). */
  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let p = this.#discovery.get(apiVersion);
    if (p === undefined) {
      p = (async () => {
        const res = await this.request("GET", apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`);
        if (res.status !== 200) throw new Error(`discovery of ${apiVersion}: HTTP ${res.status}`);
        const list = res.body as { resources: { name: string; kind: string; namespaced: boolean }[] };
        return new Map(list.resources.filter((r) => !r.name.includes("/")).map((r) => [r.kind, { plural: r.name, namespaced: r.namespaced }]));
      })();
      this.#discovery.set(apiVersion, p);
      p.catch(() => this.#discovery.delete(apiVersion));
    }
    const info = (await p).get(kind);
    if (info === undefined) throw new Error(`the server has no kind ${kind} in ${apiVersion}`);
    return info;
  }

  /** Path of an object (or of its collection when `name` is omitted). */
  async path(apiVersion: string, kind: string, namespace: string | undefined, name?: string): Promise<string> {
    const info = await this.resource(apiVersion, kind);
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const ns = info.namespaced ? `/namespaces/${namespace ?? "default"}` : "";
    return `${base}${ns}/${info.plural}${name === undefined ? "" : `/${name}`}`;
  }

  /** Server-side apply (force, one field manager). */
  async apply(obj: KubeObject, opts: ApplyOptions = {}): Promise<KubeResponse> {
    const path = await this.path(obj.apiVersion, obj.kind, obj.metadata.namespace, obj.metadata.name);
    const query = new URLSearchParams({ fieldManager: opts.fieldManager ?? "autopilot-test", force: "true" });
    if (opts.dryRun === true) query.set("dryRun", "All");
    return await this.request("PATCH", `${path}?${query}`, obj, "application/apply-patch+yaml");
  }

  /** GET that must answer 200. */
  async get<T = Record<string, unknown>>(path: string): Promise<T> {
    const res = await this.request("GET", path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as T;
  }

  /** Apply that must succeed (200 or 201); the error names the object and the server's message. */
  async mustApply(obj: KubeObject, opts: ApplyOptions = {}): Promise<Record<string, unknown>> {
    const res = await this.apply(obj, opts);
    if (res.status !== 200 && res.status !== 201) {
      const msg = (res.body as { message?: string } | undefined)?.message ?? JSON.stringify(res.body);
      throw new Error(`apply ${obj.kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}: HTTP ${res.status}: ${msg}`);
    }
    return res.body as Record<string, unknown>;
  }
}
