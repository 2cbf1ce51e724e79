/**
 * Sentence embeddings from all-MiniLM-L6-v2 (exported to ONNX by tools/python/minilm_to_onnx.py): the model's own
 * WordPiece tokenizer (tokenizer.json, run by @huggingface/tokenizers) and the ONNX graph run by onnxruntime-node;
 * 384-dimensional, mean-pooled, unit-length vectors, as sentence-transformers computes them.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { loadOnnxModel, type TensorModel } from "../onnx-model.ts";

export interface Embedder {
  /** The model's name (`all-MiniLM-L6-v2`). */
  readonly model: string;
  readonly dimensions: number;
  /** Longest input in tokens; longer inputs are truncated (sentence-transformers' max_seq_length). */
  readonly maxTokens: number;
  /** Tokens of `text` with the model's special tokens, before truncation. */
  countTokens(text: string): number;
  /** One vector per text, and the number of tokens embedded. */
  embed(texts: readonly string[]): Promise<{ vectors: number[][]; tokens: number }>;
  close(): Promise<void>;
}

/** Loads the exported model from `dir` (model.onnx, tokenizer.json, tokenizer_config.json). */
export async function loadEmbedder(dir: string, maxTokens = 256): Promise<Embedder> {
  const tokenizer = new Tokenizer(
    JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")) as object,
    JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")) as object,
  );
  const model: TensorModel = await loadOnnxModel(join(dir, "model.onnx"));
  const dimensions = model.outputs[0]?.shape[1] ?? 384;
  const sep = tokenizer.token_to_id("[SEP]") ?? 102;
  const encode = (text: string): number[] => {
    const ids = tokenizer.encode(text).ids;
    return ids.length <= maxTokens ? ids : [...ids.slice(0, maxTokens - 1), sep];
  };
  return {
    model: "all-MiniLM-L6-v2",
    dimensions,
    maxTokens,
    countTokens: (text) => tokenizer.encode(text).ids.length,
    async embed(texts) {
      if (texts.length === 0) return { vectors: [], tokens: 0 };
      const encoded = texts.map(encode);
      const width = Math.max(...encoded.map((e) => e.length));
      const ids: number[] = [];
      const mask: number[] = [];
      for (const e of encoded) {
        for (let i = 0; i < width; i++) {
          ids.push(e[i] ?? 0);
          mask.push(i < e.length ? 1 : 0);
        }
      }
      const shape = [texts.length, width];
      const [out] = await model.run([
        { name: "input_ids", datatype: "INT64", shape, data: ids },
        { name: "attention_mask", datatype: "INT64", shape, data: mask },
        { name: "token_type_ids", datatype: "INT64", shape, data: new Array<number>(ids.length).fill(0) },
      ]);
      const flat = (out?.data ?? []) as number[];
      const vectors = encoded.map((_, i) => flat.slice(i * dimensions, (i + 1) * dimensions));
      return { vectors, tokens: encoded.reduce((a, e) => a + e.length, 0) };
    },
    close: () => model.close(),
  };
}
