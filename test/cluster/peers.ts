/**
 * What the cluster tests run against the real control plane: the real APA controller as a process
 * (`controller/src/kube/main.ts`, its JSON log parsed), a gateway TEST DOUBLE serving HAProxy promex pages over
 * HTTP on 127.0.0.1 (the shapes of a captured real page; load set by the test), kwok nodes, and the rendered
 * objects of a stack applied for real.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type Server } from "node:http";
import { fileURLToPath } from "node:url";
import { renderBackendPage } from "../../bench/controller/promex-page.ts";
import { backendName } from "../../controller/src/gateway/render-backend.ts";
import type { KubeObject, KubeRest } from "../../tools/control-plane/kube-rest.ts";
import { eventually } from "./helpers.ts";

const MAIN = fileURLToPath(new URL("../../controller/src/kube/main.ts", import.meta.url));

/** Gateway test double: one replica's `/metrics?scope=backend` page; requests counters advance in real time. */
export class GatewayDouble {
  readonly #load = new Map<string, { inFlight: number; queued: number; serviceMs: number }>();
  readonly #requests = new Map<string, number>();
  #lastMs = Date.now();
  #server: Server | undefined;
  url = "";

  /** Steady load on an endpoint: `inFlight` requests at its pods, each taking `serviceMs`. */
  set(endpoint: string, inFlight: number, queued = 0, serviceMs = 100): void {
    this.#advance();
    this.#load.set(endpoint, { inFlight, queued, serviceMs });
  }

  #advance(): void {
    const now = Date.now();
    const seconds = (now - this.#lastMs) / 1000;
    this.#lastMs = now;
    for (const [e, l] of this.#load) this.#requests.set(e, (this.#requests.get(e) ?? 0) + ((l.inFlight * 1000) / l.serviceMs) * seconds);
  }

  page(): string {
    this.#advance();
    return renderBackendPage(
      [...this.#load].map(([e, l]) => {
        const total = Math.floor(this.#requests.get(e) ?? 0);
        return { proxy: backendName(e), currentSessions: l.inFlight + l.queued, currentQueue: l.queued, requestsTotal: total, responses2xxTotal: total, totalTimeAvgS: l.serviceMs / 1000, queueTimeAvgS: 0 };
      }),
    );
  }

  async start(): Promise<void> {
    this.#server = createServer((_req, res) => {
      res.setHeader("content-type", "text/plain; version=0.0.4");
      res.end(this.page());
    });
    await new Promise<void>((r) => this.#server!.listen(0, "127.0.0.1", r));
    const addr = this.#server.address();
    this.url = `http://127.0.0.1:${typeof addr === "object" && addr !== null ? addr.port : 0}/metrics?scope=backend`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.#server?.close(r));
  }
}

/** One controller process. */
export class ControllerProcess {
  readonly identity: string;
  readonly logs: Record<string, unknown>[] = [];
  readonly #child: ChildProcess;
  #exited = false;

  constructor(identity: string, kubeconfig: string, args: readonly string[]) {
    this.identity = identity;
    const env: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig };
    delete env["POD_NAMESPACE"];
    delete env["POD_NAME"];
    this.#child = spawn(process.execPath, [MAIN, "--identity", identity, "--port", "0", ...args], {
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let buf = "";
    const onData = (chunk: Buffer) => {
      buf += chunk.toString("utf8");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.logs.push({ msg: line });
        }
      }
    };
    this.#child.stdout!.on("data", onData);
    this.#child.stderr!.on("data", onData);
    this.#child.once("exit", () => void (this.#exited = true));
    process.once("exit", () => this.#child.kill("SIGKILL"));
  }

  get exited(): boolean {
    return this.#exited;
  }

  logged(msg: string): boolean {
    return this.logs.some((l) => l["msg"] === msg);
  }

  /** Log lines at warn or error (for a failure message). */
  problems(): string {
    return this.logs.filter((l) => l["level"] === "warn" || l["level"] === "error").map((l) => JSON.stringify(l)).slice(-10).join("\n");
  }

  /** SIGKILL (a crash) or SIGTERM (a graceful stop); resolves when the process is gone. */
  async stop(signal: "SIGKILL" | "SIGTERM"): Promise<void> {
    if (!this.#exited) this.#child.kill(signal);
    await eventually(async () => this.#exited, 15_000, `controller ${this.identity} to exit`);
  }
}

/** A kwok node: labels and taints as given; capacity for a few pods of any pool. */
export function kwokNode(name: string, labels: Readonly<Record<string, string>>, taints: readonly { key: string; value?: string; effect: string }[] = [], capacity: Readonly<Record<string, string>> = {}): KubeObject {
  const cap = { cpu: "32", memory: "256Gi", pods: "110", ...capacity };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: { "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", type: "kwok", ...labels },
    },
    spec: { taints: taints.map((t) => ({ ...t })) },
    status: { capacity: cap, allocatable: cap },
  };
}

/** Applies objects for real (server-side apply as the Pulumi provider's field manager). */
export async function applyAll(api: KubeRest, objs: readonly KubeObject[]): Promise<void> {
  for (const o of objs) await api.mustApply(o, { fieldManager: "pulumi-kubernetes" });
}
