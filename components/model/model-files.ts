/**
 * What a model's own files say about it: the MLmodel file (flavors, the python_function loader, signature,
 * `model_size_bytes`), its Python environment (requirements.txt, python_env.yaml, conda.yaml) and, for
 * transformers models, config.json (parameter count, dtype). Pure: file text in, typed facts out; a file that
 * cannot be read as what it claims to be is a ModelFileError naming the file and what is wrong.
 */
import { parse as parseYaml } from "yaml";
import type { ModelDtype, ModelFlavor } from "../endpoint-types.ts";

export class ModelFileError extends Error {}

/** What MLmodel says. */
export interface MlmodelFacts {
  /** Every flavor key in `flavors`, in file order. */
  readonly flavors: readonly string[];
  /** `flavors.python_function.loader_module` (e.g. `mlflow.sklearn`). */
  readonly pyfuncLoader?: string;
  /** Files the python_function flavor names for its environment (`env.virtualenv`, `env.conda`). */
  readonly envFiles: { readonly virtualenv?: string; readonly conda?: string };
  readonly pythonVersion?: string;
  readonly hasSignature: boolean;
  readonly modelSizeBytes?: number;
  readonly mlflowVersion?: string;
  /** The ONNX file of the onnx flavor. */
  readonly onnxFile?: string;
}

function asRecord(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** Parses an MLmodel file's text. */
export function parseMlmodel(text: string): MlmodelFacts {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ModelFileError(`MLmodel is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
  const root = asRecord(doc);
  const flavors = asRecord(root?.["flavors"]);
  if (root === undefined || flavors === undefined || Object.keys(flavors).length === 0) {
    throw new ModelFileError("MLmodel has no `flavors` mapping (not an MLflow model)");
  }
  const pyfunc = asRecord(flavors["python_function"]);
  const env = asRecord(pyfunc?.["env"]);
  const onnx = asRecord(flavors["onnx"]);
  const size = root["model_size_bytes"];
  const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
  const virtualenv = str(env?.["virtualenv"]);
  const conda = str(env?.["conda"]) ?? (typeof pyfunc?.["env"] === "string" ? (pyfunc["env"] as string) : undefined);
  const loader = str(pyfunc?.["loader_module"]);
  const py = pyfunc?.["python_version"];
  const mlflowVersion = str(root["mlflow_version"]);
  const onnxFile = str(onnx?.["data"]);
  return {
    flavors: Object.keys(flavors),
    ...(loader !== undefined ? { pyfuncLoader: loader } : {}),
    envFiles: { ...(virtualenv !== undefined ? { virtualenv } : {}), ...(conda !== undefined ? { conda } : {}) },
    ...(py !== undefined && py !== null ? { pythonVersion: String(py) } : {}),
    hasSignature: asRecord(root["signature"])?.["inputs"] !== undefined && asRecord(root["signature"])?.["inputs"] !== null,
    ...(typeof size === "number" && Number.isInteger(size) && size > 0 ? { modelSizeBytes: size } : {}),
    ...(mlflowVersion !== undefined ? { mlflowVersion } : {}),
    ...(onnxFile !== undefined ? { onnxFile } : {}),
  };
}

/**
 * MLflow flavors the platform serves and the platform flavor each maps to, in the order they are preferred when a
 * model has several (an onnx model also has python_function; the specific flavor wins).
 */
export const SERVED_MLFLOW_FLAVORS: readonly (readonly [string, ModelFlavor])[] = [
  ["onnx", "onnx"],
  ["transformers", "transformers"],
  ["sklearn", "sklearn"],
  ["xgboost", "xgboost"],
  ["lightgbm", "lightgbm"],
  ["pytorch", "pytorch"],
  ["tensorflow", "tensorflow"],
  ["keras", "tensorflow"],
  ["python_function", "pyfunc"],
];

/** The served MLflow flavors, for messages. */
export const SERVED_MLFLOW_FLAVOR_NAMES = SERVED_MLFLOW_FLAVORS.map(([f]) => f).join(", ");

/** The platform flavor of a model with these MLflow flavors, or undefined when none is served. */
export function platformFlavor(mlflowFlavors: readonly string[]): ModelFlavor | undefined {
  return SERVED_MLFLOW_FLAVORS.find(([f]) => mlflowFlavors.includes(f))?.[1];
}

/** The model's Python environment as its files pin it. */
export interface PythonRequirements {
  /** Python version (`python_env.yaml` `python:`, conda's `python=`, or MLmodel's `python_version`). */
  readonly python?: string;
  /** Requirement lines, normalized (name lowercased, `_` → `-`) and sorted: what a serving image installs. */
  readonly requirements: readonly string[];
  /** Lines that do not pin one version from an index (`name>=1`, bare names, URLs, paths, editable installs). */
  readonly unpinned: readonly string[];
  /** Which file the requirements came from. */
  readonly source: string;
}

const PINNED = /^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9,._ -]+\])?==([A-Za-z0-9][A-Za-z0-9.+!_-]*)(\s*;.*)?$/;

function normalizeRequirement(line: string): string {
  const m = PINNED.exec(line);
  if (m === null) return line;
  return `${m[1]!.toLowerCase().replace(/[._]+/g, "-")}${m[2] ?? ""}==${m[3]}${m[4] !== undefined ? m[4].trim().replace(/^;\s*/, " ; ") : ""}`;
}

/** Parses requirement lines (requirements.txt syntax; `-r` includes resolved by `include`). */
export function parseRequirementLines(text: string, source: string, include?: (file: string) => string | undefined, depth = 0): { requirements: string[]; unpinned: string[] } {
  const requirements: string[] = [];
  const unpinned: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const r = /^(-r|--requirement)\s+(\S+)$/.exec(line);
    if (r !== null) {
      const inner = include?.(r[2]!);
      if (inner === undefined || depth > 3) {
        unpinned.push(`${line} (${source}: the included file is not in the model)`);
        continue;
      }
      const sub = parseRequirementLines(inner, r[2]!, include, depth + 1);
      requirements.push(...sub.requirements);
      unpinned.push(...sub.unpinned);
      continue;
    }
    if (line.startsWith("-")) {
      unpinned.push(`${line} (${source}: pip options are not allowed in a serving image's requirements)`);
      continue;
    }
    if (PINNED.test(line)) requirements.push(normalizeRequirement(line));
    else unpinned.push(`${line} (${source})`);
  }
  return { requirements, unpinned };
}

/**
 * The model's requirements: `requirements.txt` when present (MLflow writes it beside python_env.yaml), else
 * the pip list of python_env.yaml, else conda.yaml's pip section. `read` returns a file's text or undefined.
 */
export function parsePythonRequirements(read: (file: string) => string | undefined, mlmodel?: MlmodelFacts): PythonRequirements | undefined {
  const venvFile = mlmodel?.envFiles.virtualenv ?? "python_env.yaml";
  const condaFile = mlmodel?.envFiles.conda ?? "conda.yaml";
  const venvText = read(venvFile);
  const condaText = read(condaFile);
  let python = mlmodel?.pythonVersion;
  let pipLines: string | undefined;
  let source = "";
  if (venvText !== undefined) {
    const doc = asRecord(safeYaml(venvText, venvFile));
    if (doc?.["python"] !== undefined) python = String(doc["python"]);
    const deps = doc?.["dependencies"];
    if (Array.isArray(deps)) {
      pipLines = deps.map(String).join("\n");
      source = venvFile;
    }
  }
  if (condaText !== undefined) {
    const doc = asRecord(safeYaml(condaText, condaFile));
    const deps = Array.isArray(doc?.["dependencies"]) ? (doc["dependencies"] as unknown[]) : [];
    for (const d of deps) {
      if (typeof d === "string") {
        const m = /^python\s*=+\s*([0-9.]+)$/.exec(d.trim());
        if (m !== null && python === undefined) python = m[1];
      }
    }
    if (pipLines === undefined) {
      const pip = deps.map(asRecord).find((d) => d !== undefined && Array.isArray(d["pip"]));
      if (pip !== undefined) {
        pipLines = (pip["pip"] as unknown[]).map(String).join("\n");
        source = condaFile;
      }
    }
  }
  if (pipLines === undefined) {
    const req = read("requirements.txt");
    if (req === undefined) return undefined;
    pipLines = req;
    source = "requirements.txt";
  }
  const parsed = parseRequirementLines(pipLines, source, read);
  return {
    ...(python !== undefined ? { python } : {}),
    requirements: [...new Set(parsed.requirements)].sort(),
    unpinned: parsed.unpinned,
    source,
  };
}

function safeYaml(text: string, file: string): unknown {
  try {
    return parseYaml(text);
  } catch (e) {
    throw new ModelFileError(`${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`);
  }
}

/** What a transformers `config.json` says. */
export interface TransformersFacts {
  readonly modelType?: string;
  readonly architectures: readonly string[];
  /** Estimated from the architecture's sizes (decoder-only and BERT-style encoders); absent when unknown. */
  readonly parameterCount?: number;
  readonly dtype?: ModelDtype;
  /** True for a causal language model (vLLM serves it). */
  readonly generative: boolean;
}

const DTYPES: Readonly<Record<string, ModelDtype>> = { float32: "float32", float16: "float16", bfloat16: "bfloat16", fp8: "fp8", int8: "int8" };

/** Parses config.json. Parameter count of a decoder: embeddings (×2 unless tied) + per layer attention (q, k, v, o
 * with grouped key/value heads), gated MLP (3 matrices) and two norms, + the final norm. Worked example:
 * Llama-3-8B (4096 hidden, 32 layers, 14336 MLP, 32/8 heads, 128256 vocab, untied) → 8,030,261,248. */
export function parseTransformersConfig(text: string): TransformersFacts {
  let doc: Record<string, unknown> | undefined;
  try {
    doc = asRecord(JSON.parse(text));
  } catch (e) {
    throw new ModelFileError(`config.json is not valid JSON: ${(e as Error).message}`);
  }
  if (doc === undefined) throw new ModelFileError("config.json is not a JSON object");
  const num = (k: string): number | undefined => (typeof doc[k] === "number" && Number.isFinite(doc[k]) ? (doc[k] as number) : undefined);
  const architectures = Array.isArray(doc["architectures"]) ? doc["architectures"].map(String) : [];
  const generative = architectures.some((a) => /ForCausalLM$|LMHeadModel$|ForConditionalGeneration$/.test(a));
  const dtypeName = typeof doc["torch_dtype"] === "string" ? doc["torch_dtype"] : typeof doc["dtype"] === "string" ? doc["dtype"] : undefined;
  const dtype = dtypeName !== undefined ? DTYPES[dtypeName] : undefined;
  const h = num("hidden_size"), layers = num("num_hidden_layers"), inter = num("intermediate_size"), vocab = num("vocab_size");
  const heads = num("num_attention_heads");
  let parameterCount: number | undefined;
  if (h !== undefined && layers !== undefined && inter !== undefined && vocab !== undefined && heads !== undefined) {
    if (generative) {
      const headDim = num("head_dim") ?? h / heads;
      const kv = num("num_key_value_heads") ?? heads;
      const attention = h * heads * headDim + 2 * h * kv * headDim + heads * headDim * h;
      const mlp = 3 * h * inter;
      const tied = doc["tie_word_embeddings"] === true;
      parameterCount = vocab * h * (tied ? 1 : 2) + layers * (attention + mlp + 2 * h) + h;
    } else {
      const positions = num("max_position_embeddings") ?? 0;
      const types = num("type_vocab_size") ?? 0;
      const embeddings = (vocab + positions + types) * h + 2 * h;
      const layer = 4 * (h * h + h) + 2 * h * inter + inter + h + 4 * h;
      parameterCount = embeddings + layers * layer + h * h + h;
    }
  }
  return {
    ...(typeof doc["model_type"] === "string" ? { modelType: doc["model_type"] } : {}),
    architectures,
    ...(parameterCount !== undefined ? { parameterCount: Math.round(parameterCount) } : {}),
    ...(dtype !== undefined ? { dtype } : {}),
    generative,
  };
}
