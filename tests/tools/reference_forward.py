#!/usr/bin/env python3
"""reference_forward: a float64 forward pass of a `llama` GGUF over its dequantized weights (numpy + gguf).

Every weight is dequantized by the gguf package (to float32, as ggml dequantizes) and widened to float64;
every operation (RMSNorm, RoPE, attention, SwiGLU, the output matrix) is done in float64 with no
quantization of activations and an exact KV cache: the logits of "exact arithmetic" on the file's weights.

  reference_forward.py MODEL.gguf OUT.npy TOKEN [TOKEN ...]     # OUT: float64 [n_tokens][n_vocab]
"""
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


class llama_file:
    def __init__(self, path):
        r = GGUFReader(path)
        self.kv = {k: f.contents() for k, f in r.fields.items()}
        arch = self.kv["general.architecture"]
        assert arch == "llama", f"reference_forward knows the llama architecture only, not {arch}"
        self.t = {t.name: t for t in r.tensors}
        g = lambda k, d=None: self.kv.get(f"llama.{k}", d)  # noqa: E731
        self.n_layer = g("block_count")
        self.n_embd = g("embedding_length")
        self.n_head = g("attention.head_count")
        self.n_head_kv = g("attention.head_count_kv", self.n_head)
        self.head_dim = self.n_embd // self.n_head
        self.eps = g("attention.layer_norm_rms_epsilon")
        self.base = g("rope.freq_base", 10000.0)
        self.n_rot = g("rope.dimension_count", self.head_dim)

    def w(self, name):
        t = self.t[name]
        a = dequantize(t.data, t.tensor_type)
        return np.asarray(a, dtype=np.float64).reshape([int(x) for x in reversed(t.shape)] if len(t.shape) > 1 else -1)


def rms_norm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def rope(x, pos, n_rot, base):
    # llama's "normal" RoPE: rotates the pairs (2i, 2i+1) of each head by pos * base^(-2i/n_rot)
    inv = base ** (-np.arange(0, n_rot, 2, dtype=np.float64) / n_rot)
    ang = pos[:, None] * inv[None, :]  # [n_tok][n_rot/2]
    c, s = np.cos(ang)[:, None, :], np.sin(ang)[:, None, :]
    y = x.copy()
    a, b = x[..., 0:n_rot:2], x[..., 1:n_rot:2]
    y[..., 0:n_rot:2] = a * c - b * s
    y[..., 1:n_rot:2] = a * s + b * c
    return y


def forward(m, tokens):
    return forward_many(m, [tokens])[0]


def forward_many(m, sequences):
    """The logits of each token sequence ([n_tokens][n_vocab] each), every matrix dequantized once."""
    emb = m.w("token_embd.weight")  # [n_vocab][n_embd]
    xs = [emb[np.asarray(t)] for t in sequences]
    hd, nh, nkv = m.head_dim, m.n_head, m.n_head_kv
    for il in range(m.n_layer):
        p = f"blk.{il}."
        w = {k: m.w(p + k + ".weight") for k in ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output",
                                                 "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")}
        for i, x in enumerate(xs):
            n = len(x)
            pos = np.arange(n, dtype=np.float64)
            mask = np.triu(np.full((n, n), -np.inf), 1)
            h = rms_norm(x, w["attn_norm"], m.eps)
            q = (h @ w["attn_q"].T).reshape(n, nh, hd)
            k = (h @ w["attn_k"].T).reshape(n, nkv, hd)
            v = (h @ w["attn_v"].T).reshape(n, nkv, hd)
            q, k = rope(q, pos, m.n_rot, m.base), rope(k, pos, m.n_rot, m.base)
            out = np.empty((n, nh, hd))
            for hh in range(nh):
                kh = hh // (nh // nkv)
                s = q[:, hh, :] @ k[:, kh, :].T / np.sqrt(hd) + mask
                s = np.exp(s - s.max(axis=1, keepdims=True))
                s /= s.sum(axis=1, keepdims=True)
                out[:, hh, :] = s @ v[:, kh, :]
            x = x + out.reshape(n, nh * hd) @ w["attn_output"].T
            h = rms_norm(x, w["ffn_norm"], m.eps)
            g = h @ w["ffn_gate"].T
            u = h @ w["ffn_up"].T
            xs[i] = x + (g / (1.0 + np.exp(-g)) * u) @ w["ffn_down"].T
    norm = m.w("output_norm.weight")
    out_w = m.w("output.weight") if "output.weight" in m.t else emb
    return [rms_norm(x, norm, m.eps) @ out_w.T for x in xs]


def main():
    path, out = sys.argv[1:3]
    tokens = [int(t) for t in sys.argv[3:]]
    np.save(out, forward(llama_file(path), tokens))
    return 0


if __name__ == "__main__":
    sys.exit(main())
