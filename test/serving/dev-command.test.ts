/**
 * `npm run dev -- --model examples/models/iris-onnx` as a user runs it (the dev command as a process): the shipped
 * ONNX example answers correct classes through the gateway (curl), and the OpenAI-compatible endpoint `chat`
 * works with the official `openai` npm client — chat, streaming, completions, embeddings (a real
 * all-MiniLM-L6-v2), models — and a bad key's error message reaches the client. With `--payload-log-dir`, the
 * iris requests land as payload-log rows in files (the file sink).
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { requireEmbeddingModel } from "../../tools/python/embedding-model.ts";
import { curl, EXPECTED, irisBodies } from "./helpers.ts";

const DEV = fileURLToPath(new URL("../../controller/src/local/dev.ts", import.meta.url));
const KEY = "dev-key";

describe("npm run dev: a real model and the OpenAI-compatible endpoint chat", () => {
  let dev: ChildProcess;
  let base = "";
  const output: string[] = [];
  const payloadDir = mkdtempSync(join(tmpdir(), "dev-payloads-"));
  before(async () => {
    requireEmbeddingModel();
    dev = spawn(process.execPath, [DEV, "--port", "0", "--model", "examples/models/iris-onnx", "--quiet", "--duration", "300", "--payload-log-dir", payloadDir], {
      cwd: fileURLToPath(new URL("../../", import.meta.url)), stdio: ["ignore", "pipe", "pipe"],
    });
    dev.stderr?.on("data", (c: Buffer) => output.push(c.toString()));
    base = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dev did not start within 120 s:\n${output.join("")}`)), 120_000);
      dev.once("exit", (code) => reject(new Error(`dev exited with ${code}:\n${output.join("")}`)));
      createInterface({ input: dev.stdout! }).on("line", (line) => {
        output.push(`${line}\n`);
        const m = /HAProxy 127\.0\.0\.1:(\d+)/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(`http://127.0.0.1:${m[1]}`);
        }
      });
    });
  });
  after(async () => {
    if (dev !== undefined && dev.exitCode === null) {
      const exited = new Promise((r) => dev.once("exit", r));
      dev.kill("SIGTERM");
      await exited;
    }
    rmSync(payloadDir, { recursive: true, force: true });
  });
  const client = (apiKey = KEY) => new OpenAI({ apiKey, baseURL: `${base}/serving-endpoints/chat/v1`, maxRetries: 0 });

  it("--model serves the shipped ONNX example: correct classes for the held-out rows (curl)", async () => {
    const r = await curl(`${base}/serving-endpoints/iris/invocations`, { data: irisBodies().dataframe_split, key: KEY });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json.predictions.map((p: { label: number }) => p.label), EXPECTED.labels);
  });

  it("a body that does not match the signature: 400 naming the column (curl)", async () => {
    const r = await curl(`${base}/serving-endpoints/iris/invocations`, { key: KEY, data: JSON.stringify({ dataframe_split: { columns: ["sepal_length", "petal_width"], data: [[5.1, 0.2]] } }) });
    assert.equal(r.status, 400, r.body);
    assert.match(r.json.message, /missing columns "sepal_width", "petal_length"/);
  });

  it("chat completion (openai client)", async () => {
    const c = await client().chat.completions.create({ model: "chat", messages: [{ role: "user", content: "What is the capital of France?" }] });
    assert.equal(c.object, "chat.completion");
    assert.equal(c.choices[0]?.message.role, "assistant");
    assert.match(c.choices[0]?.message.content ?? "", /^Stand-in reply .* ends with "What is the capital of France\?"\.$/);
    assert.equal(c.choices[0]?.finish_reason, "stop");
    assert.ok((c.usage?.prompt_tokens ?? 0) > 0 && (c.usage?.completion_tokens ?? 0) > 0);
  });

  it("chat with stream: true: server-sent chunks add up to the same answer, usage at the end (openai client)", async () => {
    const messages = [{ role: "user" as const, content: "What is the capital of France?" }];
    const whole = await client().chat.completions.create({ model: "chat", messages });
    const stream = await client().chat.completions.create({ model: "chat", messages, stream: true, stream_options: { include_usage: true } });
    let text = "";
    let chunks = 0;
    let finish: string | null | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      usage = chunk.usage ?? usage;
    }
    assert.ok(chunks > 5, `${chunks} chunks`);
    assert.equal(text, whole.choices[0]?.message.content);
    assert.equal(finish, "stop");
    assert.equal(usage?.completion_tokens, whole.usage?.completion_tokens);
  });

  it("completions, cut at max_tokens (openai client)", async () => {
    const c = await client().completions.create({ model: "chat", prompt: "Once upon a time", max_tokens: 5 });
    assert.equal(c.object, "text_completion");
    assert.equal(c.choices[0]?.finish_reason, "length");
    assert.equal(c.usage?.completion_tokens, 5);
  });

  it("embeddings from all-MiniLM-L6-v2: 384 dimensions, unit length, the similarity sbert.net publishes (openai client)", async () => {
    const e = await client().embeddings.create({ model: "all-MiniLM-L6-v2", input: ["The new movie is awesome", "The new movie is so great", "A man is riding a horse."] });
    assert.equal(e.data.length, 3);
    const [a, b, c] = e.data.map((d) => d.embedding) as [number[], number[], number[]];
    assert.equal(a.length, 384);
    const dot = (x: number[], y: number[]): number => x.reduce((s, v, i) => s + v * (y[i] as number), 0);
    assert.ok(Math.abs(dot(a, a) - 1) < 1e-5);
    // sbert.net's "Semantic Textual Similarity" example prints 0.8939 for this pair with all-MiniLM-L6-v2.
    assert.ok(Math.abs(dot(a, b) - 0.8939) < 0.001, `cos = ${dot(a, b)}`);
    assert.ok(dot(a, c) < 0.1, `unrelated sentences: cos = ${dot(a, c)}`);
    assert.ok((e.usage?.prompt_tokens ?? 0) > 0);
  });

  it("models list (openai client)", async () => {
    const ids: string[] = [];
    for await (const m of client().models.list()) ids.push(m.id);
    assert.deepEqual(ids, ["chat", "all-MiniLM-L6-v2"]);
  });

  it("a bad key: AuthenticationError whose message the client shows; an unknown model: NotFoundError (openai client)", async () => {
    await assert.rejects(client("not-the-key").chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.AuthenticationError, String(e));
      assert.equal(e.status, 401);
      assert.match(e.message, /invalid API key/);
      return true;
    });
    await assert.rejects(client().chat.completions.create({ model: "nope", messages: [{ role: "user", content: "hi" }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.NotFoundError, String(e));
      assert.match(e.message, /The model `nope` does not exist/);
      return true;
    });
  });

  it("/invocations on the LLM endpoint: an OpenAI body is answered by its type (curl)", async () => {
    const chat = await curl(`${base}/serving-endpoints/chat/invocations`, { key: KEY, data: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }) });
    assert.equal(chat.status, 200, chat.body);
    assert.equal(chat.json.object, "chat.completion");
    const emb = await curl(`${base}/serving-endpoints/chat/invocations`, { key: KEY, data: JSON.stringify({ input: "hi" }) });
    assert.equal(emb.json.data[0].embedding.length, 384);
    const bad = await curl(`${base}/serving-endpoints/chat/invocations`, { key: KEY, data: JSON.stringify({ dataframe_split: { data: [[1]] } }) });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /takes an OpenAI body: messages \(chat\), prompt \(completions\) or input \(embeddings\)/);
  });

  it("--payload-log-dir: the iris requests are payload-log rows in files, partitioned like the bucket", async () => {
    const body = irisBodies().dataframe_split;
    const r = await curl(`${base}/serving-endpoints/iris/invocations`, { key: KEY, data: body });
    assert.equal(r.status, 200, r.body);
    const dir = join(payloadDir, "payload-logs", "endpoint=iris");
    const rows: Record<string, unknown>[] = [];
    for (let i = 0; i < 100 && !rows.some((row) => row["request_body"] === body); i++) {
      await new Promise((res) => setTimeout(res, 100));
      rows.length = 0;
      let files: string[] = [];
      try { files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".jsonl")); } catch { /* not written yet */ }
      for (const f of files) rows.push(...readFileSync(join(dir, f), "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>));
    }
    const row = rows.find((x) => x["request_body"] === body);
    assert.ok(row !== undefined, `no row with the request body among ${rows.length} rows`);
    assert.equal(row["endpoint"], "iris");
    assert.equal(row["status"], 200);
    assert.match(String(row["response_body"]), /predictions/);
  });
});
