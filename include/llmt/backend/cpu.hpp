// backend::cpu: the operations a forward pass runs, on the CPU kernels (the seam CUDA/Metal backends specialise)
#pragma once

#include <llmt/config.hpp>
#include <llmt/attention/attend.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/core/token.hpp>
#include <llmt/kernels/activation.hpp>
#include <llmt/kernels/get_rows.hpp>
#include <llmt/kernels/matmul.hpp>
#include <llmt/kernels/rope.hpp>
#include <llmt/kernels/weight_ref.hpp>
#include <llmt/layers/rope.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace backend {

/// The CPU backend: every operation of the forward pass, on row-major f32 activations in host
/// memory. Each computes a token's row the same way whatever the other rows of the call and the
/// thread count, the property batch-invariant decoding rests on. Another backend is a type with
/// these static members (and its own buffers); the forward never calls a kernel directly.
struct cpu {
    static constexpr const char* name = "cpu";

    /// y[t] = W·x[t] for t < n (kernels::matmul: the weight read once for all n rows).
    static void matmul(thread_pool& pool, const kernels::weight_ref& w, const float* x, std::int64_t n, float* y,
                       std::byte* scratch) {
        kernels::matmul(pool, w, x, n, y, scratch);
    }
    /// y[t] += b for t < n rows of `rows` values.
    static void add_bias(float* y, const float* b, std::int64_t rows, std::int64_t n) {
        for (std::int64_t t = 0; t < n; ++t) kernels::add(y + t * rows, y + t * rows, b, rows);
    }
    /// x *= s over n values.
    static void scale(float* x, float s, std::int64_t n) noexcept {
        for (std::int64_t i = 0; i < n; ++i) x[i] *= s;
    }
    /// x = c · tanh(x / c) over n values (logit soft-capping).
    static void softcap(float* x, float c, std::int64_t n) noexcept {
        for (std::int64_t i = 0; i < n; ++i) x[i] = c * std::tanh(x[i] / c);
    }
    /// y = a + b over n values.
    static void add(float* y, const float* a, const float* b, std::int64_t n) { kernels::add(y, a, b, n); }
    /// y[t] = Norm(x[t]) · w (+ bias) for t < n rows of d values.
    template <typename Norm>
    static void norm(float* y, const float* x, const float* w, const float* bias, std::int64_t d, std::int64_t n, float eps) {
        for (std::int64_t t = 0; t < n; ++t) Norm::apply(y + t * d, x + t * d, w, bias, d, eps);
    }
    /// x[t] = the embedding row of tokens[t].
    static void get_rows(const kernels::weight_ref& w, const token_id* tokens, std::int64_t n, float* x) {
        kernels::get_rows(w, tokens, n, x);
    }
    /// RoPE of n_heads heads of one token with the (cos, sin) row of its position.
    static void rope(float* x, std::int64_t n_heads, std::int64_t head_dim, std::int64_t n_rot, const float* cs,
                     kernels::rope_style style) noexcept {
        kernels::rope(x, n_heads, head_dim, n_rot, cs, style);
    }
    /// The feed-forward activation (gated: out = act(gate) · up).
    template <typename FeedForward>
    static void activate(float* out, const float* gate, const float* up, std::int64_t n) {
        FeedForward::activate(out, gate, up, n);
    }
    /// Attention of n tokens, token t over the rows 0..pos[t] of its sequence's view.
    template <kv_cache::kv_element E, typename View>
    static void attend(thread_pool& pool, const View* views, const std::int64_t* pos, std::int64_t layer,
                       const attention::attention_shape& s, const float* q, std::int64_t n, float* out, float* scores,
                       std::int64_t scores_stride) {
        attention::attend_views<E>(pool, views, pos, layer, s, q, n, out, scores, scores_stride);
    }
};

}  // namespace backend
LLMT_END_NAMESPACE
