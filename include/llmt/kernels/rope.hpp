// rope: rotary position embedding of all heads of one token, normal (adjacent pairs) or neox (halves) style
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/simd/xsimd.hpp>

#include <cstdint>

LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {

/// Which values form a rotated pair: normal = (x[2i], x[2i+1]) (llama), neox = (x[i], x[i + n_rot/2]).
enum class rope_style { normal, neox };

namespace detail {
inline void check_rope(std::int64_t head_dim, std::int64_t n_rot) {
    LLMT_CHECK_CODE(n_rot >= 0 && n_rot % 2 == 0 && n_rot <= head_dim, errc::invalid_argument,
                    "rope: n_rot {} must be even and at most head_dim {}", n_rot, head_dim);
}
}  // namespace detail

namespace ref {
/// x: [n_heads][head_dim]; cos_sin: [n_rot/2][2] = (cos θ_i, sin θ_i) for this position. Values past n_rot are untouched.
inline void rope(float* x, std::int64_t n_heads, std::int64_t head_dim, std::int64_t n_rot, const float* cos_sin, rope_style style) {
    detail::check_rope(head_dim, n_rot);
    const std::int64_t half = n_rot / 2;
    for (std::int64_t h = 0; h < n_heads; ++h) {
        float* p = x + h * head_dim;
        for (std::int64_t i = 0; i < half; ++i) {
            const float c = cos_sin[2 * i], s = cos_sin[2 * i + 1];
            float& a = style == rope_style::normal ? p[2 * i] : p[i];
            float& b = style == rope_style::normal ? p[2 * i + 1] : p[i + half];
            const float a0 = a, b0 = b;
            a = a0 * c - b0 * s;
            b = a0 * s + b0 * c;
        }
    }
}
}  // namespace ref

#if LLMT_HAS_XSIMD
namespace detail {
struct swap_pairs {  // batch_constant generator: lane i takes lane i ^ 1
    static constexpr unsigned get(unsigned i, unsigned) { return i ^ 1u; }
};
}  // namespace detail
namespace vec {

template <typename A = simd::arch>
void rope(float* x, std::int64_t n_heads, std::int64_t head_dim, std::int64_t n_rot, const float* cos_sin, rope_style style) {
    using b_t = xsimd::batch<float, A>;
    constexpr std::int64_t N = b_t::size;
    constexpr std::int64_t max_rot = 1024;  // the per-call cos/sin tables live on the stack
    if (n_rot > max_rot) return ref::rope(x, n_heads, head_dim, n_rot, cos_sin, style);
    detail::check_rope(head_dim, n_rot);
    const std::int64_t half = n_rot / 2;
    alignas(64) float ca[max_rot], sa[max_rot];
    if (style == rope_style::normal) {
        // out = x * (c0 c0 c1 c1 ..) + swap_pairs(x) * (-s0 s0 -s1 s1 ..)
        for (std::int64_t i = 0; i < half; ++i) {
            ca[2 * i] = ca[2 * i + 1] = cos_sin[2 * i];
            sa[2 * i] = -cos_sin[2 * i + 1];
            sa[2 * i + 1] = cos_sin[2 * i + 1];
        }
        const auto mask = xsimd::make_batch_constant<xsimd::batch<std::uint32_t, A>, detail::swap_pairs>();
        for (std::int64_t h = 0; h < n_heads; ++h) {
            float* p = x + h * head_dim;
            std::int64_t j = 0;
            for (; j + N <= n_rot; j += N) {
                const auto v = b_t::load_unaligned(p + j);
                const auto sw = xsimd::swizzle(v, mask);
                (v * b_t::load_aligned(ca + j) + sw * b_t::load_aligned(sa + j)).store_unaligned(p + j);
            }
            for (; j < n_rot; j += 2) {
                const float a0 = p[j], b0 = p[j + 1], c = ca[j], s = sa[j + 1];
                p[j] = a0 * c - b0 * s;
                p[j + 1] = a0 * s + b0 * c;
            }
        }
    } else {
        for (std::int64_t i = 0; i < half; ++i) {
            ca[i] = cos_sin[2 * i];
            sa[i] = cos_sin[2 * i + 1];
        }
        for (std::int64_t h = 0; h < n_heads; ++h) {
            float* p = x + h * head_dim;
            std::int64_t i = 0;
            for (; i + N <= half; i += N) {
                const auto a = b_t::load_unaligned(p + i), b = b_t::load_unaligned(p + half + i);
                const auto c = b_t::load_aligned(ca + i), s = b_t::load_aligned(sa + i);
                (a * c - b * s).store_unaligned(p + i);
                (a * s + b * c).store_unaligned(p + half + i);
            }
            for (; i < half; ++i) {
                const float a0 = p[i], b0 = p[i + half], c = ca[i], s = sa[i];
                p[i] = a0 * c - b0 * s;
                p[i + half] = a0 * s + b0 * c;
            }
        }
    }
}
}  // namespace vec
#endif

/// Rotates the first n_rot values of each of the n_heads heads of x ([n_heads][head_dim]) in place.
/// cos_sin: [n_rot/2][2] (cos θ_i, sin θ_i) for this token's position, precomputed by the caller.
inline void rope(float* x, std::int64_t n_heads, std::int64_t head_dim, std::int64_t n_rot, const float* cos_sin, rope_style style) {
#if LLMT_HAS_XSIMD
    vec::rope(x, n_heads, head_dim, n_rot, cos_sin, style);
#else
    ref::rope(x, n_heads, head_dim, n_rot, cos_sin, style);
#endif
}

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
