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
    n = len(tokens)
    emb = m.w("token_embd.weight")  # [n_vocab][n_embd]
    x = emb[np.asarray(tokens)]
    pos = np.arange(n, dtype=np.float64)
    mask = np.triu(np.full((n, n), -np.inf), 1)
    hd, nh, nkv = m.head_dim, m.n_head, m.n_head_kv
    for il in range(m.n_layer):
        p = f"blk.{il}."
        h = rms_norm(x, m.w(p + "attn_norm.weight"), m.eps)
        q = (h @ m.w(p + "attn_q.weight").T).reshape(n, nh, hd)
        k = (h @ m.w(p + "attn_k.weight").T).reshape(n, nkv, hd)
        v = (h @ m.w(p + "attn_v.weight").T).reshape(n, nkv, hd)
        q, k = rope(q, pos, m.n_rot, m.base), rope(k, pos, m.n_rot, m.base)
        out = np.empty((n, nh, hd))
        for hh in range(nh):
            kh = hh // (nh // nkv)
            s = q[:, hh, :] @ k[:, kh, :].T / np.sqrt(hd) + mask
            s = np.exp(s - s.max(axis=1, keepdims=True))
            s /= s.sum(axis=1, keepdims=True)
            out[:, hh, :] = s @ v[:, kh, :]
        x = x + out.reshape(n, nh * hd) @ m.w(p + "attn_output.weight").T
        h = rms_norm(x, m.w(p + "ffn_norm.weight"), m.eps)
        g = h @ m.w(p + "ffn_gate.weight").T
        u = h @ m.w(p + "ffn_up.weight").T
        x = x + (g / (1.0 + np.exp(-g)) * u) @ m.w(p + "ffn_down.weight").T
    x = rms_norm(x, m.w("output_norm.weight"), m.eps)
    out_w = m.w("output.weight") if "output.weight" in m.t else emb
    return x @ out_w.T


def main():
    path, out = sys.argv[1:3]
    tokens = [int(t) for t in sys.argv[3:]]
    np.save(out, forward(llama_file(path), tokens))
    return 0


if __name__ == "__main__":
    sys.exit(main())
