// q4_0: 4.5 bpw, blocks of 32 4-bit values (offset 8) with one f16 scale, dotted against q8_0
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {
LLMT_STRICT_FP_BEGIN

struct block_q4_0 {
    fp16_t d;             // scale: x = d * (q - 8)
    std::uint8_t qs[16];  // value j in the low nibble of qs[j], value j + 16 in the high nibble
};
static_assert(sizeof(block_q4_0) == 18, "q4_0 block is 2 + 16 bytes");

struct q4_0 {
    using block = block_q4_0;
    using vec_dot_type = q8_0;
    static constexpr qtype id = qtype::q4_0;
    static constexpr std::int64_t block_size = 32;

    /// Reference quantizer (ggml's): the value of largest magnitude maps to -8, d = max / -8,
    /// q = min(15, trunc(x / d + 8.5)).
    static void quantize_row(const float* x, block* y, std::int64_t n) {
            for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            float amax = 0, max = 0;
            for (int j = 0; j < block_size; ++j)
                if (amax < std::fabs(x[j])) {
                    amax = std::fabs(x[j]);
                    max = x[j];
                }
            const float d = max / -8.0f;
            const float id = d != 0 ? 1.0f / d : 0.0f;
            y[b].d = to_fp16(d);
            for (int j = 0; j < 16; ++j) {
                const float v0 = x[j] * id, v1 = x[j + 16] * id;
                y[b].qs[j] = std::uint8_t(detail::trunc_clamp(v0 + 8.5f, 15) | detail::trunc_clamp(v1 + 8.5f, 15) << 4);
            }
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, y += block_size) {
            const float d = to_f32(x[b].d);
            for (int j = 0; j < 16; ++j) {
                y[j] = float((x[b].qs[j] & 0x0f) - 8) * d;
                y[j + 16] = float((x[b].qs[j] >> 4) - 8) * d;
            }
        }
    }
    static float vec_dot(std::int64_t n, const block* x, const block_q8_0* y) {
        return detail::dot_q8_0_lanes(n / block_size, x, y, [](const block& a, const block_q8_0& b) { return to_f32(a.d) * to_f32(b.d); },
                                      [](const block& a, int j) { return (j < 16 ? a.qs[j] & 0x0f : a.qs[j - 16] >> 4) - 8; });
    }
};

LLMT_STRICT_FP_END
}  // namespace quant
LLMT_END_NAMESPACE
