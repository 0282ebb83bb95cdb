// q4_1: 5 bpw, blocks of 32 4-bit values with an f16 scale and an f16 min, dotted against q8_1
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/q8_1.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cfloat>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {
LLMT_STRICT_FP_BEGIN

struct block_q4_1 {
    fp16_t d;             // scale: x = d * q + m
    fp16_t m;             // block minimum
    std::uint8_t qs[16];  // value j in the low nibble of qs[j], value j + 16 in the high nibble
};
static_assert(sizeof(block_q4_1) == 20, "q4_1 block is 2 + 2 + 16 bytes");

struct q4_1 {
    using block = block_q4_1;
    using vec_dot_type = q8_1;
    static constexpr qtype id = qtype::q4_1;
    static constexpr std::int64_t block_size = 32;

    /// Reference quantizer (ggml's): d = (max - min) / 15, q = min(15, trunc((x - min) / d + 0.5)).
    static void quantize_row(const float* x, block* y, std::int64_t n) {
            for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            float min = FLT_MAX, max = -FLT_MAX;
            for (int j = 0; j < block_size; ++j) {
                if (x[j] < min) min = x[j];
                if (x[j] > max) max = x[j];
            }
            const float d = (max - min) / 15.0f;
            const float id = d != 0 ? 1.0f / d : 0.0f;
            y[b].d = to_fp16(d);
            y[b].m = to_fp16(min);
            for (int j = 0; j < 16; ++j) {
                const float v0 = (x[j] - min) * id, v1 = (x[j + 16] - min) * id;
                y[b].qs[j] = std::uint8_t(detail::trunc_clamp(v0 + 0.5f, 15) | detail::trunc_clamp(v1 + 0.5f, 15) << 4);
            }
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
            for (std::int64_t b = 0; b < n / block_size; ++b, y += block_size) {
            const float d = to_f32(x[b].d), m = to_f32(x[b].m);
            for (int j = 0; j < 16; ++j) {
                y[j] = float(x[b].qs[j] & 0x0f) * d + m;
                y[j + 16] = float(x[b].qs[j] >> 4) * d + m;
            }
        }
    }
    /// Σ (d·q + m)·(dy·qy) = d·dy·Σ q·qy + m·s, with s = dy·Σ qy from the q8_1 block.
    static float vec_dot(std::int64_t n, const block* x, const block_q8_1* y) {
        return detail::dot_with_min(n / block_size, x, y, [](const block& b, int j) {
            return j < 16 ? b.qs[j] & 0x0f : b.qs[j - 16] >> 4;
        });
    }
};

LLMT_STRICT_FP_END
}  // namespace quant
LLMT_END_NAMESPACE
