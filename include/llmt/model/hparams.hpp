// hparams: a model's hyper-parameters read from GGUF metadata ({arch}.* keys) and checked
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/limits.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/layers/rope.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

LLMT_BEGIN_NAMESPACE

/// What differs between the layers of one model (Gemma 3's local and global layers), from the file.
struct layer_hparams {
    std::int64_t window = 0;  // attention window of this layer (positions seen, itself included), 0 = all
    bool local_rope = false;  // rotates with hparams::rope_local instead of hparams::rope
};

/// Sizes and constants of a transformer, from the file (never from the model type).
struct hparams {
    std::string arch;              // general.architecture, the prefix of every key below
    std::int64_t n_vocab = 0;      // rows of token_embd.weight
    std::int64_t n_ctx_train = 0;  // {arch}.context_length
    std::int64_t n_embd = 0;       // {arch}.embedding_length
    std::int64_t n_layer = 0;      // {arch}.block_count
    std::int64_t n_ff = 0;         // {arch}.feed_forward_length
    std::int64_t n_head = 0;       // {arch}.attention.head_count
    std::int64_t n_head_kv = 0;    // {arch}.attention.head_count_kv (default n_head)
    std::int64_t head_dim = 0;     // {arch}.attention.key_length (default n_embd / n_head)
    float norm_eps = 1e-5f;        // the norm policy's epsilon key
    std::int64_t sliding_window = 0;  // {arch}.attention.sliding_window, 0 = none
    layers::rope_params rope;      // {arch}.rope.*
    // Filled by the architecture (model/arch/*.hpp) once block_count is checked against the tensors:
    std::vector<layer_hparams> layer;  // [n_layer]
    layers::rope_params rope_local;    // RoPE of the layers with local_rope (Gemma 3: {arch}.rope.freq_base_swa)
    float embed_scale = 1.0f;          // multiplies the token embeddings (Gemma: sqrt(n_embd))
    float attn_scale = 0.0f;           // multiplies q·k before the softmax; 0 = 1/sqrt(head_dim)
    float logit_softcap = 0.0f;        // logits = c·tanh(logits / c) when > 0 ({arch}.final_logit_softcapping)

    [[nodiscard]] std::int64_t q_dim() const noexcept { return n_head * head_dim; }
    [[nodiscard]] std::int64_t kv_dim() const noexcept { return n_head_kv * head_dim; }

    /// Reads the hyper-parameters; eps_key is the norm policy's key (without the arch prefix).
    static hparams read(const io::gguf_file& f, std::string_view eps_key);
};

inline hparams hparams::read(const io::gguf_file& f, std::string_view eps_key) {
    hparams h;
    h.arch = std::string(f.get_string("general.architecture").value_or(""));
    LLMT_CHECK_CODE(!h.arch.empty(), errc::not_found, "gguf '{}': key 'general.architecture' is missing", f.path());
    auto key = [&](std::string_view k) { return h.arch + "." + std::string(k); };
    auto req = [&](std::string_view k) {
        const auto v = f.require<std::int64_t>(key(k));
        LLMT_CHECK_CODE(v > 0, errc::format, "gguf '{}': '{}' is {}, expected a positive size", f.path(), key(k), v);
        return v;
    };
    h.n_ctx_train = req("context_length");
    h.n_embd = req("embedding_length");
    h.n_layer = req("block_count");
    h.n_ff = req("feed_forward_length");
    h.n_head = req("attention.head_count");
    h.n_head_kv = f.get_or<std::int64_t>(key("attention.head_count_kv"), h.n_head);
    LLMT_CHECK_CODE(h.n_head_kv > 0 && h.n_head % h.n_head_kv == 0, errc::format,
                    "gguf '{}': head_count {} is not a multiple of head_count_kv {}", f.path(), h.n_head, h.n_head_kv);
    LLMT_CHECK_CODE(f.contains(key("attention.key_length")) || h.n_embd % h.n_head == 0, errc::format,
                    "gguf '{}': embedding_length {} is not a multiple of head_count {}", f.path(), h.n_embd, h.n_head);
    h.head_dim = f.get_or<std::int64_t>(key("attention.key_length"), h.n_embd / h.n_head);
    LLMT_CHECK_CODE(h.head_dim > 0, errc::format, "gguf '{}': '{}' is {}, expected a positive size", f.path(),
                    key("attention.key_length"), h.head_dim);
    const auto v_dim = f.get_or<std::int64_t>(key("attention.value_length"), h.head_dim);
    LLMT_CHECK_CODE(v_dim == h.head_dim, errc::unsupported,
                    "gguf '{}': key_length {} and value_length {} differ (not supported)", f.path(), h.head_dim, v_dim);
    // q_dim() and kv_dim() are compared with tensor shapes: their products must not wrap first
    LLMT_CHECK_CODE(checked_mul(h.n_head, h.head_dim), errc::format, "gguf '{}': head_count {} × key_length {} overflows",
                    f.path(), h.n_head, h.head_dim);
    // A float key, which must be finite when present (inf and NaN pass a "> 0" check or poison every logit).
    auto real = [&](std::string_view k, float def) {
        const float v = f.get_or<float>(key(k), def);
        LLMT_CHECK_CODE(std::isfinite(v), errc::format, "gguf '{}': '{}' is {}, expected a finite number", f.path(), key(k), v);
        return v;
    };
    h.norm_eps = real(eps_key, 1e-5f);
    LLMT_CHECK_CODE(h.norm_eps > 0, errc::format, "gguf '{}': '{}' is {}, expected a positive number", f.path(), key(eps_key),
                    h.norm_eps);
    h.sliding_window = f.get_or<std::int64_t>(key("attention.sliding_window"), 0);
    LLMT_CHECK_CODE(h.sliding_window >= 0, errc::format, "gguf '{}': negative sliding window", f.path());

    auto& r = h.rope;
    r.n_rot = f.get_or<std::int64_t>(key("rope.dimension_count"), h.head_dim);
    LLMT_CHECK_CODE(r.n_rot > 0 && r.n_rot % 2 == 0 && r.n_rot <= h.head_dim, errc::format,
                    "gguf '{}': rope.dimension_count {} must be even and at most the head size {}", f.path(), r.n_rot, h.head_dim);
    r.freq_base = real("rope.freq_base", 10000.0f);
    LLMT_CHECK_CODE(r.freq_base > 0, errc::format, "gguf '{}': '{}' is {}, expected a positive number", f.path(),
                    key("rope.freq_base"), r.freq_base);
    const std::string_view type = f.get_string(key("rope.scaling.type")).value_or("none");
    float factor = real("rope.scaling.factor", 0.0f);
    const float linear = real("rope.scale_linear", 0.0f);
    if (factor == 0.0f) factor = linear;  // older files
    if (type == "none" || factor == 0.0f || factor == 1.0f) {
        r.scaling = layers::rope_scaling::none;
    } else if (type == "linear") {
        r.scaling = layers::rope_scaling::linear;
    } else if (type == "yarn") {
        r.scaling = layers::rope_scaling::yarn;
    } else {
        fail(errc::unsupported, "gguf '{}': rope scaling type '{}' is not supported (none, linear, yarn)", f.path(), type);
    }
    LLMT_CHECK_CODE(r.scaling == layers::rope_scaling::none || factor > 0, errc::format,
                    "gguf '{}': rope.scaling.factor {} must be positive", f.path(), factor);
    r.freq_scale = r.scaling == layers::rope_scaling::none ? 1.0f : 1.0f / factor;
    r.n_ctx_orig = f.get_or<std::int64_t>(key("rope.scaling.original_context_length"), h.n_ctx_train);
    LLMT_CHECK_CODE(r.n_ctx_orig > 0, errc::format, "gguf '{}': '{}' is {}, expected a positive size", f.path(),
                    key("rope.scaling.original_context_length"), r.n_ctx_orig);
    r.attn_factor = real("rope.scaling.attn_factor", 1.0f);
    const float ext_factor = real("rope.scaling.yarn_ext_factor", 1.0f);
    const float yarn_attn_factor = real("rope.scaling.yarn_attn_factor", 1.0f);
    const float beta_fast = real("rope.scaling.yarn_beta_fast", 32.0f);
    const float beta_slow = real("rope.scaling.yarn_beta_slow", 1.0f);
    if (r.scaling == layers::rope_scaling::yarn) {
        r.ext_factor = ext_factor < 0 ? 1.0f : ext_factor;  // llama.cpp's "unset"
        r.attn_factor *= yarn_attn_factor;
        r.beta_fast = beta_fast;
        r.beta_slow = beta_slow;
    }
    return h;
}

LLMT_END_NAMESPACE
