/**
 * A small KServe v2 (Open Inference Protocol) REST client over keep-alive HTTP: model metadata, readiness,
 * Triton's model-configuration extension, inference. Used by the Triton adapter.
 */
import { Agent, request } from "node:http";
import { ScoringError } from "./errors.ts";
import { V2_DATATYPES, type TensorMeta, type V2Datatype, type V2Tensor } from "./tensors.ts";

export interface V2ModelMetadata {
  readonly name: string;
  readonly platform?: string;
  readonly inputs: readonly TensorMeta[];
  readonly outputs: readonly TensorMeta[];
}

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

export class KserveV2Client {
  private readonly base: URL;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });
  private readonly timeoutMs: number;

  constructor(baseUrl: string, timeoutMs = 60_000) {
    this.base = new URL(baseUrl);
    this.timeoutMs = timeoutMs;
  }

  private call(method: "GET" | "POST", path: string, body?: string): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) };
      const req = request({ host: this.base.hostname, port: this.base.port, path, method, agent: this.agent, headers, timeout: this.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      req.on("error", reject);
      req.end(body);
    });
  }

  /** True when `GET path` answers 200 (false on any error). */
  async ok(path: string): Promise<boolean> {
    try {
      return (await this.call("GET", path)).status === 200;
    } catch {
      return false;
    }
  }

  /** `GET /v2/models/<model>`: inputs and outputs with their data types and shapes. */
  async metadata(model: string): Promise<V2ModelMetadata> {
    const answer = await this.call("GET", `/v2/models/${encodeURIComponent(model)}`);
    if (answer.status !== 200) throw new Error(`GET /v2/models/${model}: ${answer.status} ${answer.body.slice(0, 300)}`);
    const m = JSON.parse(answer.body) as { name?: string; platform?: string; inputs?: unknown[]; outputs?: unknown[] };
    const tensors = (list: unknown[] | undefined, what: string): TensorMeta[] => (list ?? []).map((t, i) => {
      const x = t as { name?: unknown; datatype?: unknown; shape?: unknown };
      if (typeof x.name !== "string" || !V2_DATATYPES.includes(x.datatype as V2Datatype) || !Array.isArray(x.shape)) {
        throw new Error(`model metadata ${what}[${i}] is not {name, datatype, shape}: ${JSON.stringify(t)}`);
      }
      return { name: x.name, datatype: x.datatype as V2Datatype, shape: (x.shape as unknown[]).map(Number) };
    });
    return { name: m.name ?? model, ...(m.platform !== undefined ? { platform: m.platform } : {}), inputs: tensors(m.inputs, "inputs"), outputs: tensors(m.outputs, "outputs") };
  }

  /** Triton's `GET /v2/models/<model>/config` `max_batch_size` (0 = no batching or no such extension). */
  async maxBatchSize(model: string): Promise<number> {
    try {
      const answer = await this.call("GET", `/v2/models/${encodeURIComponent(model)}/config`);
      if (answer.status !== 200) return 0;
      const n = Number((JSON.parse(answer.body) as { max_batch_size?: unknown }).max_batch_size ?? 0);
      return Number.isInteger(n) && n > 0 ? n : 0;
    } catch {
      return 0;
    }
  }

  /**
   * `POST /v2/models/<model>/infer`. The runtime's own errors become ScoringErrors: its 400 stays 400, its 503
   * (Triton's "exceeds maximum queue size") becomes 429, anything else 502; no answer at all is 502.
   */
  async infer(model: string, inputs: readonly V2Tensor[], outputs: readonly string[]): Promise<V2Tensor[]> {
    const body = JSON.stringify({
      inputs: inputs.map((t) => ({ name: t.name, shape: t.shape, datatype: t.datatype, data: t.data })),
      outputs: outputs.map((name) => ({ name })),
    });
    let answer: HttpAnswer;
    try {
      answer = await this.call("POST", `/v2/models/${encodeURIComponent(model)}/infer`, body);
    } catch (e) {
      throw new ScoringError(502, "BAD_GATEWAY", `the inference server did not answer: ${(e as Error).message}`);
    }
    if (answer.status !== 200) {
      let message = answer.body.slice(0, 2000);
      try {
        message = String((JSON.parse(answer.body) as { error?: unknown }).error ?? message);
      } catch { /* not JSON: keep the text */ }
      if (answer.status === 400) throw new ScoringError(400, "BAD_REQUEST", `the model refused the input: ${message}`);
      if (answer.status === 503 || answer.status === 429) throw new ScoringError(429, "REQUEST_LIMIT_EXCEEDED", `the inference server is at capacity: ${message}`);
      throw new ScoringError(502, "BAD_GATEWAY", `the inference server answered ${answer.status}: ${message}`);
    }
    const parsed = JSON.parse(answer.body) as { outputs?: Array<{ name: string; datatype: V2Datatype; shape: number[]; data: unknown[] }> };
    return (parsed.outputs ?? []).map((o) => ({ name: o.name, datatype: o.datatype, shape: o.shape, data: o.data as V2Tensor["data"] }));
  }

  close(): void {
    this.agent.destroy();
  }
}
