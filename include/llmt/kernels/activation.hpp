// activation: element-wise silu, gelu (tanh approximation), swiglu, geglu, add, mul, scale (scalar reference and xsimd)
#pragma once

#include <llmt/config.hpp>
#include <llmt/simd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {

namespace detail {
// Constants of ggml's tanh-approximated GELU.
inline constexpr float gelu_coef_a = 0.044715f;
inline constexpr float sqrt_2_over_pi = 0.79788456080286535587989211986876f;
}  // namespace detail

namespace ref {
inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
inline float gelu(float x) {
    return 0.5f * x * (1.0f + std::tanh(detail::sqrt_2_over_pi * x * (1.0f + detail::gelu_coef_a * x * x)));
}
inline void silu(float* y, const float* x, std::int64_t n) { for (std::int64_t i = 0; i < n; ++i) y[i] = silu(x[i]); }
inline void gelu(float* y, const float* x, std::int64_t n) { for (std::int64_t i = 0; i < n; ++i) y[i] = gelu(x[i]); }
inline void swiglu(float* y, const float* gate, const float* up, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = silu(gate[i]) * up[i];
}
inline void geglu(float* y, const float* gate, const float* up, std::int64_t n) {
    for (std::int64_t i = 0; i < n; ++i) y[i] = gelu(gate[i]) * up[i];
}
inline void add(float* y, const float* a, const float* b, std::int64_t n) { for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] + b[i]; }
inline void mul(float* y, const float* a, const float* b, std::int64_t n) { for (std::int64_t i = 0; i < n; ++i) y[i] = a[i] * b[i]; }
inline void scale(float* y, const float* x, float s, std::int64_t n) { for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] * s; }
}  // namespace ref

#if LLMT_HAS_XSIMD
namespace vec {
template <typename A>
LLMT_ALWAYS_INLINE xsimd::batch<float, A> silu(const xsimd::batch<float, A>& x) {
    using b_t = xsimd::batch<float, A>;
    return x / (b_t(1.0f) + xsimd::exp(-x));
}
template <typename A>
LLMT_ALWAYS_INLINE xsimd::batch<float, A> gelu(const xsimd::batch<float, A>& x) {
    using b_t = xsimd::batch<float, A>;
    const auto inner = b_t(kernels::detail::sqrt_2_over_pi) * x * (b_t(1.0f) + b_t(kernels::detail::gelu_coef_a) * x * x);
    return b_t(0.5f) * x * (b_t(1.0f) + xsimd::tanh(inner));
}

/// Applies op(batch...) over full batches, and over the tail too, zero-padded to one batch: every value
/// goes through the same operations wherever it falls, so a token's values do not depend on how many
/// tokens an array of [n_tokens][width] holds (DESIGN.md §8: the forward activates whole batches at once,
/// and a scalar tail would compute a row's last values with std::exp in one batch and xsimd::exp in another).
template <typename A, typename Op>
LLMT_ALWAYS_INLINE void map1(float* y, const float* x, std::int64_t n, Op op) {
    using b_t = xsimd::batch<float, A>;
    constexpr std::int64_t N = b_t::size;
    std::int64_t i = 0;
    for (; i + N <= n; i += N) op(b_t::load_unaligned(x + i)).store_unaligned(y + i);
    if (i < n) {
        alignas(64) float t[N] = {};
        std::copy(x + i, x + n, t);
        op(b_t::load_aligned(t)).store_aligned(t);
        std::copy(t, t + (n - i), y + i);
    }
}
template <typename A, typename Op>
LLMT_ALWAYS_INLINE void map2(float* y, const float* a, const float* b, std::int64_t n, Op op) {
    using b_t = xsimd::batch<float, A>;
    constexpr std::int64_t N = b_t::size;
    std::int64_t i = 0;
    for (; i + N <= n; i += N) op(b_t::load_unaligned(a + i), b_t::load_unaligned(b + i)).store_unaligned(y + i);
    if (i < n) {
        alignas(64) float ta[N] = {}, tb[N] = {};
        std::copy(a + i, a + n, ta);
        std::copy(b + i, b + n, tb);
        op(b_t::load_aligned(ta), b_t::load_aligned(tb)).store_aligned(ta);
        std::copy(ta, ta + (n - i), y + i);
    }
}

template <typename A = simd::arch>
void silu(float* y, const float* x, std::int64_t n) {
    map1<A>(y, x, n, [](auto v) { return vec::silu<A>(v); });
}
template <typename A = simd::arch>
void gelu(float* y, const float* x, std::int64_t n) {
    map1<A>(y, x, n, [](auto v) { return vec::gelu<A>(v); });
}
template <typename A = simd::arch>
void swiglu(float* y, const float* gate, const float* up, std::int64_t n) {
    map2<A>(y, gate, up, n, [](auto g, auto u) { return vec::silu<A>(g) * u; });
}
template <typename A = simd::arch>
void geglu(float* y, const float* gate, const float* up, std::int64_t n) {
    map2<A>(y, gate, up, n, [](auto g, auto u) { return vec::gelu<A>(g) * u; });
}
template <typename A = simd::arch>
void add(float* y, const float* a, const float* b, std::int64_t n) {
    map2<A>(y, a, b, n, [](auto p, auto q) { return p + q; });
}
template <typename A = simd::arch>
void mul(float* y, const float* a, const float* b, std::int64_t n) {
    map2<A>(y, a, b, n, [](auto p, auto q) { return p * q; });
}
template <typename A = simd::arch>
void scale(float* y, const float* x, float s, std::int64_t n) {
    const xsimd::batch<float, A> vs(s);
    map1<A>(y, x, n, [vs](auto v) { return v * vs; });
}
}  // namespace vec
#define LLMT_KERNELS_IMPL vec
#else
#define LLMT_KERNELS_IMPL ref
#endif

/// y = x·σ(x) (ggml: x / (1 + expf(-x))). y may alias x; likewise for all functions here.
inline void silu(float* y, const float* x, std::int64_t n) { LLMT_KERNELS_IMPL::silu(y, x, n); }
/// y = 0.5·x·(1 + tanh(√(2/π)·x·(1 + 0.044715·x²))).
inline void gelu(float* y, const float* x, std::int64_t n) { LLMT_KERNELS_IMPL::gelu(y, x, n); }
/// y = silu(gate)·up.
inline void swiglu(float* y, const float* gate, const float* up, std::int64_t n) { LLMT_KERNELS_IMPL::swiglu(y, gate, up, n); }
/// y = gelu(gate)·up.
inline void geglu(float* y, const float* gate, const float* up, std::int64_t n) { LLMT_KERNELS_IMPL::geglu(y, gate, up, n); }
/// y = a + b.
inline void add(float* y, const float* a, const float* b, std::int64_t n) { LLMT_KERNELS_IMPL::add(y, a, b, n); }
/// y = a·b.
inline void mul(float* y, const float* a, const float* b, std::int64_t n) { LLMT_KERNELS_IMPL::mul(y, a, b, n); }
/// y = x·s.
inline void scale(float* y, const float* x, float s, std::int64_t n) { LLMT_KERNELS_IMPL::scale(y, x, s, n); }
#undef LLMT_KERNELS_IMPL

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
