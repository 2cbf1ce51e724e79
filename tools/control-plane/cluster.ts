/**
 * A real Kubernetes control plane on 127.0.0.1 for tests and local use: etcd (Debian's `etcd-server`, or
 * `AUTOPILOT_ETCD`) and the kube-apiserver built by tools/control-plane/build.ts, with RBAC authorization,
 * static-token authentication for the admin (group system:masters) and ServiceAccount tokens (TokenRequest)
 * for everyone else. With `nodes: true` it adds kube-controller-manager, kube-scheduler and kwok (simulated
 * nodes and pod lifecycle: Deployments → ReplicaSets → Pods scheduled onto kwok nodes that become Ready).
 * Every port is picked free at start, so parallel runs do not collide; everything lives in one directory
 * (certificates, etcd data, logs, kubeconfigs), removed on stop unless it was given.
 *
 *   node tools/control-plane/cluster.ts start [--nodes] [--dir DIR]   start, print the admin kubeconfig path; stays up until SIGINT/SIGTERM
 *   node tools/control-plane/cluster.ts --help
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { binary, requireControlPlane } from "./build.ts";
import { KubeRest } from "./kube-rest.ts";

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager, kube-scheduler and kwok. @default false */
  readonly nodes?: boolean;
  /** Working directory, kept on stop. @default a fresh directory under the OS temp dir, removed on stop */
  readonly dir?: string;
  /** The etcd binary. @default `AUTOPILOT_ETCD`, else `etcd` on PATH (Debian: apt-get install etcd-server) */
  readonly etcd?: string;
  /** Progress lines. @default none */
  readonly log?: (line: string) => void;
  /** How long each component may take to become ready. @default 120000 (a loaded 2-core machine) */
  readonly readyTimeoutMs?: number;
}

export interface ControlPlane {
  /** `https://127.0.0.1:PORT` of the kube-apiserver. */
  readonly server: string;
  readonly dir: string;
  /** The admin kubeconfig (static token, group system:masters). */
  readonly kubeconfigPath: string;
  /** PEM of the CA that signed the API server's serving certificate. */
  readonly caPem: string;
  /** REST client as the admin. */
  readonly admin: KubeRest;
  /** REST client with another bearer token (e.g. a ServiceAccount's, from `serviceAccountToken`). */
  clientFor(token: string): KubeRest;
  /** Writes a kubeconfig for `token` into the directory and returns its path. */
  writeKubeconfig(token: string, name: string): string;
  /** A real bound ServiceAccount token (TokenRequest API, `expirationSeconds` 3600). */
  serviceAccountToken(namespace: string, name: string): Promise<string>;
  /** The log file of a component (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok). */
  logFile(component: string): string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound and released; the component binds it right after). */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function kubeconfigYaml(server: string, caPem: string, token: string, user: string): string {
  const ca = Buffer.from(caPem).toString("base64");
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: autopilot-test",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    "users:",
    `- name: ${user}`,
    "  user:",
    `    token: ${token}`,
    "contexts:",
    "- name: autopilot-test",
    "  context:",
    "    cluster: autopilot-test",
    `    user: ${user}`,
    "current-context: autopilot-test",
    "",
  ].join("\n");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Running {
  readonly name: string;
  readonly child: ChildProcess;
  exited: boolean;
}

/** Starts the control plane; resolves once the API server (and, with nodes, every component) is ready. */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  requireControlPlane();
  const log = opts.log ?? (() => {});
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "autopilot-cp-"));
  mkdirSync(join(dir, "pki"), { recursive: true });
  const etcdBin = opts.etcd ?? process.env["AUTOPILOT_ETCD"] ?? "etcd";
  if (spawnSync(etcdBin, ["--version"], { encoding: "utf8" }).status !== 0) {
    throw new Error(`etcd not found (${etcdBin}): Debian: apt-get install etcd-server; or set AUTOPILOT_ETCD to an etcd binary`);
  }

  const running: Running[] = [];
  const logFile = (name: string) => join(dir, `${name}.log`);
  const start = (name: string, cmd: string, args: readonly string[]): Running => {
    const fd = openSync(logFile(name), "a");
    const child = spawn(cmd, args, { stdio: ["ignore", fd, fd], cwd: dir, env: { ...process.env, HOME: dir } });
    closeSync(fd);
    const r: Running = { name, child, exited: false };
    child.once("exit", () => void (r.exited = true));
    running.push(r);
    return r;
  };
  const killAll = () => {
    for (const r of running) if (!r.exited) r.child.kill("SIGKILL");
  };
  process.once("exit", killAll);

  const stop = async (): Promise<void> => {
    for (const r of [...running].reverse()) {
      if (r.exited) continue;
      r.child.kill("SIGTERM");
      const deadline = Date.now() + 10_000;
      while (!r.exited && Date.now() < deadline) await sleep(50);
      if (!r.exited) r.child.kill("SIGKILL");
      while (!r.exited) await sleep(20);
    }
    process.removeListener("exit", killAll);
    if (ownDir) rmSync(dir, { recursive: true, force: true });
  };
  const tail = (name: string) => {
    try {
      return readFileSync(logFile(name), "utf8").split("\n").slice(-30).join("\n");
    } catch {
      return "(no log)";
    }
  };
  const waitUntil = async (name: string, proc: Running, ready: () => Promise<boolean>): Promise<void> => {
    const started = Date.now();
    for (;;) {
      if (proc.exited) throw new Error(`${name} exited during start-up (exit ${proc.child.exitCode}); last lines of ${logFile(name)}:\n${tail(name)}`);
      if (await ready().catch(() => false)) return;
      if (Date.now() - started > readyTimeoutMs) throw new Error(`${name} not ready after ${readyTimeoutMs} ms; last lines of ${logFile(name)}:\n${tail(name)}`);
      await sleep(250);
    }
  };

  try {
    // etcd. Its ports are found free and then bound by etcd, so another process may take one in between (test
    // files start control planes in parallel): on "address already in use" it starts again on new ports.
    let etcdUrl = "";
    for (let attempt = 1; ; attempt++) {
      const [etcdPort, peerPort] = [await freePort(), await freePort()];
      etcdUrl = `http://127.0.0.1:${etcdPort}`;
      const peerUrl = `http://127.0.0.1:${peerPort}`;
      rmSync(join(dir, "etcd"), { recursive: true, force: true });
      writeFileSync(logFile("etcd"), "");
      const etcd = start("etcd", etcdBin, [
        "--name=autopilot",
        `--data-dir=${join(dir, "etcd")}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=autopilot=${peerUrl}`,
        "--log-level=warn",
      ]);
      try {
        await waitUntil("etcd", etcd, async () => (await fetch(`${etcdUrl}/health`)).ok);
        break;
      } catch (e) {
        if (attempt >= 3 || !/address already in use/.test((e as Error).message)) throw e;
        log(`etcd: a port was taken before etcd bound it; starting again on new ports (attempt ${attempt + 1})`);
      }
    }
    const apiPort = await freePort();
    log(`etcd ready on ${etcdUrl}`);

    // kube-apiserver: its own self-signed serving certificate (cert-dir), a static admin token, SA keys.
    const adminToken = randomBytes(24).toString("hex");
    writeFileSync(join(dir, "tokens.csv"), `${adminToken},autopilot-admin,autopilot-admin,"system:masters"\n`, { mode: 0o600 });
    const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(join(dir, "pki", "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
    writeFileSync(join(dir, "pki", "sa.key"), privateKey.export({ type: "pkcs1", format: "pem" }), { mode: 0o600 });
    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = start("kube-apiserver", binary("kube-apiserver"), [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, "pki")}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${join(dir, "pki", "sa.pub")}`,
      `--service-account-signing-key-file=${join(dir, "pki", "sa.key")}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      "--allow-privileged=true",
      // The kubernetes Service's Endpoints would point at 127.0.0.1, which Endpoints validation refuses.
      "--endpoint-reconciler-type=none",
      "--profiling=false",
      "--v=0",
    ]);
    const certFile = join(dir, "pki", "apiserver.crt");
    let admin: KubeRest | undefined;
    await waitUntil("kube-apiserver", apiserver, async () => {
      if (!existsSync(certFile)) return false;
      admin ??= new KubeRest(server, readFileSync(certFile, "utf8"), adminToken);
      return (await admin.request("GET", "/readyz")).status === 200;
    });
    const caPem = readFileSync(certFile, "utf8");
    const adminClient = admin!;
    const kubeconfigPath = join(dir, "admin.kubeconfig");
    writeFileSync(kubeconfigPath, kubeconfigYaml(server, caPem, adminToken, "autopilot-admin"), { mode: 0o600 });
    log(`kube-apiserver ready on ${server}`);

    if (opts.nodes === true) {
      const kcm = start("kube-controller-manager", binary("kube-controller-manager"), [
        `--kubeconfig=${kubeconfigPath}`,
        "--leader-elect=false",
        "--secure-port=0",
        `--service-account-private-key-file=${join(dir, "pki", "sa.key")}`,
        `--root-ca-file=${certFile}`,
        "--controllers=*",
        "--v=0",
      ]);
      const scheduler = start("kube-scheduler", binary("kube-scheduler"), [`--kubeconfig=${kubeconfigPath}`, "--leader-elect=false", "--secure-port=0", "--v=0"]);
      const stages = spawnSync(binary("kwok"), ["default-stages"], { encoding: "utf8" });
      if (stages.status !== 0) throw new Error(`kwok default-stages failed: ${stages.stderr}`);
      writeFileSync(join(dir, "kwok.yaml"), stages.stdout);
      const kwok = start("kwok", binary("kwok"), [
        `--kubeconfig=${kubeconfigPath}`,
        `--config=${join(dir, "kwok.yaml")}`,
        "--manage-all-nodes=false",
        "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
        "--cidr=10.244.0.0/16",
        "--node-ip=10.0.0.1",
        "--node-lease-duration-seconds=40",
      ]);
      // Ready when the controller-manager's serviceaccount controller has made the default ServiceAccount and
      // kwok watches nodes; the scheduler (no serving port) only has to be still running by then.
      await waitUntil("kube-controller-manager", kcm, async () => (await adminClient.request("GET", "/api/v1/namespaces/default/serviceaccounts/default")).status === 200);
      await waitUntil("kwok", kwok, async () => /Watch nodes/.test(readFileSync(logFile("kwok"), "utf8")));
      await waitUntil("kube-scheduler", scheduler, async () => true);
      log("kube-controller-manager, kube-scheduler and kwok running");
    }

    const writeKubeconfig = (token: string, name: string): string => {
      const path = join(dir, `${name}.kubeconfig`);
      writeFileSync(path, kubeconfigYaml(server, caPem, token, name), { mode: 0o600 });
      return path;
    };
    return {
      server,
      dir,
      kubeconfigPath,
      caPem,
      admin: adminClient,
      clientFor: (token) => new KubeRest(server, caPem, token),
      writeKubeconfig,
      serviceAccountToken: async (namespace, name) => {
        const res = await adminClient.request("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: { expirationSeconds: 3600 },
        });
        if (res.status !== 201) throw new Error(`TokenRequest for ${namespace}/${name}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
        return (res.body as { status: { token: string } }).status.token;
      },
      logFile,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args[0] !== "start") {
    console.log(
      [
        "usage: node tools/control-plane/cluster.ts start [--nodes] [--dir DIR]",
        "  starts etcd + kube-apiserver (RBAC, token auth) on 127.0.0.1, with --nodes also kube-controller-manager,",
        "  kube-scheduler and kwok; prints the admin kubeconfig path and runs until SIGINT/SIGTERM, then stops everything.",
        "  Build first: node tools/setup.ts.",
      ].join("\n"),
    );
    process.exit(args.includes("--help") ? 0 : 2);
  }
  const dirAt = args.indexOf("--dir");
  const cp = await startControlPlane({
    nodes: args.includes("--nodes"),
    ...(dirAt >= 0 && args[dirAt + 1] !== undefined ? { dir: args[dirAt + 1] } : {}),
    log: (l) => console.error(l),
  });
  console.log(cp.kubeconfigPath);
  const shutdown = () => void cp.stop().then(() => process.exit(0));
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}
