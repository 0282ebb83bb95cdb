// tq2_0: 2.0625 bpw ternary, 256 values in {-1, 0, 1} stored as 2-bit codes, one f16 scale
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/k_quant_common.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct block_tq2_0 {
    std::uint8_t qs[qk_k / 4]; // codes t+1; byte 32h+m, bits 2k..2k+1 hold value 128h+32k+m
    fp16_t d;                  // scale: x = d * t, t in {-1, 0, 1}
};
static_assert(sizeof(block_tq2_0) == 66, "tq2_0 block is 64 + 2 bytes");

LLMT_STRICT_FP_BEGIN
struct tq2_0 {
    using block = block_tq2_0;
    using vec_dot_type = q8_k;
    static constexpr qtype id = qtype::tq2_0;
    static constexpr std::int64_t block_size = qk_k;

    /// The code (0..3; 0..2 from the quantizer) of value i of a block; the value is code - 1.
    static int code(const block& o, int i) noexcept {
        const int h = i / 128, k = (i / 32) % 4, m = i % 32;
        return (o.qs[32 * h + m] >> (2 * k)) & 3;
    }

    /// ggml's reference: d = max|x|, t = round(x / d) (half away from zero).
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            float amax = 0;
            for (int j = 0; j < qk_k; ++j) amax = std::max(amax, std::fabs(x[j]));
            const float id = amax != 0 ? 1.0f / amax : 0.0f;
            o.d = to_fp16(amax);
            for (auto& q : o.qs) q = 0;
            for (int i = 0; i < qk_k; ++i) {
                const int c = detail::round_clamp(x[i] * id, -1, 1) + 1;
                const int byte = 32 * (i / 128) + i % 32;
                o.qs[byte] = std::uint8_t(o.qs[byte] | (c << (2 * ((i / 32) % 4))));
            }
        }
    }

    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const float d = to_f32(x[b].d);
            for (int i = 0; i < qk_k; ++i) *y++ = float(code(x[b], i) - 1) * d;
        }
    }

    static float vec_dot(std::int64_t n, const block* x, const q8_k::block* y) {
        double s = 0;  // exact integer sums, combined in double
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int acc = 0;
            for (int i = 0; i < qk_k; ++i) acc += (code(x[b], i) - 1) * y[b].qs[i];
            s += double(to_f32(x[b].d)) * y[b].d * acc;
        }
        return float(s);
    }
};
LLMT_STRICT_FP_END

}  // namespace quant
LLMT_END_NAMESPACE
