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
        std::uint8_t L[qk_k];
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            detail::quantize_scale_min_superblock(x, 15, -1.0f, 20, L, o.d, o.dmin, o.scales);
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
        double s = 0;  // exact integer sums, combined in double: the reference the SIMD dots are held to
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
            s += double(to_f32(o.d)) * a.d * qsum - double(to_f32(o.dmin)) * a.d * msum;
        }
        return float(s);
    }
};
LLMT_STRICT_FP_END

}  // namespace quant
LLMT_END_NAMESPACE
