"""Makes the repository's example LLM: a tiny Llama-architecture causal LM with seeded random weights and a
byte-level tokenizer, in the Hugging Face layout vLLM loads (config.json, model.safetensors, tokenizer.json,
tokenizer_config.json with a chat template, generation_config.json). Its answers are meaningless text: it exists
so the GPU stacks' `llm-chat` endpoint comes up on a fresh stack from a model the program itself publishes, and
exercises the whole vLLM path (download, load, OpenAI API) — point `exampleLlmUri` at a real model to serve one.

    .venv/python/bin/python examples/models/make_tiny_llm.py [--out examples/models]

Needs only numpy (the safetensors file is written directly: an 8-byte header length, a JSON header, raw
little-endian bfloat16 tensors). The same seed gives the same bytes on every run.
"""
import argparse
import hashlib
import json
import os
import struct

import numpy as np

HIDDEN = 128
LAYERS = 2
HEADS = 2          # head_dim 64, a size every vLLM attention backend supports
KV_HEADS = 2
INTERMEDIATE = 256
VOCAB = 384        # 256 byte tokens + 3 special tokens, padded to a multiple of 128
SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]


def bytes_to_unicode():
    """GPT-2's byte-level alphabet: each byte → one printable character (the ByteLevel pre-tokenizer's vocabulary)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def bf16(a):
    """float32 → bfloat16 bytes (round to nearest even on the upper 16 bits)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype("<u2")
    return rounded.tobytes()


def tensors(rng):
    out = {"model.embed_tokens.weight": rng.normal(0, 0.02, (VOCAB, HIDDEN)), "model.norm.weight": np.ones(HIDDEN)}
    head_dim = HIDDEN // HEADS
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        out[p + "input_layernorm.weight"] = np.ones(HIDDEN)
        out[p + "post_attention_layernorm.weight"] = np.ones(HIDDEN)
        out[p + "self_attn.q_proj.weight"] = rng.normal(0, 0.02, (HEADS * head_dim, HIDDEN))
        out[p + "self_attn.k_proj.weight"] = rng.normal(0, 0.02, (KV_HEADS * head_dim, HIDDEN))
        out[p + "self_attn.v_proj.weight"] = rng.normal(0, 0.02, (KV_HEADS * head_dim, HIDDEN))
        out[p + "self_attn.o_proj.weight"] = rng.normal(0, 0.02, (HIDDEN, HEADS * head_dim))
        out[p + "mlp.gate_proj.weight"] = rng.normal(0, 0.02, (INTERMEDIATE, HIDDEN))
        out[p + "mlp.up_proj.weight"] = rng.normal(0, 0.02, (INTERMEDIATE, HIDDEN))
        out[p + "mlp.down_proj.weight"] = rng.normal(0, 0.02, (HIDDEN, INTERMEDIATE))
    return out


def write_safetensors(path, named):
    header, blobs, offset = {}, [], 0
    for name in sorted(named):
        data = bf16(named[name])
        header[name] = {"dtype": "BF16", "shape": list(named[name].shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    out = os.path.join(ap.parse_args().out, "tiny-llm")
    os.makedirs(out, exist_ok=True)
    bos, eos, eot = 256, 257, 258
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": HIDDEN, "intermediate_size": INTERMEDIATE,
        "num_hidden_layers": LAYERS, "num_attention_heads": HEADS, "num_key_value_heads": KV_HEADS, "head_dim": HIDDEN // HEADS,
        "vocab_size": VOCAB, "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "rope_scaling": None,
        "hidden_act": "silu", "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
        "bos_token_id": bos, "eos_token_id": [eos, eot], "pad_token_id": eos, "initializer_range": 0.02, "use_cache": True,
    }
    alphabet = bytes_to_unicode()
    vocab = {alphabet[b]: b for b in range(256)}
    special = [{"id": 256 + i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": True} for i, t in enumerate(SPECIALS)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tokenizer = {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": special, "normalizer": None,
        "pre_tokenizer": byte_level, "post_processor": byte_level, "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False, "vocab": vocab, "merges": []},
    }
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast", "bos_token": SPECIALS[0], "eos_token": SPECIALS[2], "pad_token": SPECIALS[1],
        "model_max_length": 2048, "clean_up_tokenization_spaces": False,
        "added_tokens_decoder": {str(t["id"]): {k: v for k, v in t.items() if k != "id"} for t in special},
        "chat_template": "{{ bos_token }}{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}",
    }
    generation = {"bos_token_id": bos, "eos_token_id": [eos, eot], "max_new_tokens": 64, "do_sample": False}
    files = {
        "config.json": json.dumps(config, indent=2) + "\n",
        "tokenizer.json": json.dumps(tokenizer, ensure_ascii=False) + "\n",
        "tokenizer_config.json": json.dumps(tokenizer_config, indent=2) + "\n",
        "generation_config.json": json.dumps(generation, indent=2) + "\n",
    }
    for name, text in files.items():
        with open(os.path.join(out, name), "w", encoding="utf-8") as f:
            f.write(text)
    named = tensors(np.random.default_rng(0))
    write_safetensors(os.path.join(out, "model.safetensors"), named)
    count = sum(int(np.prod(a.shape)) for a in named.values())
    sums = []
    for name in sorted(os.listdir(out)):
        with open(os.path.join(out, name), "rb") as f:
            sums.append(f"{hashlib.sha256(f.read()).hexdigest()}  tiny-llm/{name}")
    print(f"tiny-llm: {count} parameters, {os.path.getsize(os.path.join(out, 'model.safetensors'))} bytes of weights")
    print("\n".join(sums))


if __name__ == "__main__":
    main()
