/**
 * TEST DOUBLE of the Pulumi engine: Pulumi's own MockMonitor (`@pulumi/pulumi/runtime/mocks`) extended to record
 * every registered resource with its inputs and resource options (parent, ignoreChanges, dependencies,
 * provider), plus made-up but well-formed outputs for the properties the program reads (cluster endpoints,
 * bucket ARNs, image digests, load balancer hostnames). Nothing here talks to a cloud or a cluster.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks.js";
import { MOCK_CERT_PEM, MOCK_CERT_REQUEST_PEM, MOCK_PRIVATE_KEY_PEM } from "./mock-tls.ts";

/** One resource as the program registered it. */
export interface RegisteredResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  /** Parent URN ("" for the stack itself). */
  readonly parent: string;
  /** Custom resource (true) or component (false). */
  readonly custom: boolean;
  readonly inputs: Record<string, unknown>;
  readonly ignoreChanges: readonly string[];
  readonly dependencies: readonly string[];
  /** Provider reference (`urn::id`), "" when default. */
  readonly provider: string;
  /** `customTimeouts` the resource was registered with ("" where unset). */
  readonly customTimeouts?: { readonly create: string; readonly update: string };
  /** Not registered by the program: a chart's object from components/charts/chart-facts.ts (a test double). */
  readonly fromChartFacts?: boolean;
}

const ACCOUNT = "000000000000";

/** Mock outputs by resource type (inputs are echoed back as state too). */
export function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  switch (type) {
    case "aws:eks/cluster:Cluster":
      Object.assign(extra, { name, endpoint: `https://${name}.mock-eks.invalid`, certificateAuthority: { data: "bW9jay1jYQ==" }, arn: `arn:aws:eks:mock:${ACCOUNT}:cluster/${name}` });
      break;
    case "aws:s3/bucket:Bucket":
      Object.assign(extra, { bucket: `${name}-mock`, arn: `arn:aws:s3:::${name}-mock` });
      break;
    case "aws:ecr/repository:Repository":
      Object.assign(extra, { repositoryUrl: `${ACCOUNT}.dkr.ecr.mock.amazonaws.com/${name}`, registryId: ACCOUNT });
      break;
    case "gcp:container/cluster:Cluster":
      Object.assign(extra, { name, endpoint: "203.0.113.10", masterAuth: { clusterCaCertificate: "bW9jay1jYQ==" }, location: inputs.location });
      break;
    case "gcp:storage/bucket:Bucket":
      Object.assign(extra, { name: `${name}-mock`, url: `gs://${name}-mock` });
      break;
    case "gcp:serviceaccount/account:Account":
      Object.assign(extra, { email: `${String(inputs.accountId)}@mock.iam.gserviceaccount.com` });
      break;
    case "docker-build:index:Image":
      Object.assign(extra, { digest: `sha256:${createHash("sha256").update(JSON.stringify(inputs)).digest("hex")}` });
      break;
    case "aws:eks/nodeGroup:NodeGroup":
      Object.assign(extra, { resources: [{ autoscalingGroups: [{ name: `eks-${name}-mock-asg` }] }] });
      break;
    case "tls:index/privateKey:PrivateKey":
      Object.assign(extra, { privateKeyPem: MOCK_PRIVATE_KEY_PEM });
      break;
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      Object.assign(extra, { certPem: MOCK_CERT_PEM });
      break;
    case "tls:index/certRequest:CertRequest":
      Object.assign(extra, { certRequestPem: MOCK_CERT_REQUEST_PEM });
      break;
    case "random:index/randomPassword:RandomPassword":
      Object.assign(extra, { result: `mock-${createHash("sha256").update(name).digest("hex").slice(0, 24)}` });
      break;
    case "kubernetes:core/v1:Service":
      if ((inputs.spec as { type?: string } | undefined)?.type === "LoadBalancer") {
        Object.assign(extra, { status: { loadBalancer: { ingress: [{ hostname: `${name}.mock-lb.invalid` }] } } });
      }
      break;
  }
  if (type.startsWith("aws:") && extra.arn === undefined) extra.arn = `arn:aws:mock:${ACCOUNT}:${name}`;
  // Kubernetes objects are most of the resources and the program reads none of their outputs except a
  // LoadBalancer's status: not echoing their inputs keeps the offline evaluation's heap about half as big.
  if (type.startsWith("kubernetes:")) return extra;
  return { ...inputs, ...extra };
}

/** Mock results of provider functions (invokes). */
export function mockCall(token: string, inputs: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
      return { userName: "AWS", password: "mock-registry-password", proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.mock.amazonaws.com`, authorizationToken: "mock" };
    case "gcp:storage/getProjectServiceAccount:getProjectServiceAccount":
      return { emailAddress: "service-000000000000@gs-project-accounts.iam.gserviceaccount.com", project: inputs.project, id: "mock" };
    case "gcp:organizations/getClientConfig:getClientConfig":
      return { accessToken: "mock-access-token", project: "mock", region: "mock", zone: "mock", id: "mock" };
    default:
      return inputs;
  }
}

/** The recording monitor (install with `pulumi.runtime.setMockOptions`). */
export class RecordingMonitor extends (MockMonitor as unknown as new (mocks: pulumi.runtime.Mocks) => { registerResource(req: unknown, cb: unknown): Promise<void> }) {
  readonly registered: RegisteredResource[] = [];
  /** Outputs a `pulumi.StackReference` to each stack name reads (`org/project/stack` → outputs). */
  readonly stackOutputs: Map<string, { readonly outputs: Record<string, unknown>; readonly secretOutputNames: readonly string[] }> = new Map();

  /** The record being registered: MockMonitor.registerResource calls `newResource` synchronously, which fills in
   * the inputs it has already deserialized (so they are not deserialized twice). */
  private current: { inputs: Record<string, unknown> } | undefined;

  constructor() {
    super({
      newResource: (a) => {
        const inputs = a.inputs as Record<string, unknown>;
        if (this.current !== undefined) this.current.inputs = unwrapSecrets(inputs) as Record<string, unknown>;
        this.current = undefined;
        if (a.type === "pulumi:pulumi:StackReference") {
          const stack = String(inputs["name"]);
          const ref = this.stackOutputs.get(stack);
          if (ref === undefined) throw new Error(`StackReference to "${stack}": no such stack in this test double (known: ${[...this.stackOutputs.keys()].join(", ") || "none"})`);
          return { id: stack, state: { name: stack, outputs: ref.outputs, secretOutputNames: [...ref.secretOutputNames] } };
        }
        return { id: a.custom ? `${a.name}-id` : undefined, state: mockState(a.type, a.name, inputs) };
      },
      call: (a) => mockCall(a.token, a.inputs as Record<string, unknown>),
    });
  }

  override registerResource(req: unknown, cb: unknown): Promise<void> {
    const r = req as {
      getType(): string; getName(): string; getParent(): string; getCustom(): boolean;
      getIgnorechangesList(): string[]; getDependenciesList(): string[]; getProvider(): string;
      getCustomtimeouts(): { getCreate(): string; getUpdate(): string } | undefined;
    };
    const timeouts = r.getCustomtimeouts();
    const type = r.getType();
    const name = r.getName();
    const parent = r.getParent();
    const record = {
      urn: urnOf(parent, type, name), type, name, parent, custom: r.getCustom(), inputs: {} as Record<string, unknown>,
      ignoreChanges: r.getIgnorechangesList(), dependencies: r.getDependenciesList(), provider: r.getProvider(),
      ...(timeouts !== undefined ? { customTimeouts: { create: timeouts.getCreate(), update: timeouts.getUpdate() } } : {}),
    };
    this.registered.push(record);
    this.current = record;
    return super.registerResource(req, cb);
  }
}

/** URN the mock monitor gives a resource (same rule as Pulumi's MockMonitor.newUrn). */
function urnOf(parent: string, type: string, name: string): string {
  const qualified = parent ? `${(parent.split("::")[2] ?? "").split("$").pop()}$${type}` : type;
  return `urn:pulumi:${pulumi.runtime.getStack()}::${pulumi.runtime.getProject()}::${qualified}::${name}`;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Replaces Pulumi's secret envelopes with their plain values (inputs are only inspected offline). */
export function unwrapSecrets(v: unknown): unknown {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = unwrapSecrets(v[i]);
    return v;
  }
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    if (SECRET_SIG in o && "value" in o) return unwrapSecrets(o.value);
    // In place: the object is the freshly deserialized copy made for this mock call.
    for (const k of Object.keys(o)) o[k] = unwrapSecrets(o[k]);
  }
  return v;
}
