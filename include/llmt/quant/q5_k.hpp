// q5_k: 5.5 bpw K-quant, 256-value super-blocks of 8 sub-blocks with 6-bit scales and mins
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/k_quant_common.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/quant/qtype.hpp>

#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct block_q5_k {
    fp16_t d;                  // super-block scale of the 6-bit sub-block scales
    fp16_t dmin;               // super-block scale of the 6-bit sub-block mins
    std::uint8_t scales[12];   // 8 scales + 8 mins, 6 bits each (detail::unpack_scale_min6)
    std::uint8_t qh[qk_k / 8]; // 5th bits: byte l, bit 2c holds value 64c+l, bit 2c+1 value 64c+32+l
    std::uint8_t qs[qk_k / 2]; // low 4 bits; byte 32c+l: low nibble value 64c+l, high nibble 64c+32+l
};
static_assert(sizeof(block_q5_k) == 176, "q5_K block is 2 + 2 + 12 + 32 + 128 bytes");

LLMT_STRICT_FP_BEGIN
/// x = d * sc_j * q - dmin * m_j for sub-block j (32 values), q in 0..31.
struct q5_k {
    using block = block_q5_k;
    using vec_dot_type = q8_k;
    static constexpr qtype id = qtype::q5_k;
    static constexpr std::int64_t block_size = qk_k;

    /// ggml's reference quantizer (no importance matrix): as q4_k with 32 levels and 16 trial
    /// scales from -0.5 by 0.1.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        std::uint8_t L[qk_k];
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            detail::quantize_scale_min_superblock(x, 31, -0.5f, 15, L, o.d, o.dmin, o.scales);
            for (int l = 0; l < 32; ++l) o.qh[l] = 0;
            for (int c = 0; c < 4; ++c) {
                for (int l = 0; l < 32; ++l) {
                    const int lo = L[64 * c + l], hi = L[64 * c + 32 + l];
                    o.qh[l] = std::uint8_t(o.qh[l] | ((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
                    o.qs[32 * c + l] = std::uint8_t((lo & 0xF) | ((hi & 0xF) << 4));
                }
            }
        }
    }

    /// The 5-bit level (0..31) of value i of a block.
    static int level(const block& o, int i) noexcept {
        const int c = i / 64, half = (i / 32) % 2, l = i % 32;
        return ((o.qs[32 * c + l] >> (4 * half)) & 0xF) | (((o.qh[l] >> (2 * c + half)) & 1) << 4);
    }

    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const block& o = x[b];
            const float d = to_f32(o.d), dmin = to_f32(o.dmin);
            for (int j = 0; j < 8; ++j) {
                std::uint8_t sc, m;
                detail::unpack_scale_min6(j, o.scales, sc, m);
                const float dj = d * float(sc), mj = dmin * float(m);
                for (int i = 32 * j; i < 32 * j + 32; ++i) *y++ = dj * float(level(o, i)) - mj;
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
                int acc = 0;
                for (int i = 32 * j; i < 32 * j + 32; ++i) acc += level(o, i) * a.qs[i];
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
