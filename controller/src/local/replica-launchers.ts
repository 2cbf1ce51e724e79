/**
 * How the local scaler starts one replica of an endpoint: the command for a given port, the path that says it is
 * ready, and how long it may take. One launcher per model runtime the local loop runs:
 *
 * | launcher         | process                                                   | the cluster runs           |
 * |------------------|-----------------------------------------------------------|----------------------------|
 * | example          | controller/src/model-server/main.ts (synthetic CPU cost)  | —                          |
 * | mlflow           | `mlflow models serve --env-manager local` from the venv   | the same server (mlflow)   |
 * | onnx             | controller/src/serving/onnx-main.ts (onnxruntime-node)    | Triton's ONNX Runtime      |
 * | openai           | controller/src/serving/openai/openai-main.ts              | vLLM's OpenAI server       |
 */
import { fileURLToPath } from "node:url";
import type { PythonEnv } from "./python-env.ts";
import { MODEL_SERVER_MAIN } from "./model-process.ts";

const ONNX_MAIN = fileURLToPath(new URL("../serving/onnx-main.ts", import.meta.url));
const OPENAI_MAIN = fileURLToPath(new URL("../serving/openai/openai-main.ts", import.meta.url));

export interface ReplicaCommand {
  readonly file: string;
  readonly args: readonly string[];
  /** Added to the parent's environment. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface ReplicaLauncher {
  /** What runs, for messages (`mlflow models serve examples/models/iris-sklearn`). */
  readonly label: string;
  /** The command of a replica that must listen on 127.0.0.1:`port`. */
  command(port: number): ReplicaCommand;
  /** GET path answering 200 once the replica serves. */
  readonly healthPath: string;
  /** Longest time from spawn to healthy before the replica counts as failed. */
  readonly startTimeoutMs: number;
}

/** The example model server: `cpuMs` of CPU and `sleepMs` of waiting per request. */
export function exampleModelLauncher(args: readonly string[]): ReplicaLauncher {
  return {
    label: `example model server ${args.join(" ")}`.trim(),
    command: (port) => ({ file: process.execPath, args: [MODEL_SERVER_MAIN, ...args, "--port", String(port)] }),
    healthPath: "/ping",
    startTimeoutMs: 10_000,
  };
}

/** `mlflow models serve` of an MLflow model directory, from the repository's virtualenv (one uvicorn worker). */
export function mlflowLauncher(env: PythonEnv, modelDir: string): ReplicaLauncher {
  return {
    label: `mlflow models serve -m ${modelDir}`,
    command: (port) => ({
      file: env.bin("mlflow"),
      args: ["models", "serve", "-m", modelDir, "-h", "127.0.0.1", "-p", String(port), "--env-manager", "local", "--workers", "1"],
      // mlflow starts `uvicorn` by name: the virtualenv's bin goes first on PATH.
      env: { PATH: `${env.dir}/bin:${process.env["PATH"] ?? ""}`, MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT: "60", PYTHONUNBUFFERED: "1" },
    }),
    healthPath: "/ping",
    startTimeoutMs: 180_000,
  };
}

/** The ONNX scoring server (no Python) for an MLflow onnx model directory or an .onnx file. */
export function onnxLauncher(model: string): ReplicaLauncher {
  return {
    label: `onnx server ${model}`,
    command: (port) => ({ file: process.execPath, args: [ONNX_MAIN, "--model", model, "--port", String(port)] }),
    healthPath: "/ping",
    startTimeoutMs: 30_000,
  };
}

/** The OpenAI-compatible server: served model name, real embeddings from `embeddingModelDir` when given. */
export function openAiLauncher(servedModelName: string, embeddingModelDir: string | undefined, tokenMs: number): ReplicaLauncher {
  return {
    label: `openai server ${servedModelName}${embeddingModelDir !== undefined ? " + all-MiniLM-L6-v2 embeddings" : ""}`,
    command: (port) => ({
      file: process.execPath,
      args: [OPENAI_MAIN, "--served-model-name", servedModelName, "--port", String(port), "--token-ms", String(tokenMs),
        ...(embeddingModelDir !== undefined ? ["--embedding-model", embeddingModelDir] : [])],
    }),
    healthPath: "/health",
    startTimeoutMs: 30_000,
  };
}
