// q5_0: 5.5 bpw, blocks of 32 5-bit values (offset 16) with one f16 scale, dotted against q8_0
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

LLMT_BEGIN_NAMESPACE
namespace quant {
LLMT_STRICT_FP_BEGIN

struct block_q5_0 {
    fp16_t d;             // scale: x = d * (q - 16)
    std::uint8_t qh[4];   // bit 4 of value j at bit j of this little-endian uint32
    std::uint8_t qs[16];  // low 4 bits: value j in the low nibble of qs[j], value j + 16 in the high nibble
};
static_assert(sizeof(block_q5_0) == 22, "q5_0 block is 2 + 4 + 16 bytes");

namespace detail {
/// Packs 32 5-bit values into nibbles and a 32-bit high-bit mask (q5_0 / q5_1 layout).
inline void pack_5bit(const std::uint8_t* q, std::uint8_t* qs, std::uint8_t* qh) noexcept {
    std::uint32_t h = 0;
    for (int j = 0; j < 16; ++j) {
        qs[j] = std::uint8_t((q[j] & 0x0f) | (q[j + 16] & 0x0f) << 4);
        h |= std::uint32_t(q[j] >> 4 & 1) << j;
        h |= std::uint32_t(q[j + 16] >> 4 & 1) << (j + 16);
    }
    for (int k = 0; k < 4; ++k) qh[k] = std::uint8_t(h >> (8 * k));
}
/// The 32 5-bit values of a q5_0 / q5_1 block.
inline void unpack_5bit(const std::uint8_t* qs, const std::uint8_t* qh, int* q) noexcept {
    const std::uint32_t h = std::uint32_t(qh[0]) | std::uint32_t(qh[1]) << 8 | std::uint32_t(qh[2]) << 16 | std::uint32_t(qh[3]) << 24;
    for (int j = 0; j < 16; ++j) {
        q[j] = (qs[j] & 0x0f) | int(h >> j & 1) << 4;
        q[j + 16] = (qs[j] >> 4) | int(h >> (j + 16) & 1) << 4;
    }
}
}  // namespace detail

struct q5_0 {
    using block = block_q5_0;
    using vec_dot_type = q8_0;
    static constexpr qtype id = qtype::q5_0;
    static constexpr std::int64_t block_size = 32;

    /// Reference quantizer (ggml's): the value of largest magnitude maps to -16, d = max / -16,
    /// q = min(31, trunc(x / d + 16.5)).
    static void quantize_row(const float* x, block* y, std::int64_t n) {
            for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            float amax = 0, max = 0;
            for (int j = 0; j < block_size; ++j)
                if (amax < std::fabs(x[j])) {
                    amax = std::fabs(x[j]);
                    max = x[j];
                }
            const float d = max / -16.0f;
            const float id = d != 0 ? 1.0f / d : 0.0f;
            y[b].d = to_fp16(d);
            std::uint8_t q[32];
            for (int j = 0; j < block_size; ++j) {
                const float v = x[j] * id;
                q[j] = std::uint8_t(detail::trunc_clamp(v + 16.5f, 31));
            }
            detail::pack_5bit(q, y[b].qs, y[b].qh);
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, y += block_size) {
            const float d = to_f32(x[b].d);
            int q[32];
            detail::unpack_5bit(x[b].qs, x[b].qh, q);
            for (int j = 0; j < block_size; ++j) y[j] = float(q[j] - 16) * d;
        }
    }
    static float vec_dot(std::int64_t n, const block* x, const block_q8_0* y) {
        return detail::dot_q8_0_lanes(n / block_size, x, y, [](const block& a, const block_q8_0& b) { return to_f32(a.d) * to_f32(b.d); },
                                      [](const block& a, int j) {
                                          const int lo = j < 16 ? a.qs[j] & 0x0f : a.qs[j - 16] >> 4;
                                          return (lo | int(a.qh[j / 8] >> (j % 8) & 1) << 4) - 16;
                                      });
    }
};

LLMT_STRICT_FP_END
}  // namespace quant
LLMT_END_NAMESPACE
