// q4_k: 4.5 bpw K-quant, 256-value super-blocks of 8 sub-blocks with 6-bit scales and mins
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

struct block_q4_k {
    fp16_t d;                  // super-block scale of the 6-bit sub-block scales
    fp16_t dmin;               // super-block scale of the 6-bit sub-block mins
    std::uint8_t scales[12];   // 8 scales + 8 mins, 6 bits each (detail::unpack_scale_min6)
    std::uint8_t qs[qk_k / 2]; // 4-bit quants; byte 32c+l: low nibble value 64c+l, high nibble 64c+32+l
};
static_assert(sizeof(block_q4_k) == 144, "q4_K block is 2 + 2 + 12 + 128 bytes");

LLMT_STRICT_FP_BEGIN
/// x = d * sc_j * q - dmin * m_j for sub-block j (32 values), q in 0..15.
struct q4_k {
    using block = block_q4_k;
    using vec_dot_type = q8_k;
    static constexpr qtype id = qtype::q4_k;
    static constexpr std::int64_t block_size = qk_k;

    /// ggml's reference quantizer (no importance matrix): per sub-block an affine fit weighted by
    /// rms + |x| (20 steps from -1.0 by 0.1), scales and mins to 6 bits against their maxima, then
    /// every value re-rounded with the stored scale and min.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        std::uint8_t L[qk_k], Laux[32];
        float w[32], scales[8], mins[8];
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            float max_scale = 0, max_min = 0;
            for (int j = 0; j < 8; ++j) {
                const float* xs = x + 32 * j;
                float sum_x2 = 0;
                for (int l = 0; l < 32; ++l) sum_x2 += xs[l] * xs[l];
                const float av_x = std::sqrt(sum_x2 / 32);
                for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(xs[l]);
                scales[j] = detail::search_affine_scale(32, 15, xs, w, L + 32 * j, &mins[j], Laux, -1.0f, 0.1f, 20, false);
                if (scales[j] > max_scale) max_scale = scales[j];
                if (mins[j] > max_min) max_min = mins[j];
            }
            const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
            const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
            for (int j = 0; j < 8; ++j) {
                auto ls = static_cast<std::uint8_t>(detail::nearest_int(inv_scale * scales[j]));
                auto lm = static_cast<std::uint8_t>(detail::nearest_int(inv_min * mins[j]));
                detail::pack_scale_min6(j, ls < 63 ? ls : 63, lm < 63 ? lm : 63, o.scales);
            }
            o.d = to_fp16(max_scale / 63.0f);
            o.dmin = to_fp16(max_min / 63.0f);
            for (int j = 0; j < 8; ++j) {
                std::uint8_t sc, m;
                detail::unpack_scale_min6(j, o.scales, sc, m);
                const float d = to_f32(o.d) * float(sc);
                if (d == 0) continue;  // keep the levels of the search
                const float dm = to_f32(o.dmin) * float(m);
                for (int i = 0; i < 32; ++i)
                    L[32 * j + i] = std::uint8_t(detail::clamp_int(detail::nearest_int((x[32 * j + i] + dm) / d), 0, 15));
            }
            for (int c = 0; c < 4; ++c)
                for (int l = 0; l < 32; ++l)
                    o.qs[32 * c + l] = std::uint8_t(L[64 * c + l] | (L[64 * c + 32 + l] << 4));
        }
    }

    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const block& o = x[b];
            const float d = to_f32(o.d), dmin = to_f32(o.dmin);
            for (int c = 0; c < 4; ++c) {
                std::uint8_t sc0, m0, sc1, m1;
                detail::unpack_scale_min6(2 * c, o.scales, sc0, m0);
                detail::unpack_scale_min6(2 * c + 1, o.scales, sc1, m1);
                const float d0 = d * float(sc0), mm0 = dmin * float(m0);
                const float d1 = d * float(sc1), mm1 = dmin * float(m1);
                const std::uint8_t* q = o.qs + 32 * c;
                for (int l = 0; l < 32; ++l) *y++ = d0 * float(q[l] & 0xF) - mm0;
                for (int l = 0; l < 32; ++l) *y++ = d1 * float(q[l] >> 4) - mm1;
            }
        }
    }

    static float vec_dot(std::int64_t n, const block* x, const q8_k::block* y) {
        float s = 0;
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const block& o = x[b];
            const q8_k::block& a = y[b];
            int qsum = 0, msum = 0;
            for (int j = 0; j < 8; ++j) {
                std::uint8_t sc, m;
                detail::unpack_scale_min6(j, o.scales, sc, m);
                const std::uint8_t* q = o.qs + 32 * (j / 2);
                const int shift = 4 * (j % 2);
                int acc = 0;
                for (int l = 0; l < 32; ++l) acc += ((q[l] >> shift) & 0xF) * a.qs[32 * j + l];
                qsum += int(sc) * acc;
                msum += int(m) * (a.bsums[2 * j] + a.bsums[2 * j + 1]);
            }
            s += to_f32(o.d) * a.d * float(qsum) - to_f32(o.dmin) * a.d * float(msum);
        }
        return s;
    }
};
LLMT_STRICT_FP_END

}  // namespace quant
LLMT_END_NAMESPACE
