/**
 * TEST DOUBLE of the Pulumi engine's side of the analyzer protocol: starts the policy pack the way the Node.js
 * language host does — Pulumi's own runner `@pulumi/pulumi/cmd/run-policy-pack <engine> <pack dir>` in the pack
 * directory, which registers its vendored ts-node, require()s the pack's `main` (policies/main.js → index.ts),
 * and the PolicyPack then serves gRPC on a free loopback port it prints — and calls the pack's real policy
 * server (`@pulumi/policy` 1.21) with pulumirpc.Analyzer requests. The child process is killed by `close()`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { OfflineResource } from "../../policies/offline/run-pack.ts";
import { makeUrn } from "../../policies/offline/run-pack.ts";

// CommonJS modules without type declarations, loaded from the same copies @pulumi/policy uses.
const req = createRequire(createRequire(import.meta.url).resolve("@pulumi/policy"));
/* eslint-disable @typescript-eslint/no-explicit-any */
const grpc = req("@grpc/grpc-js") as any;
const pb = req("@pulumi/pulumi/proto/analyzer_pb") as any;
const rpc = req("@pulumi/pulumi/proto/analyzer_grpc_pb") as any;
const structpb = req("google-protobuf/google/protobuf/struct_pb") as any;
const emptypb = req("google-protobuf/google/protobuf/empty_pb") as any;

const LEVELS = ["advisory", "mandatory", "disabled", "remediate"] as const;

export interface ServerDiagnostic {
  policyName: string;
  enforcementLevel: (typeof LEVELS)[number];
  message: string;
  urn: string;
}

export interface PolicyInfo {
  name: string;
  enforcementLevel: (typeof LEVELS)[number];
  configSchema: unknown;
}

export class AnalyzerHost {
  private readonly child: ChildProcess;
  private readonly client: any;
  private constructor(child: ChildProcess, client: any) {
    this.child = child;
    this.client = client;
  }

  /** Starts the pack in `<root>/policies` with Pulumi's policy-pack runner and connects to it. */
  static async start(root: string): Promise<AnalyzerHost> {
    const packDir = join(root, "policies");
    const runner = createRequire(import.meta.url).resolve("@pulumi/pulumi/cmd/run-policy-pack");
    // The engine address is required by the runner's usage line but unused by a policy pack.
    const child = spawn(process.execPath, [runner, "127.0.0.1:0", packDir], { cwd: packDir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`policy pack did not print its port within 60 s; stderr: ${stderr}`)), 60_000);
      let out = "";
      child.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /^(\d+)\s*$/m.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`policy pack exited with ${code}; stderr: ${stderr}`));
      });
    });
    const client = new rpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    return new AnalyzerHost(child, client);
  }

  private call<T>(method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) => this.client[method](request, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
  }

  /** GetAnalyzerInfo: the pack's name and policies. */
  async info(): Promise<{ name: string; version: string; policies: PolicyInfo[] }> {
    const res = await this.call<any>("getAnalyzerInfo", new emptypb.Empty());
    return {
      name: res.getName(), version: res.getVersion(),
      policies: res.getPoliciesList().map((p: any) => ({
        name: p.getName(), enforcementLevel: LEVELS[p.getEnforcementlevel()], configSchema: p.getConfigschema()?.getProperties()?.toJavaScript(),
      })),
    };
  }

  /** Configure: per-policy config as the CLI sends it from `--policy-pack-config`. */
  async configure(config: Record<string, { enforcementLevel?: (typeof LEVELS)[number] } & Record<string, unknown>>): Promise<void> {
    const request = new pb.ConfigureAnalyzerRequest();
    for (const [name, c] of Object.entries(config)) {
      const { enforcementLevel, ...props } = c;
      const pc = new pb.PolicyConfig();
      pc.setEnforcementlevel(LEVELS.indexOf(enforcementLevel ?? "mandatory"));
      pc.setProperties(structpb.Struct.fromJavaScript(props));
      request.getPolicyconfigMap().set(name, pc);
    }
    await this.call("configure", request);
  }

  /** Analyze: one resource's inputs, before it is created or updated. */
  async analyze(r: OfflineResource): Promise<ServerDiagnostic[]> {
    const request = new pb.AnalyzeRequest();
    request.setType(r.type);
    request.setName(r.name);
    request.setUrn(r.urn ?? makeUrn(r.type, r.name));
    request.setProperties(structpb.Struct.fromJavaScript(r.props));
    request.setOptions(options(r));
    return diagnostics(await this.call("analyze", request));
  }

  /** AnalyzeStack: every resource of the stack, after registration. */
  async analyzeStack(resources: readonly OfflineResource[]): Promise<ServerDiagnostic[]> {
    const request = new pb.AnalyzeStackRequest();
    request.setResourcesList(resources.map((r) => {
      const ar = new pb.AnalyzerResource();
      ar.setType(r.type);
      ar.setName(r.name);
      ar.setUrn(r.urn ?? makeUrn(r.type, r.name));
      ar.setProperties(structpb.Struct.fromJavaScript(r.props));
      ar.setOptions(options(r));
      if (r.parent !== undefined) ar.setParent(r.parent);
      ar.setDependenciesList([...(r.dependencies ?? [])]);
      return ar;
    }));
    return diagnostics(await this.call("analyzeStack", request));
  }

  /** Closes the connection and kills the pack process. */
  async close(): Promise<void> {
    this.client.close();
    if (this.child.exitCode === null) {
      const exited = new Promise((r) => this.child.once("exit", r));
      this.child.kill("SIGTERM");
      await exited;
    }
  }
}

function options(r: OfflineResource): unknown {
  const o = new pb.AnalyzerResourceOptions();
  o.setProtect(false);
  if (r.parent !== undefined) o.setParent(r.parent);
  return o;
}

function diagnostics(res: any): ServerDiagnostic[] {
  return res.getDiagnosticsList().map((d: any) => ({
    policyName: d.getPolicyname(), enforcementLevel: LEVELS[d.getEnforcementlevel()], message: d.getMessage(), urn: d.getUrn(),
  }));
}
