// q8_1: 9 bpw, blocks of 32 int8 values with an f16 scale and an f16 d·Σq; the activation format of q4_1/q5_1
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {
LLMT_STRICT_FP_BEGIN

struct block_q8_1 {
    fp16_t d;            // scale: x = d * q
    fp16_t s;            // d * (sum of qs), lets q4_1/q5_1 add their min in one product
    std::int8_t qs[32];  // quants
};
static_assert(sizeof(block_q8_1) == 36, "q8_1 block is 2 + 2 + 32 bytes");

namespace detail {
/// Σ_b d·dy·Σ q·qy + m·s over the blocks of a format with a min (q4_1, q5_1). q(x, j) gives value j
/// of block x. Summed as ggml's AVX2 kernel (which made the reference dots) does: 8 partial sums of
/// 4 values each updated with FMA, the min terms summed apart, partial sums folded pairwise. With
/// d·Σq and m·s nearly cancelling, plain sequential summation lands 1e-5 (relative) away.
template <typename Block, typename Q>
float dot_with_min(std::int64_t nb, const Block* x, const block_q8_1* y, Q q) {
    float lane[8] = {};
    float summs = 0;
    for (std::int64_t b = 0; b < nb; ++b) {
        summs += to_f32(x[b].m) * to_f32(y[b].s);
        const float dd = to_f32(x[b].d) * to_f32(y[b].d);
        for (int k = 0; k < 8; ++k) {
            int acc = 0;
            for (int j = 4 * k; j < 4 * k + 4; ++j) acc += q(x[b], j) * y[b].qs[j];
            lane[k] = std::fma(dd, float(acc), lane[k]);
        }
    }
    float h[4];
    for (int k = 0; k < 4; ++k) h[k] = lane[k] + lane[k + 4];
    return ((h[0] + h[2]) + (h[1] + h[3])) + summs;
}
}  // namespace detail

struct q8_1 {
    using block = block_q8_1;
    using vec_dot_type = q8_1;
    static constexpr qtype id = qtype::q8_1;
    static constexpr std::int64_t block_size = 32;

    /// Reference quantizer: d = max|x| / 127, q = roundf(x / d), s = d * Σq (stored as f16 like ggml).
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            float amax = 0;
            for (int j = 0; j < block_size; ++j) amax = std::fmax(amax, std::fabs(x[j]));
            const float d = amax / 127.0f;
            const float id = d != 0 ? 1.0f / d : 0.0f;
            int sum = 0;
            for (int j = 0; j < block_size; ++j) {
                y[b].qs[j] = static_cast<std::int8_t>(detail::round_clamp(x[j] * id, -127, 127));
                sum += y[b].qs[j];
            }
            y[b].d = to_fp16(d);
            y[b].s = to_fp16(float(sum) * d);
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const float d = to_f32(x[b].d);
            for (int j = 0; j < block_size; ++j) y[b * block_size + j] = x[b].qs[j] * d;
        }
    }
    static float vec_dot(std::int64_t n, const block* x, const block* y) {
        float s = 0;
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int acc = 0;
            for (int j = 0; j < block_size; ++j) acc += int(x[b].qs[j]) * int(y[b].qs[j]);
            s += float(acc) * (to_f32(x[b].d) * to_f32(y[b].d));
        }
        return s;
    }
};

LLMT_STRICT_FP_END
}  // namespace quant
LLMT_END_NAMESPACE
