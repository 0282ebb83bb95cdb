// q5_1: 6 bpw, blocks of 32 5-bit values with an f16 scale and an f16 min, dotted against q8_1
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/q5_0.hpp>
#include <llmt/quant/q8_1.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cfloat>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {
LLMT_STRICT_FP_BEGIN

struct block_q5_1 {
    fp16_t d;             // scale: x = d * q + m
    fp16_t m;             // block minimum
    std::uint8_t qh[4];   // bit 4 of value j at bit j of this little-endian uint32
    std::uint8_t qs[16];  // low 4 bits: value j in the low nibble of qs[j], value j + 16 in the high nibble
};
static_assert(sizeof(block_q5_1) == 24, "q5_1 block is 2 + 2 + 4 + 16 bytes");

struct q5_1 {
    using block = block_q5_1;
    using vec_dot_type = q8_1;
    static constexpr qtype id = qtype::q5_1;
    static constexpr std::int64_t block_size = 32;

    /// Reference quantizer (ggml's): d = (max - min) / 31, q = trunc((x - min) / d + 0.5).
    static void quantize_row(const float* x, block* y, std::int64_t n) {
            for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            float min = FLT_MAX, max = -FLT_MAX;
            for (int j = 0; j < block_size; ++j) {
                if (x[j] < min) min = x[j];
                if (x[j] > max) max = x[j];
            }
            const float d = (max - min) / 31.0f;
            const float id = d != 0 ? 1.0f / d : 0.0f;
            y[b].d = to_fp16(d);
            y[b].m = to_fp16(min);
            std::uint8_t q[32];
            for (int j = 0; j < block_size; ++j) {
                const float v = (x[j] - min) * id;
                q[j] = std::uint8_t(detail::trunc_clamp(v + 0.5f, 31));
            }
            detail::pack_5bit(q, y[b].qs, y[b].qh);
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
            for (std::int64_t b = 0; b < n / block_size; ++b, y += block_size) {
            const float d = to_f32(x[b].d), m = to_f32(x[b].m);
            int q[32];
            detail::unpack_5bit(x[b].qs, x[b].qh, q);
            for (int j = 0; j < block_size; ++j) y[j] = float(q[j]) * d + m;
        }
    }
    /// Σ (d·q + m)·(dy·qy) = d·dy·Σ q·qy + m·s, with s = dy·Σ qy from the q8_1 block.
    static float vec_dot(std::int64_t n, const block* x, const block_q8_1* y) {
        return detail::dot_with_min(n / block_size, x, y, [](const block& b, int j) {
            const int lo = j < 16 ? b.qs[j] & 0x0f : b.qs[j - 16] >> 4;
            return lo | int(b.qh[j / 8] >> (j % 8) & 1) << 4;
        });
    }
};

LLMT_STRICT_FP_END
}  // namespace quant
LLMT_END_NAMESPACE
