// f16_half_accum: an opt-in F16 dot that accumulates in half precision, as llama.cpp does on AVX512-FP16 CPUs
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/quant/f16.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace kernels {

namespace detail {

/// s + err (err: the exact rounding error of s, |err| ≤ ulp(s)/2) rounded once to the nearest fp16
/// value, ties to even; beyond the largest finite fp16 value, ±infinity.
inline double round_to_half(double s, double err) noexcept {
    if (s == 0.0 || !std::isfinite(s)) return s;
    const int e = std::ilogb(s);
    const int quantum = e < -14 ? -24 : e - 10;  // exponent of one fp16 ulp at s (subnormals: 2^-24)
    const double q = std::ldexp(s, -quantum);    // exact: a power-of-two scaling
    const double f = std::floor(q);
    const double frac = q - f;
    double r = f;
    if (frac > 0.5 || (frac == 0.5 && (err > 0 || (err == 0 && std::fmod(f, 2.0) != 0)))) r = f + 1;
    const double v = std::copysign(std::ldexp(r, quantum), s);  // copysign: a result rounded to zero keeps the sign of s
    return std::fabs(v) > 65504.0 ? std::copysign(INFINITY, v) : v;
}
/// fma in half precision: x·y + a rounded once (x, y, a fp16 values; x·y is exact in double).
inline double fma_half(double x, double y, double a) noexcept {
    const double p = x * y;
    const double s = p + a;
    const double bb = s - p;
    const double err = (p - (s - bb)) + (a - bb);  // two-sum: s + err == p + a exactly
    return round_to_half(s, err);
}
inline double add_half(double a, double b) noexcept { return round_to_half(a + b, 0.0); }  // exact in double

}  // namespace detail

/// The dot of n f16 values, with the operations and order of ggml's AVX512-FP16 vec_dot_f16:
/// lane l of 128 accumulates x[i]·y[i] for i ≡ l (mod 128) over the first n − n mod 128 values;
/// the four 32-lane vectors are added (0+2, 1+3, then the two), the 32 lanes reduced by halves
/// (16, 8, 4, then lanes 0+2 and 1+3, then the two), every step rounded to fp16; the tail is
/// added in double, and the sum returned as float.
inline float dot_f16_half_accum(std::int64_t n, const fp16_t* x, const fp16_t* y) noexcept {
    const std::int64_t np = n & ~std::int64_t(127);
    double sum = 0.0;
    if (np > 0) {
        double acc[128] = {};
        for (std::int64_t i = 0; i < np; i += 128)
            for (int l = 0; l < 128; ++l) acc[l] = detail::fma_half(to_f32(x[i + l]), to_f32(y[i + l]), acc[l]);
        double v[32];
        for (int l = 0; l < 32; ++l)
            v[l] = detail::add_half(detail::add_half(acc[l], acc[64 + l]), detail::add_half(acc[32 + l], acc[96 + l]));
        for (int width = 16; width >= 4; width /= 2)
            for (int l = 0; l < width; ++l) v[l] = detail::add_half(v[l], v[l + width]);
        sum = detail::add_half(detail::add_half(v[0], v[2]), detail::add_half(v[1], v[3]));
    }
    for (std::int64_t i = np; i < n; ++i) sum += double(to_f32(x[i]) * to_f32(y[i]));
    return float(sum);
}

namespace detail {
struct f16_half_accum_impl {
    static constexpr int mr = 4, nc = 4;
    static std::size_t act_bytes(std::int64_t k) { return blocks_act_bytes<quant::f16>(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { prepare_blocks<quant::f16>(x, out, k); }
    template <int NR, int NC>
    static void tile(const gemm_args& g) {
        for (int c = 0; c < NC; ++c)
            for (int r = 0; r < NR; ++r)
                g.y[std::size_t(c) * g.y_stride + std::size_t(r)] =
                    dot_f16_half_accum(g.k, reinterpret_cast<const fp16_t*>(g.w + std::size_t(r) * g.w_stride),
                                       reinterpret_cast<const fp16_t*>(g.a + std::size_t(c) * g.a_stride));
    }
};
constexpr kernel_entry make_f16_half_accum_entry() noexcept {
    kernel_entry e;
    e.type = quant::qtype::f16;
    e.isa = simd::isa::scalar;
    e.mr = f16_half_accum_impl::mr;
    e.nc = f16_half_accum_impl::nc;
    e.act_bytes = &f16_half_accum_impl::act_bytes;
    e.prepare = &f16_half_accum_impl::prepare;
    e.tile = &tile_dispatch<f16_half_accum_impl>;
    return e;  // no decode or batched path: every product goes through the tile above
}
}  // namespace detail

/// The kernel entry of F16 weights with f16_accumulation::half (scalar emulation, slow: for reproducing references).
inline constexpr kernel_entry f16_half_accum_entry = detail::make_f16_half_accum_entry();

}  // namespace kernels
LLMT_END_NAMESPACE
