/**
 * What `test/cluster/pulumi-up.test.ts` runs the local stack with besides the real engine: the stack files of the
 * no-remote-chart local configuration (docs/infra.md "local, no remote chart": an external S3-compatible store,
 * observability and metrics-server off, the gateway certificate from config), a gateway certificate made with
 * openssl, and a load-balancer TEST DOUBLE standing in for cloud-provider-kind (it writes an address into the
 * status of every `LoadBalancer` Service, which is what the provider's Service await logic waits for).
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import type { KubeRest } from "../../tools/control-plane/kube-rest.ts";

const PROJECT = "autopilot-serving";

/** The stack's plain (not secret) keys for the no-remote-chart local mode, on top of the committed Pulumi.local.yaml. */
export interface NoRemoteChartConfig {
  readonly kubeContext: string;
  readonly storeUrl: string;
  readonly storeAccessKeyId: string;
  readonly gatewayTlsCert: string;
}

/** The committed `Pulumi.local.yaml`, switched to the no-remote-chart mode (the `pulumi config set` lines of docs/infra.md). */
export function noRemoteChartStackFile(committed: string, cfg: NoRemoteChartConfig): string {
  const file = YAML.parse(committed) as { config: Record<string, unknown> };
  const set = (k: string, v: unknown) => void (file.config[`${PROJECT}:${k}`] = v);
  set("kubeContext", cfg.kubeContext);
  set("localModelStore", "external");
  set("localModelStoreUrl", cfg.storeUrl);
  set("localModelStoreAccessKeyId", cfg.storeAccessKeyId);
  // The gateway's payload-log writer key (an example endpoint logs payloads); moto accepts any key pair.
  set("localPayloadLogAccessKeyId", cfg.storeAccessKeyId);
  // The key `pulumi up` publishes the example models with (this machine's write access to the store).
  set("modelPublishAccessKeyId", cfg.storeAccessKeyId);
  set("observability", false);
  set("metricsServer", false);
  // Serving images built ahead (no Docker engine here; kwok runs no containers, so nothing pulls them).
  set("servingImageRepository", "registry.example.com/autopilot/model-serving");
  set("gatewayTlsCert", cfg.gatewayTlsCert);
  return YAML.stringify(file);
}

/** A self-signed ECDSA P-256 certificate and its key (PEM) for `host`, made by openssl. */
export function selfSignedCertificate(host: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "autopilot-gateway-cert-"));
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30",
      "-subj", `/CN=${host}`, "-addext", `subjectAltName=DNS:${host}`,
      "-keyout", join(dir, "tls.key"), "-out", join(dir, "tls.crt"),
    ], { stdio: ["ignore", "ignore", "pipe"] });
    return { cert: readFileSync(join(dir, "tls.crt"), "utf8"), key: readFileSync(join(dir, "tls.key"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ServiceList {
  readonly items: readonly {
    readonly metadata: { readonly name: string; readonly namespace: string };
    readonly spec: { readonly type?: string };
    readonly status?: { readonly loadBalancer?: { readonly ingress?: readonly unknown[] } };
  }[];
}

/**
 * Load-balancer TEST DOUBLE (what cloud-provider-kind does on kind): every `LoadBalancer` Service without an
 * address gets `address` in `status.loadBalancer.ingress`, polled every `intervalMs`.
 */
export class LoadBalancerDouble {
  readonly #api: KubeRest;
  readonly #address: string;
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  /** `namespace/name` of each Service given an address. */
  readonly assigned: string[] = [];

  constructor(api: KubeRest, address: string, intervalMs = 500) {
    this.#api = api;
    this.#address = address;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#timer = setInterval(() => void this.#tick(), this.#intervalMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const list = await this.#api.get<ServiceList>("/api/v1/services");
      for (const s of list.items) {
        if (s.spec.type !== "LoadBalancer" || (s.status?.loadBalancer?.ingress ?? []).length > 0) continue;
        const res = await this.#api.request("PATCH", `/api/v1/namespaces/${s.metadata.namespace}/services/${s.metadata.name}/status`,
          { status: { loadBalancer: { ingress: [{ ip: this.#address, ipMode: "VIP" }] } } }, "application/merge-patch+json");
        if (res.status === 200) this.assigned.push(`${s.metadata.namespace}/${s.metadata.name}`);
      }
    } catch {
      // the API server is busy or stopping: next tick
    } finally {
      this.#busy = false;
    }
  }
}
