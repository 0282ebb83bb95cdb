// q3_k: 3.4375 bpw K-quant, 256-value super-blocks of 16 sub-blocks with 6-bit signed scales, symmetric
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/k_quant_common.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/quant/qtype.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct block_q3_k {
    std::uint8_t hmask[qk_k / 8]; // 3rd bits: byte l, bit 4c+g holds value 128c+32g+l
    std::uint8_t qs[qk_k / 4];    // low 2 bits; byte 32c+l, bits 2g..2g+1 hold value 128c+32g+l
    std::uint8_t scales[12];      // 16 scales of 6 bits, stored +32: low nibbles in bytes 0-7 (scales 0-7 low, 8-15 high), top bits in 8-11
    fp16_t d;                     // super-block scale
};
static_assert(sizeof(block_q3_k) == 110, "q3_K block is 32 + 64 + 12 + 2 bytes");

LLMT_STRICT_FP_BEGIN
/// x = d * (s_j - 32) * (q - 4) for sub-block j (16 values), q in 0..7, s_j in 0..63.
struct q3_k {
    using block = block_q3_k;
    using vec_dot_type = q8_k;
    static constexpr qtype id = qtype::q3_k;
    static constexpr std::int64_t block_size = qk_k;

    /// Sub-block j's 6-bit scale, 0..63 (subtract 32 for the signed value).
    static int scale(const block& o, int j) noexcept {
        const int lo = j < 8 ? o.scales[j] & 0xF : o.scales[j - 8] >> 4;
        const int hi = (o.scales[8 + j % 4] >> (2 * (j / 4))) & 3;
        return lo | (hi << 4);
    }
    /// The signed level (-4..3) of value i of a block.
    static int level(const block& o, int i) noexcept {
        const int c = i / 128, g = (i / 32) % 4, l = i % 32;
        const int low = (o.qs[32 * c + l] >> (2 * g)) & 3;
        return (o.hmask[l] >> (4 * c + g)) & 1 ? low : low - 4;
    }

    /// ggml's reference quantizer: per 16 values a symmetric scale refined level by level
    /// (weights x^2), the 16 scales to 6 bits against the largest (mapped to -32), then every
    /// value re-rounded with the stored scale.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        std::int8_t L[qk_k];
        float scales[16];
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            float max_scale = 0, amax = 0;
            for (int j = 0; j < 16; ++j) {
                scales[j] = detail::refine_symmetric_scale(16, 4, x + 16 * j, L + 16 * j);
                const float a = std::fabs(scales[j]);
                if (a > amax) { amax = a; max_scale = scales[j]; }
            }
            for (auto& s : o.scales) s = 0;
            if (max_scale != 0) {
                const float iscale = -32.0f / max_scale;
                for (int j = 0; j < 16; ++j) {
                    // narrowed to int8 before the clamp, as in the reference
                    const auto r = static_cast<std::int8_t>(detail::nearest_int(iscale * scales[j]));
                    const int l = detail::clamp_int(r, -32, 31) + 32;
                    if (j < 8) o.scales[j] = std::uint8_t(l & 0xF);
                    else o.scales[j - 8] = std::uint8_t(o.scales[j - 8] | ((l & 0xF) << 4));
                    o.scales[8 + j % 4] = std::uint8_t(o.scales[8 + j % 4] | ((l >> 4) << (2 * (j / 4))));
                }
                o.d = to_fp16(1 / iscale);
            } else {
                o.d = to_fp16(0.0f);
            }
            for (int j = 0; j < 16; ++j) {
                const float d = to_f32(o.d) * float(scale(o, j) - 32);
                if (d == 0) continue;  // keep the levels of the search
                for (int i = 0; i < 16; ++i)
                    L[16 * j + i] = std::int8_t(detail::clamp_int(detail::nearest_int(x[16 * j + i] / d), -4, 3) + 4);
            }
            for (auto& h : o.hmask) h = 0;
            for (int i = 0; i < qk_k; ++i) {
                if (L[i] > 3) {
                    o.hmask[i % 32] = std::uint8_t(o.hmask[i % 32] | (1 << (i / 32)));
                    L[i] = std::int8_t(L[i] - 4);
                }
            }
            for (int c = 0; c < 2; ++c)
                for (int l = 0; l < 32; ++l) {
                    const std::int8_t* Lc = L + 128 * c + l;
                    o.qs[32 * c + l] = std::uint8_t(Lc[0] | (Lc[32] << 2) | (Lc[64] << 4) | (Lc[96] << 6));
                }
        }
    }

    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const float d = to_f32(x[b].d);
            for (int j = 0; j < 16; ++j) {
                const float dl = d * float(scale(x[b], j) - 32);
                for (int i = 16 * j; i < 16 * j + 16; ++i) *y++ = dl * float(level(x[b], i));
            }
        }
    }

    static float vec_dot(std::int64_t n, const block* x, const q8_k::block* y) {
        double s = 0;  // exact integer sums, combined in double: the reference the SIMD dots are held to
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int qsum = 0;
            for (int j = 0; j < 16; ++j) {
                int acc = 0;
                for (int i = 16 * j; i < 16 * j + 16; ++i) acc += level(x[b], i) * y[b].qs[i];
                qsum += (scale(x[b], j) - 32) * acc;
            }
            s += double(to_f32(x[b].d)) * y[b].d * qsum;
        }
        return float(s);
    }
};
LLMT_STRICT_FP_END

}  // namespace quant
LLMT_END_NAMESPACE
