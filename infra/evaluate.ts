/**
 * Offline evaluation: runs the Pulumi program under Pulumi's mocks (a TEST DOUBLE of the engine, see
 * mock-monitor.ts) with a stack's config from `Pulumi.<stack>.yaml`, and returns every registered resource
 * with its inputs and options. No cloud, cluster or Pulumi CLI involved; importable and silent (the POLICIES
 * area builds `npm run check` on it).
 *
 * Several stacks per process: each evaluation runs in its own Pulumi runtime store (the same AsyncLocalStorage
 * isolation the Automation API uses for inline programs), so config, monitor and stack resource never leak
 * between evaluations, and evaluations may even overlap.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as state from "@pulumi/pulumi/runtime/state.js";
import type { EndpointDeclaration, ResolvedEndpoint } from "../components/endpoint-types.ts";
import { CONFIG_SCHEMA, PROJECT } from "./config-schema.ts";
import type { EndpointContext } from "./endpoints.ts";
import { CHART_FACTS, type ChartKey, chartWorkloadObjects } from "../components/charts/chart-facts.ts";
import { type RegisteredResource, RecordingMonitor } from "./mock-monitor.ts";
import { fetchContext, prepareStack, readStackConfig, REPO_ROOT, runProgram } from "./program.ts";
import type { FetchContext } from "../components/model/sources/fetch-model.ts";
import { offlineStore } from "./mock-model-store.ts";
import { applyProjectConfig, parseProjectFile, parseStackFile, type ProgramConfig } from "./pulumi-config-rules.ts";

export type { RegisteredResource };

/** Result of one offline evaluation. */
export interface StackEvaluation {
  readonly stack: string;
  /** The raw config the program saw (`autopilot-serving:<key>` → string). */
  readonly config: Readonly<Record<string, string>>;
  /** Every registered resource in registration order, the stack resource first. */
  readonly resources: readonly RegisteredResource[];
  /** Stack outputs (gatewayUrl, grafanaUrl, endpointUrls) as resolved under mocks. */
  readonly outputs: Readonly<Record<string, unknown>>;
}

export interface EvaluateOptions {
  /** Config values to set or replace (`key` or `autopilot-serving:key` → string). */
  readonly overrides?: Readonly<Record<string, string>>;
  /** Replaces infra/endpoints.ts's endpoint list (tests, benchmark). */
  readonly declare?: (ctx: EndpointContext) => EndpointDeclaration[];
  /** How model references are fetched (a test's registry or cache). @default the stack's (fetchContext), with
   * `s3://`/`gs://` sources read from the offline test double (infra/mock-model-store.ts) */
  readonly fetch?: FetchContext;
  /** Edits the resolved endpoints before planning (tests that render exact versions and digests). */
  readonly editResolved?: (resolved: ResolvedEndpoint[]) => ResolvedEndpoint[];
  /** Directory holding Pulumi.<stack>.yaml. @default the repository root */
  readonly dir?: string;
  /** Run as a preview (unknown outputs). @default false */
  readonly preview?: boolean;
  /**
   * Also list the workloads inside each Helm chart, as children of the chart — what a real preview registers (the
   * v4 Chart renders the chart) and the policy pack then sees. They come from components/charts/chart-facts.ts, a
   * TEST DOUBLE of `helm template` (the charts cannot be fetched here); each is marked `fromChartFacts`.
   * @default false
   */
  readonly chartObjects?: boolean;
}

/** Reads `Pulumi.yaml` and `Pulumi.<stack>.yaml`, applies the Pulumi CLI's config rules (types, lists, secrets,
 * defaults; infra/pulumi-config-rules.ts) and returns the config map the CLI would hand the program.
 * `overrides` act like `pulumi config set` (a JSON list or object becomes an object value, as a YAML list in the
 * stack file would; a key the schema marks secret is set as `--secret`). Secure values from the file cannot be
 * decrypted offline: pass them in `overrides`. */
export function readStackConfigFile(stack: string, dir = REPO_ROOT, overrides: Readonly<Record<string, string>> = {}): ProgramConfig {
  const file = path.join(dir, `Pulumi.${stack}.yaml`);
  if (!existsSync(file)) {
    const stacks = readdirSync(dir).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => s !== undefined).sort();
    throw new Error(`stack "${stack}": no Pulumi.${stack}.yaml in ${dir}; stacks there: ${stacks.join(", ") || "none"} (a new stack: pulumi stack init ${stack}, then its config in Pulumi.${stack}.yaml)`);
  }
  const projectFile = existsSync(path.join(dir, "Pulumi.yaml")) ? path.join(dir, "Pulumi.yaml") : path.join(REPO_ROOT, "Pulumi.yaml");
  const project = parseProjectFile(readFileSync(projectFile, "utf8"));
  const values = parseStackFile(readFileSync(file, "utf8"));
  const plain = new Map<string, string>();
  for (const [k, v] of Object.entries(overrides)) {
    const key = k.includes(":") ? k : `${PROJECT}:${k}`;
    const short = key.slice(PROJECT.length + 1);
    if ((CONFIG_SCHEMA as Record<string, { secret?: boolean }>)[short]?.secret === true) {
      const marker = `offline-override:${plain.size}`;
      plain.set(marker, v);
      values[key] = { kind: "secure", ciphertext: marker };
    } else {
      values[key] = /^\s*[[{]/.test(v) && isJson(v) ? { kind: "object", json: JSON.stringify(JSON.parse(v)), secure: false } : { kind: "plain", text: v };
    }
  }
  return applyProjectConfig(stack, project, values, (ciphertext) => {
    const v = plain.get(ciphertext);
    if (v === undefined) throw new Error(`${file}: a secure value; offline evaluation cannot decrypt it — pass it in overrides`);
    return v;
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The config map `readStackConfigFile` returns, without the secret-key list (PULUMI_CONFIG's content). */
export function readStackFile(stack: string, dir = REPO_ROOT): Record<string, string> {
  return readStackConfigFile(stack, dir).values;
}

// Pulumi's runtime captures `new Error().stack` for every promise it creates (only used to report leaked
// promises at exit) — dozens per resource. Offline, a 1-frame limit keeps those strings tiny, which cuts time and
// heap noticeably; resource source positions are unaffected (Pulumi raises the limit itself to read them).
let lowered = 0;
let savedStackTraceLimit = Error.stackTraceLimit;
function lowerStackTraceLimit(): void {
  if (lowered++ === 0) {
    savedStackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 1;
  }
}
function restoreStackTraceLimit(): void {
  if (--lowered === 0) Error.stackTraceLimit = savedStackTraceLimit;
}

/** Evaluates the program for `stack` under mocks. Throws the program's validation errors unchanged. */
export async function evaluateStack(stack: string, options: EvaluateOptions = {}): Promise<StackEvaluation> {
  lowerStackTraceLimit();
  try {
    return await evaluateIsolated(stack, options);
  } finally {
    restoreStackTraceLimit();
  }
}

async function evaluateIsolated(stack: string, options: EvaluateOptions): Promise<StackEvaluation> {
  const { values: config, secretKeys } = readStackConfigFile(stack, options.dir, options.overrides);
  return (state as unknown as { withLocalStorage<T>(fn: () => Promise<T>): Promise<T> }).withLocalStorage(async () => {
    pulumi.runtime.setAllConfig(config, secretKeys);
    const monitor = new RecordingMonitor();
    pulumi.runtime.setMockOptions(monitor, PROJECT, stack, options.preview ?? false);
    // Validate before the stack resource exists, so bad input fails fast and nothing is registered.
    const cfg = readStackConfig();
    const plan = await prepareStack(cfg, options.declare, options.fetch ?? { ...offlineFetch(fetchContext(cfg)), openSourceStore: offlineStore }, options.editResolved);
    const outputs = await pulumi.runtime.runInPulumiStack(async () => {
      const o = runProgram(cfg, plan);
      return { ...o };
    });
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    const resources = options.chartObjects === true ? [...monitor.registered, ...chartChildren(monitor.registered)] : monitor.registered;
    return { stack, config, resources, outputs: (outputs ?? {}) as Record<string, unknown> };
  });
}

/** The workloads each registered chart renders (chart-facts.ts), registered the way the v4 Chart names its children. */
function chartChildren(registered: readonly RegisteredResource[]): RegisteredResource[] {
  const out: RegisteredResource[] = [];
  for (const chart of registered.filter((r) => r.type === "kubernetes:helm.sh/v4:Chart")) {
    const key = (Object.keys(CHART_FACTS) as ChartKey[]).find((k) => CHART_FACTS[k].chart.chart === chart.inputs.chart);
    if (key === undefined) throw new Error(`chart ${String(chart.inputs.chart)} has no entry in components/charts/chart-facts.ts`);
    const values = (chart.inputs.values ?? {}) as Record<string, unknown>;
    for (const { obj, createdBy } of chartWorkloadObjects(key, String(chart.inputs.name), String(chart.inputs.namespace), values)) {
      if (createdBy !== "pulumi") continue;
      const meta = obj.metadata as { name: string; namespace: string };
      const type = `kubernetes:apps/v1:${String(obj.kind)}`;
      const name = `${chart.name}:${meta.namespace}/${meta.name}`;
      out.push({
        urn: `${chart.urn.replace(/::[^:]+$/, "")}$${type}::${name}`, type, name, parent: chart.urn, custom: true, inputs: obj,
        ignoreChanges: [], dependencies: [], provider: "", fromChartFacts: true,
      });
    }
  }
  return out;
}

/** The example stacks shipped in the repository. */
export const EXAMPLE_STACKS = ["local", "staging-aws", "prod-gcp"] as const;

/** The stack's fetch context without the package index check: the offline evaluation reaches no network. */
function offlineFetch(ctx: FetchContext): FetchContext {
  const { packageIndex: _index, ...rest } = ctx;
  return rest;
}
