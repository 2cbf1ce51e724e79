/**
 * MLflow tracking server client (REST API 2.0): resolves `models:/<name>@<alias>` and `models:/<name>/<version>`
 * through the Model Registry, `runs:/<run-id>/<path>` through the run (or, with MLflow 3, the logged model the run
 * produced), and reads artifacts through the server's artifact proxy (`mlflow-artifacts:`). Adapter: HTTP only.
 * Every failure names the reference, the server and what went wrong.
 */

/** Where the registry is and how to authenticate. */
export interface MlflowServer {
  /** `http(s)://host[:port][/path]` of the tracking server. */
  readonly trackingUri: string;
  /** Bearer token (Databricks / auth-enabled servers). */
  readonly token?: string;
  /** Per-request timeout. @default 30000 */
  readonly timeoutMs?: number;
}

/** One resolved model version. */
export interface RegistryVersion {
  readonly name: string;
  readonly version: number;
  /** Where its files are: `mlflow-artifacts:/…`, `s3://…`, `gs://…`, `file://…` or a path. */
  readonly artifactUri: string;
}

/** One artifact file below a directory. */
export interface ArtifactFile {
  /** Relative to the listed directory. */
  readonly path: string;
  readonly bytes: number;
}

export class RegistryError extends Error {}

function base(s: MlflowServer): string {
  return s.trackingUri.replace(/\/+$/, "");
}

async function call(s: MlflowServer, path: string, what: string, init: RequestInit = {}): Promise<Response> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string> | undefined) };
  if (s.token !== undefined && s.token !== "") headers["authorization"] = `Bearer ${s.token}`;
  // A connection the server closed while idle (keep-alive) fails the request at once: retry twice.
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(`${base(s)}${path}`, { ...init, headers, signal: AbortSignal.timeout(s.timeoutMs ?? 30_000) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      if (attempt < 2) {
        await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
        continue;
      }
      throw new RegistryError(`${what}: the MLflow tracking server ${s.trackingUri} is unreachable (${cause?.code ?? cause?.message ?? (e as Error).message})`);
    }
  }
}

async function json<T>(s: MlflowServer, path: string, what: string, init?: RequestInit): Promise<T> {
  const res = await call(s, path, what, init);
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 300);
    try {
      const body = JSON.parse(text) as { error_code?: string; message?: string };
      if (body.message !== undefined) message = `${body.error_code ?? res.status}: ${body.message}`;
    } catch { /* not JSON */ }
    if (res.status === 401 || res.status === 403) message += " (check the tracking token)";
    throw new RegistryError(`${what}: ${s.trackingUri} answered ${res.status} ${message}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new RegistryError(`${what}: ${s.trackingUri} answered ${res.status} with a body that is not JSON (is it an MLflow tracking server?)`);
  }
}

interface ModelVersionBody { model_version?: { name: string; version: string; source?: string } }

/** Resolves a registry reference to a version and the location of its files. */
export async function resolveRegistryModel(s: MlflowServer, ref: { name: string; alias: string } | { name: string; version: number }, uri: string): Promise<RegistryVersion> {
  const q = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const mv = "alias" in ref
    ? await json<ModelVersionBody>(s, `/api/2.0/mlflow/registered-models/alias?${q({ name: ref.name, alias: ref.alias })}`, uri)
    : await json<ModelVersionBody>(s, `/api/2.0/mlflow/model-versions/get?${q({ name: ref.name, version: String(ref.version) })}`, uri);
  if (mv.model_version === undefined) throw new RegistryError(`${uri}: ${s.trackingUri} returned no model version`);
  const version = Number(mv.model_version.version);
  const dl = await json<{ artifact_uri?: string }>(s, `/api/2.0/mlflow/model-versions/get-download-uri?${q({ name: ref.name, version: String(version) })}`, uri);
  if (dl.artifact_uri === undefined) throw new RegistryError(`${uri}: ${s.trackingUri} returned no download URI for version ${version}`);
  return { name: ref.name, version, artifactUri: dl.artifact_uri };
}

/** Resolves `runs:/<run-id>/<path>`: the run's artifact directory, or the logged model of that name (MLflow 3). */
export async function resolveRunModel(s: MlflowServer, runId: string, path: string, uri: string): Promise<string> {
  const run = await json<{ run?: { info?: { artifact_uri?: string; experiment_id?: string } } }>(s, `/api/2.0/mlflow/runs/get?run_id=${runId}`, uri);
  const info = run.run?.info;
  if (info?.artifact_uri === undefined) throw new RegistryError(`${uri}: ${s.trackingUri} returned no artifact location for run ${runId}`);
  const inRun = `${info.artifact_uri.replace(/\/+$/, "")}/${path}`;
  if (inRun.startsWith("mlflow-artifacts:") && (await listArtifacts(s, inRun, uri)).length > 0) return inRun;
  const found = await json<{ models?: { info?: { name?: string; artifact_uri?: string; source_run_id?: string } }[] }>(s, "/api/2.0/mlflow/logged-models/search", uri, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ experiment_ids: [info.experiment_id], filter: `source_run_id = '${runId}' AND name = '${path.replace(/'/g, "")}'`, max_results: 1 }),
  });
  const model = found.models?.[0]?.info;
  if (model?.artifact_uri !== undefined) return model.artifact_uri;
  if (!inRun.startsWith("mlflow-artifacts:")) return inRun;
  throw new RegistryError(`${uri}: run ${runId} has no artifact or logged model named "${path}"`);
}

function proxyPath(artifactUri: string): string {
  // mlflow-artifacts:/<path> or mlflow-artifacts://host/<path>
  return artifactUri.replace(/^mlflow-artifacts:(\/\/[^/]*)?\/?/, "");
}

/** Every file below an `mlflow-artifacts:` directory (recursive listing through the proxy). */
export async function listArtifacts(s: MlflowServer, artifactUri: string, uri: string): Promise<ArtifactFile[]> {
  const root = proxyPath(artifactUri);
  const out: ArtifactFile[] = [];
  const walk = async (rel: string): Promise<void> => {
    const path = rel === "" ? root : `${root}/${rel}`;
    const body = await json<{ files?: { path: string; is_dir: boolean; file_size?: string | number }[] }>(s, `/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(path)}`, uri);
    for (const f of body.files ?? []) {
      const name = f.path.split("/").pop()!;
      const child = rel === "" ? name : `${rel}/${name}`;
      if (f.is_dir) await walk(child);
      else out.push({ path: child, bytes: Number(f.file_size ?? 0) });
    }
  };
  await walk("");
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Streams one artifact file through the proxy. */
export async function downloadArtifact(s: MlflowServer, artifactUri: string, rel: string, uri: string): Promise<ReadableStream<Uint8Array>> {
  const path = `${proxyPath(artifactUri)}/${rel}`.split("/").map(encodeURIComponent).join("/");
  const res = await call(s, `/api/2.0/mlflow-artifacts/artifacts/${path}`, uri);
  if (!res.ok || res.body === null) throw new RegistryError(`${uri}: downloading ${rel} from ${s.trackingUri} failed with ${res.status}`);
  return res.body;
}
