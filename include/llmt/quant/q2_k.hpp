// q2_k: 2.625 bpw K-quant, 256-value super-blocks of 16 sub-blocks with 4-bit scales and mins
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

struct block_q2_k {
    std::uint8_t scales[qk_k / 16]; // per 16 values: scale in the low nibble, min in the high nibble
    std::uint8_t qs[qk_k / 4];      // 2-bit quants; byte 32c+l, bits 2g..2g+1 hold value 128c+32g+l
    fp16_t d;                       // super-block scale of the scales
    fp16_t dmin;                    // super-block scale of the mins
};
static_assert(sizeof(block_q2_k) == 84, "q2_K block is 16 + 64 + 2 + 2 bytes");

LLMT_STRICT_FP_BEGIN
/// x = d * (sc_j & 15) * q - dmin * (sc_j >> 4) for sub-block j (16 values), q in 0..3.
struct q2_k {
    using block = block_q2_k;
    using vec_dot_type = q8_k;
    static constexpr qtype id = qtype::q2_k;
    static constexpr std::int64_t block_size = qk_k;

    /// The level (0..3) of value i of a block.
    static int level(const block& o, int i) noexcept {
        const int c = i / 128, g = (i / 32) % 4, l = i % 32;
        return (o.qs[32 * c + l] >> (2 * g)) & 3;
    }

    /// ggml's reference quantizer (no importance matrix): per 16 values an affine fit weighted by
    /// |x| minimising absolute error (16 trial scales from -0.5 by 0.1), scales and mins to 4 bits
    /// against their maxima, then every value re-rounded with the stored scale and min.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        constexpr float q4scale = 15.0f;
        std::uint8_t L[qk_k], Laux[16];
        float w[16], scales[16], mins[16];
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            float max_scale = 0, max_min = 0;
            for (int j = 0; j < 16; ++j) {
                for (int l = 0; l < 16; ++l) w[l] = std::fabs(x[16 * j + l]);
                scales[j] = detail::search_affine_scale(16, 3, x + 16 * j, w, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, true);
                if (scales[j] > max_scale) max_scale = scales[j];
                if (mins[j] > max_min) max_min = mins[j];
            }
            if (max_scale > 0) {
                const float iscale = q4scale / max_scale;
                for (int j = 0; j < 16; ++j) o.scales[j] = std::uint8_t(detail::nearest_int(iscale * scales[j]));
                o.d = to_fp16(max_scale / q4scale);
            } else {
                for (auto& s : o.scales) s = 0;
                o.d = to_fp16(0.0f);
            }
            if (max_min > 0) {
                const float iscale = q4scale / max_min;
                for (int j = 0; j < 16; ++j)
                    o.scales[j] = std::uint8_t(o.scales[j] | (detail::nearest_int(iscale * mins[j]) << 4));
                o.dmin = to_fp16(max_min / q4scale);
            } else {
                o.dmin = to_fp16(0.0f);
            }
            for (int j = 0; j < 16; ++j) {
                const float d = to_f32(o.d) * float(o.scales[j] & 0xF);
                if (d == 0) continue;  // keep the levels of the search
                const float dm = to_f32(o.dmin) * float(o.scales[j] >> 4);
                for (int i = 0; i < 16; ++i)
                    L[16 * j + i] = std::uint8_t(detail::clamp_int(detail::nearest_int((x[16 * j + i] + dm) / d), 0, 3));
            }
            for (int c = 0; c < 2; ++c)
                for (int l = 0; l < 32; ++l) {
                    const std::uint8_t* Lc = L + 128 * c + l;
                    o.qs[32 * c + l] = std::uint8_t(Lc[0] | (Lc[32] << 2) | (Lc[64] << 4) | (Lc[96] << 6));
                }
        }
    }

    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const float d = to_f32(x[b].d), dmin = to_f32(x[b].dmin);
            for (int j = 0; j < 16; ++j) {
                const float dl = d * float(x[b].scales[j] & 0xF), ml = dmin * float(x[b].scales[j] >> 4);
                for (int i = 16 * j; i < 16 * j + 16; ++i) *y++ = dl * float(level(x[b], i)) - ml;
            }
        }
    }

    static float vec_dot(std::int64_t n, const block* x, const q8_k::block* y) {
        double s = 0;  // exact integer sums, combined in double: the reference the SIMD dots are held to
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int qsum = 0, msum = 0;
            for (int j = 0; j < 16; ++j) {
                int acc = 0;
                for (int i = 16 * j; i < 16 * j + 16; ++i) acc += level(x[b], i) * y[b].qs[i];
                qsum += (x[b].scales[j] & 0xF) * acc;
                msum += (x[b].scales[j] >> 4) * y[b].bsums[j];
            }
            s += double(y[b].d) * to_f32(x[b].d) * qsum - double(y[b].d) * to_f32(x[b].dmin) * msum;
        }
        return float(s);
    }
};
LLMT_STRICT_FP_END

}  // namespace quant
LLMT_END_NAMESPACE
