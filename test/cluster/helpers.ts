/**
 * Shared helpers of the cluster tests: one real control plane per test file (tools/control-plane/cluster.ts:
 * etcd + the kube-apiserver built from Go modules, optionally kube-controller-manager, kube-scheduler and kwok),
 * polling, and the Status messages the API server answers.
 */
import { after, before } from "node:test";
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from "../../tools/control-plane/cluster.ts";
import type { KubeResponse, KubeRest } from "../../tools/control-plane/kube-rest.ts";

/**
 * Starts a control plane before the file's tests and stops it after them. The returned getter throws when used
 * before `before` ran.
 */
export function useControlPlane(opts: ControlPlaneOptions = {}): () => ControlPlane {
  let cp: ControlPlane | undefined;
  before(async () => {
    cp = await startControlPlane({ ...opts, log: (l) => process.stderr.write(`control-plane: ${l}\n`) });
  });
  after(async () => {
    await cp?.stop();
  });
  return () => {
    if (cp === undefined) throw new Error("control plane not started");
    return cp;
  };
}

/** Polls `cond` every 200 ms (real time) until it returns a value that is not undefined/false. */
export async function eventually<T>(cond: () => Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const start = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const v = await cond();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface StatusBody {
  readonly kind?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly details?: { readonly causes?: readonly { readonly field?: string; readonly message?: string }[] };
}

/** The field errors of a 422 Status, as `field: message` (the shape `kubectl` prints and our validator writes). */
export function statusCauses(res: KubeResponse): string[] {
  const body = res.body as StatusBody;
  return (body.details?.causes ?? []).map((c) => (c.field ? `${c.field}: ${c.message ?? ""}` : (c.message ?? "")));
}

/** Creates a namespace (idempotent). */
export async function ensureNamespace(api: KubeRest, name: string): Promise<void> {
  await api.mustApply({ apiVersion: "v1", kind: "Namespace", metadata: { name } });
}

/** Waits for a CRD to be Established (its API served). */
export async function waitEstablished(api: KubeRest, name: string): Promise<void> {
  await eventually(
    async () => {
      const crd = await api.get<{ status?: { conditions?: { type: string; status: string }[] } }>(`/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
    },
    30_000,
    `CRD ${name} Established`,
  );
}
