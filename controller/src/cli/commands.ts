/**
 * The three commands' work, each a thin shell over the product's modules: `models push` resolves and publishes
 * with the code `pulumi up` runs (components/model/), `invoke` calls an endpoint through the gateway, `endpoints`
 * lists ServingEndpoints from the cluster (kubeconfig).
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { CustomObjectsApi, KubeConfig } from "@kubernetes/client-node";
import { describeModel } from "../../../components/model/describe-model.ts";
import { MODEL_URI_FORMS, parseModelUri } from "../../../components/model/model-uri.ts";
import { publishVersion, type PublishResult } from "../../../components/model/publish.ts";
import { fetchModel, FetchError } from "../../../components/model/sources/fetch-model.ts";
import { RegistryError } from "../../../components/model/sources/mlflow-registry.ts";
import { StoreError, type StoreLocation } from "../../../components/model/sources/object-store.ts";
import { formatFieldError } from "../../../components/types.ts";
import { SERVING_GROUP, SERVING_PLURAL, SERVING_VERSION, type ServingEndpoint } from "../contract/crd/types.ts";
import { endpointRows, formatTable } from "./endpoint-table.ts";
import { CliError, EXIT } from "./exit-codes.ts";

const NAME_RE = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const VERSION_RE = /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

export interface PushOptions {
  readonly endpoint: string;
  readonly version?: string;
  /** `s3://<bucket>` or `gs://<bucket>`. */
  readonly store?: string;
  readonly endpointUrl?: string;
  readonly region?: string;
  readonly trackingUri?: string;
  readonly cacheRoot?: string;
}

export interface PushOutcome extends PublishResult {
  readonly endpoint: string;
  readonly version: string;
  readonly flavor: string;
  readonly source: string;
}

/** `autopilot models push <uri> --endpoint <name> [--version v]`. */
export async function modelsPush(uri: string, o: PushOptions, env: NodeJS.ProcessEnv = process.env): Promise<PushOutcome> {
  if (!NAME_RE.test(o.endpoint)) throw new CliError(EXIT.input, `--endpoint ${JSON.stringify(o.endpoint)}: an endpoint name (a DNS label: lowercase letters, digits and '-', starting with a letter, at most 40 characters)`);
  if (o.version !== undefined && !VERSION_RE.test(o.version)) throw new CliError(EXIT.input, `--version ${JSON.stringify(o.version)}: a version label (lowercase letters, digits and '-', at most 15 characters)`);
  const storeUri = o.store ?? env["AUTOPILOT_MODEL_STORE"];
  const m = /^(s3|gs):\/\/([a-z0-9][a-z0-9._-]{1,61}[a-z0-9])\/?$/.exec(storeUri ?? "");
  if (m === null) throw new CliError(EXIT.input, `--store ${JSON.stringify(storeUri ?? "")}: the environment's model bucket as s3://<bucket> or gs://<bucket> (or set AUTOPILOT_MODEL_STORE; \`pulumi stack output\` has no secret for it: it is the ModelCache bucket)`);
  const parsed = parseModelUri(uri);
  if (!parsed.ok) throw new CliError(EXIT.input, `${JSON.stringify(uri)}: ${parsed.reason}; allowed: ${MODEL_URI_FORMS}`);
  const trackingUri = o.trackingUri ?? env["MLFLOW_TRACKING_URI"];
  const token = env["MLFLOW_TRACKING_TOKEN"];
  let fetched;
  try {
    fetched = await fetchModel(parsed.ref, {
      ...(trackingUri !== undefined && trackingUri !== "" ? { registry: { trackingUri, ...(token !== undefined && token !== "" ? { token } : {}) } } : {}),
      ...(o.cacheRoot !== undefined ? { cacheRoot: o.cacheRoot } : {}),
    });
  } catch (e) {
    if (e instanceof RegistryError || e instanceof StoreError) throw new CliError(EXIT.service, e.message);
    if (e instanceof FetchError) throw new CliError(EXIT.input, e.message);
    throw e;
  }
  const described = describeModel(o.endpoint, "uri", { uri }, parsed.ref, fetched);
  if (!described.ok) throw new CliError(EXIT.input, described.errors.map((e) => formatFieldError("endpoint", e)).join("\n"));
  const version = o.version ?? described.model.version;
  const kind = m[1] === "gs" ? "gcs" : "s3";
  const endpointUrl = o.endpointUrl ?? env["AWS_ENDPOINT_URL_S3"] ?? env["AWS_ENDPOINT_URL"];
  const location: StoreLocation = {
    kind, bucket: m[2]!,
    ...(kind === "s3" && endpointUrl !== undefined && endpointUrl !== "" ? { endpointUrl } : {}),
    ...(kind === "s3" ? { region: o.region ?? env["AWS_REGION"] ?? env["AWS_DEFAULT_REGION"] ?? "us-east-1" } : {}),
  };
  try {
    const r = await publishVersion(location, { endpoint: o.endpoint, version, dir: fetched.dir, files: described.model.files, digest: described.model.digest });
    return { ...r, endpoint: o.endpoint, version, flavor: described.model.flavor, source: described.model.resolvedFrom };
  } catch (e) {
    if (e instanceof StoreError) throw new CliError(EXIT.service, e.message);
    throw new CliError(EXIT.input, (e as Error).message);
  }
}

export interface InvokeOptions {
  readonly data: string;
  readonly gateway?: string;
  /** Request path below the endpoint. @default "invocations" */
  readonly path?: string;
}

/** `autopilot invoke <endpoint> --data <file|json>`: returns the status and body. */
export async function invoke(endpoint: string, o: InvokeOptions, env: NodeJS.ProcessEnv = process.env): Promise<{ status: number; body: string }> {
  if (!NAME_RE.test(endpoint)) throw new CliError(EXIT.input, `endpoint ${JSON.stringify(endpoint)}: an endpoint name (a DNS label)`);
  const gateway = o.gateway ?? env["AUTOPILOT_GATEWAY_URL"];
  if (gateway === undefined || !/^https?:\/\/[^\s/]+/.test(gateway)) throw new CliError(EXIT.input, `--gateway ${JSON.stringify(gateway ?? "")}: the gateway's URL, e.g. https://gateway.example.com (pulumi stack output gatewayUrl), or set AUTOPILOT_GATEWAY_URL`);
  const key = env["AUTOPILOT_API_KEY"];
  if (key === undefined || key === "") throw new CliError(EXIT.input, "AUTOPILOT_API_KEY is not set: the API key the gateway accepts (its sha256 is in gatewayApiKeyHashes)");
  let body = o.data;
  let type = "application/json";
  if (!/^\s*[{[]/.test(o.data)) {
    if (!existsSync(o.data)) throw new CliError(EXIT.input, `--data ${JSON.stringify(o.data)}: neither JSON (starting with { or [) nor a file that exists`);
    body = readFileSync(o.data, "utf8");
    if (o.data.endsWith(".csv")) type = "text/csv";
  }
  if (type === "application/json") {
    try {
      JSON.parse(body);
    } catch (e) {
      throw new CliError(EXIT.input, `--data: not valid JSON (${(e as Error).message})`);
    }
  }
  const url = `${gateway.replace(/\/+$/, "")}/serving-endpoints/${endpoint}/${o.path ?? "invocations"}`;
  let res: Response;
  try {
    res = await fetch(url, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": type }, body, signal: AbortSignal.timeout(120_000) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(EXIT.service, `${url}: the gateway is unreachable (${cause?.code ?? cause?.message ?? (e as Error).message})`);
  }
  return { status: res.status, body: await res.text() };
}

export interface EndpointsOptions {
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly namespace?: string;
}

/** `autopilot endpoints`: the table of ServingEndpoints. */
export async function listEndpoints(o: EndpointsOptions): Promise<ServingEndpoint[]> {
  const kc = new KubeConfig();
  // Without any kubeconfig the client falls back to http://localhost:8080; say what is missing instead.
  const defaultFile = join(homedir(), ".kube", "config");
  if (o.kubeconfig === undefined && (process.env["KUBECONFIG"] ?? "") === "" && (process.env["KUBERNETES_SERVICE_HOST"] ?? "") === "" && !existsSync(defaultFile)) {
    throw new CliError(EXIT.input, `no kubeconfig: KUBECONFIG is not set and ${defaultFile} does not exist; pass --kubeconfig <file> (e.g. pulumi stack output kubeconfig --show-secrets > kubeconfig)`);
  }
  try {
    if (o.kubeconfig !== undefined) kc.loadFromFile(o.kubeconfig);
    else kc.loadFromDefault();
    if (o.context !== undefined) kc.setCurrentContext(o.context);
  } catch (e) {
    throw new CliError(EXIT.input, `kubeconfig ${o.kubeconfig ?? process.env["KUBECONFIG"] ?? "~/.kube/config"}: ${(e as Error).message}`);
  }
  if (kc.getCurrentCluster() === null) throw new CliError(EXIT.input, `kubeconfig: no cluster for context ${JSON.stringify(kc.getCurrentContext())}`);
  const api = kc.makeApiClient(CustomObjectsApi);
  try {
    const list = (o.namespace !== undefined
      ? await api.listNamespacedCustomObject({ group: SERVING_GROUP, version: SERVING_VERSION, namespace: o.namespace, plural: SERVING_PLURAL })
      : await api.listClusterCustomObject({ group: SERVING_GROUP, version: SERVING_VERSION, plural: SERVING_PLURAL })) as { items: ServingEndpoint[] };
    return list.items;
  } catch (e) {
    const err = e as { code?: number; body?: string; message?: string };
    const server = kc.getCurrentCluster()!.server;
    if (err.code === 404) throw new CliError(EXIT.service, `${server}: the ServingEndpoint API (${SERVING_GROUP}/${SERVING_VERSION}) is not installed in this cluster`);
    if (err.code !== undefined) throw new CliError(EXIT.service, `${server}: listing ServingEndpoints answered ${err.code}${err.code === 401 || err.code === 403 ? " (check the kubeconfig's credentials and RBAC: list servingendpoints)" : ""}`);
    throw new CliError(EXIT.service, `${server}: the cluster is unreachable (${err.message ?? String(e)})`);
  }
}

export { endpointRows, formatTable };
