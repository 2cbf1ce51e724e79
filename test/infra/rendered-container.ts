/**
 * Takes one container of a rendered workload (Deployment, DaemonSet, Job) and turns it into a sandbox run: the
 * command and args exactly as rendered, the env with secret references resolved from the rendered Secrets, the
 * effective user/group/capabilities of the pod and container securityContexts, and a host directory for each of
 * its volume mounts (the test says which directory stands for which volume).
 */
import type { ContainerRun, Mount } from "./pod-sandbox.ts";
import type { Obj } from "./helpers.ts";

/** The PATH container images set (the aws-cli, gcloud and mc images all use the standard one). */
export const IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface RenderedContainer {
  readonly pod: Obj;
  readonly container: Obj;
}

/** The pod spec and the named (init) container of a workload object. */
export function containerOf(obj: Obj, name: string): RenderedContainer {
  const pod = obj.spec.template.spec as Obj;
  const container = [...(pod.initContainers ?? []), ...pod.containers].find((c: Obj) => c.name === name);
  if (container === undefined) throw new Error(`${obj.kind} ${obj.metadata.name} has no container ${name}`);
  return { pod, container };
}

/** The container's env: literal values, secretKeyRef from `secrets` (name → key → value). */
export function resolveEnv(container: Obj, secrets: Readonly<Record<string, Readonly<Record<string, string>>>>): Record<string, string> {
  const env: Record<string, string> = { PATH: IMAGE_PATH };
  for (const e of (container.env ?? []) as Obj[]) {
    if (typeof e.value === "string") env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef !== undefined) {
      const { name, key } = e.valueFrom.secretKeyRef as { name: string; key: string };
      const v = secrets[name]?.[key];
      if (v === undefined) throw new Error(`env ${e.name}: secret ${name}/${key} is not rendered`);
      env[e.name] = v;
    } else throw new Error(`env ${e.name}: unsupported source ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

/** The run for `rc`, with `volumes` mapping each mounted volume name to a host directory. */
export function sandboxRun(rc: RenderedContainer, env: Record<string, string>, volumes: Readonly<Record<string, string>>, extra: Partial<ContainerRun> = {}): ContainerRun {
  const podSc = (rc.pod.securityContext ?? {}) as Obj;
  const sc = (rc.container.securityContext ?? {}) as Obj;
  const uid = (sc.runAsUser ?? podSc.runAsUser) as number | undefined;
  if (uid === undefined) throw new Error(`container ${rc.container.name}: no runAsUser (the image's user would apply; give one)`);
  const gid = (sc.runAsGroup ?? podSc.runAsGroup ?? uid) as number;
  const drop = (sc.capabilities?.drop ?? []) as string[];
  if (!drop.includes("ALL")) throw new Error(`container ${rc.container.name}: capabilities are not dropped`);
  const mounts: Mount[] = ((rc.container.volumeMounts ?? []) as Obj[]).map((m) => {
    const hostDir = volumes[m.name];
    if (hostDir === undefined) throw new Error(`volume ${m.name} has no directory in the test`);
    return { path: m.mountPath, hostDir, readOnly: m.readOnly === true };
  });
  return {
    argv: [...(rc.container.command ?? []), ...(rc.container.args ?? [])],
    env, uid, gid,
    groups: podSc.fsGroup !== undefined ? [podSc.fsGroup as number] : [],
    capabilities: ((sc.capabilities?.add ?? []) as string[]).map((c) => c.toLowerCase()),
    readOnlyRoot: sc.readOnlyRootFilesystem === true,
    mounts,
    ...extra,
  };
}
