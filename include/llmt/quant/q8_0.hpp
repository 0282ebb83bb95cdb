// q8_0: 8.5 bpw, blocks of 32 int8 values with one f16 scale; also the activation format of q4_0/q5_0/q8_0/iq4_nl/mxfp4
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct block_q8_0 {
    fp16_t d;           // scale: x = d * q
    std::int8_t qs[32];  // quants
};
static_assert(sizeof(block_q8_0) == 34, "q8_0 block is 2 + 32 bytes");

namespace detail {
/// Σ_b d_b · Σ_j q(x_b, j) · y_b.qs[j] over blocks of 32, summed in the order of ggml's AVX2 kernels:
/// eight float lanes, lane k taking (one rounding, fma) the integer sum of elements 4k..4k+3 of each
/// block, then a fixed pairwise reduction. When block sums cancel, plain sequential summation lands
/// 1e-5 (relative) away from ggml's dots; this order reproduces them bit for bit.
template <typename Block, typename Scale, typename Q>
float dot_q8_0_lanes(std::int64_t nb, const Block* x, const block_q8_0* y, Scale scale, Q q) {
    float lane[8] = {};
    for (std::int64_t b = 0; b < nb; ++b) {
        const float dd = scale(x[b], y[b]);
        for (int k = 0; k < 8; ++k) {
            int acc = 0;
            for (int j = 4 * k; j < 4 * k + 4; ++j) acc += q(x[b], j) * y[b].qs[j];
            lane[k] = std::fma(dd, float(acc), lane[k]);
        }
    }
    float h[4];
    for (int k = 0; k < 4; ++k) h[k] = lane[k] + lane[k + 4];
    return (h[0] + h[2]) + (h[1] + h[3]);
}
}  // namespace detail

struct q8_0 {
    using block = block_q8_0;
    using vec_dot_type = q8_0;
    static constexpr qtype id = qtype::q8_0;
    static constexpr std::int64_t block_size = 32;

    /// Reference quantizer: d = max|x| / 127, q = round(x / d) (round half away from zero, as roundf).
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            float amax = 0;
            for (int j = 0; j < block_size; ++j) amax = std::fmax(amax, std::fabs(x[j]));
            const float d = amax / 127.0f;
            const float id = d != 0 ? 1.0f / d : 0.0f;
            y[b].d = to_fp16(d);
            // round_clamp: roundf on finite values (|x * id| <= 127 already); NaN (from a NaN or an
            // infinite input) gives 0, where a plain cast would be undefined behaviour.
            for (int j = 0; j < block_size; ++j) y[b].qs[j] = static_cast<std::int8_t>(detail::round_clamp(x[j] * id, -127, 127));
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const float d = to_f32(x[b].d);
            for (int j = 0; j < block_size; ++j) y[b * block_size + j] = x[b].qs[j] * d;
        }
    }
    static float vec_dot(std::int64_t n, const block* x, const block* y) {
        return detail::dot_q8_0_lanes(n / block_size, x, y, [](const block& a, const block& b) { return to_f32(a.d) * to_f32(b.d); },
                                      [](const block& a, int j) { return int(a.qs[j]); });
    }
};

}  // namespace quant
LLMT_END_NAMESPACE
