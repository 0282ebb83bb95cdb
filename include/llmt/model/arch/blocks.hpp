// blocks: the weights of a transformer block's building blocks (attention, feed-forward, norms) and the architecture concept
#pragma once

#include <llmt/config.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/kernels/weight_ref.hpp>
#include <llmt/model/hparams.hpp>

#include <array>
#include <concepts>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace detail {

/// A linear layer: y = W·x (+ b).
struct linear {
    kernels::weight_ref w;  // [rows][cols], any format of the model's weight_types
    std::vector<float> b;   // [rows] or empty
};

/// Attention's weights. A fused QKV tensor is loaded as three row ranges of itself (wq, wk, wv):
/// the forward never knows which layout the file had.
struct attention_weights {
    linear wq;                    // [n_head * head_dim][n_embd]
    linear wk;                    // [n_head_kv * head_dim][n_embd]
    linear wv;                    // [n_head_kv * head_dim][n_embd]
    linear wo;                    // [n_embd][n_head * head_dim]
    std::vector<float> q_norm;    // [head_dim] per-head RMSNorm of the queries (Qwen3, Gemma 3) or empty
    std::vector<float> k_norm;    // [head_dim] per-head RMSNorm of the keys or empty
};

/// A feed-forward's weights; a fused gate-up tensor is loaded as two row ranges (gate, then up).
struct ffn_weights {
    linear gate;  // [n_ff][n_embd] (gated kinds only)
    linear up;    // [n_ff][n_embd]
    linear down;  // [n_embd][n_ff]
};

/// A norm's gain and optional bias.
struct norm_weights {
    std::vector<float> w;  // [n] or empty (the norm absent)
    std::vector<float> b;  // [n] or empty
};

/// The weights of one transformer block; which parts an architecture fills and how it wires them
/// is its own (model/arch/*.hpp).
struct block_weights {
    norm_weights attn_norm;       // [n_embd] before attention
    attention_weights attn;
    norm_weights attn_post_norm;  // [n_embd] after attention (sandwich: Gemma 2/3) or empty
    norm_weights ffn_norm;        // [n_embd] before the feed-forward
    ffn_weights ffn;
    norm_weights ffn_post_norm;   // [n_embd] after the feed-forward (sandwich) or empty
};

/// What an architecture's loader may ask of the model while it loads: tensors by name, checked
/// against their expected shape and marked as read. Only used at load.
struct tensor_loader {
    /// The matrix `base.weight` [rows][cols] and the vector `base.bias` if present.
    std::function<linear(const std::string& base, std::int64_t rows, std::int64_t cols)> lin;
    /// Rows [first, first + rows) of the matrix `base.weight` [total_rows][cols] (a fused tensor), and of its bias.
    std::function<linear(const std::string& base, std::int64_t first, std::int64_t rows, std::int64_t total_rows, std::int64_t cols)>
        lin_rows;
    /// A vector of n values dequantized to f32; empty when absent and not required.
    std::function<std::vector<float>(const std::string& name, std::int64_t n, bool required)> vec;
    /// Whether the file holds this tensor (does not mark it read).
    std::function<bool(const std::string& name)> has;
    bool gated = true;  // the model type's feed-forward is gated (reads ffn_gate)
};

inline std::string blk(std::int64_t l, std::string_view what) { return "blk." + std::to_string(l) + "." + std::string(what); }

inline norm_weights load_norm(tensor_loader& ld, const std::string& base, std::int64_t n, bool required) {
    return {ld.vec(base + ".weight", n, required), ld.vec(base + ".bias", n, false)};
}

}  // namespace detail

namespace arch {
/// An architecture (model/arch/<name>.hpp): the general.architecture names it reads, the
/// hyper-parameters of its own (per-layer windows and RoPE bases, scales) read into hparams, the
/// tensors of a block, and the block's wiring as calls to the context's building blocks
/// (`template <typename Ops> static void block(Ops&, const detail::block_weights&, std::int64_t layer)`).
template <typename A>
concept architecture = requires(const io::gguf_file& f, hparams& hp, detail::tensor_loader& ld, detail::block_weights& b) {
    { A::name } -> std::convertible_to<std::string_view>;
    { A::names.size() } -> std::convertible_to<std::size_t>;
    A::read(f, hp);
    A::load_block(ld, std::as_const(hp), std::int64_t{0}, b);
};
}  // namespace arch

LLMT_END_NAMESPACE
