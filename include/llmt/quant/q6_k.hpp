// q6_k: 6.5625 bpw K-quant, 256-value super-blocks of 16 sub-blocks with 8-bit scales, symmetric
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/k_quant_common.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/quant/qtype.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct block_q6_k {
    std::uint8_t ql[qk_k / 2];     // low 4 bits; 128-value half h, byte 64h+l: values 128h+l (low nibble) and 128h+64+l (high); byte 64h+32+l: 128h+32+l and 128h+96+l
    std::uint8_t qh[qk_k / 4];     // high 2 bits; byte 32h+l: values 128h+l, +32, +64, +96 at bits 0, 2, 4, 6
    std::int8_t scales[qk_k / 16]; // one scale per 16 values
    fp16_t d;                      // super-block scale
};
static_assert(sizeof(block_q6_k) == 210, "q6_K block is 128 + 64 + 16 + 2 bytes");

LLMT_STRICT_FP_BEGIN
/// x = d * scales[j] * (q - 32) for sub-block j (16 values), q in 0..63.
struct q6_k {
    using block = block_q6_k;
    using vec_dot_type = q8_k;
    static constexpr qtype id = qtype::q6_k;
    static constexpr std::int64_t block_size = qk_k;

    /// ggml's reference quantizer: a symmetric scale search per 16 values (weights x^2), the scales
    /// to int8 against the largest (mapped to -128), then every value re-rounded with the stored scale.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        std::int8_t L[qk_k];
        float scales[16];
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            float max_scale = 0, max_abs_scale = 0;
            for (int j = 0; j < 16; ++j) {
                scales[j] = detail::search_symmetric_scale(16, 32, x + 16 * j, L + 16 * j);
                const float a = std::fabs(scales[j]);
                if (a > max_abs_scale) { max_abs_scale = a; max_scale = scales[j]; }
            }
            if (max_abs_scale < detail::group_max_eps) {
                o = block{};
                continue;
            }
            const float iscale = -128.0f / max_scale;
            o.d = to_fp16(1 / iscale);
            for (int j = 0; j < 16; ++j) {
                const int s = detail::nearest_int(iscale * scales[j]);
                o.scales[j] = static_cast<std::int8_t>(s < 127 ? s : 127);
            }
            for (int j = 0; j < 16; ++j) {
                const float d = to_f32(o.d) * float(o.scales[j]);
                if (d == 0) continue;  // keep the levels of the search
                for (int i = 0; i < 16; ++i)
                    L[16 * j + i] = std::int8_t(detail::clamp_int(detail::nearest_int(x[16 * j + i] / d), -32, 31) + 32);
            }
            for (int h = 0; h < 2; ++h) {
                const std::int8_t* Lh = L + 128 * h;
                for (int l = 0; l < 32; ++l) {
                    o.ql[64 * h + l] = std::uint8_t((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
                    o.ql[64 * h + 32 + l] = std::uint8_t((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
                    o.qh[32 * h + l] = std::uint8_t((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                                    ((Lh[l + 96] >> 4) << 6));
                }
            }
        }
    }

    /// The 6-bit level (0..63) of value i of a block.
    static int level(const block& o, int i) noexcept {
        const int h = i / 128, r = i % 128, g = r / 32, l = r % 32;
        const int lo = (o.ql[64 * h + 32 * (g & 1) + l] >> (4 * (g >> 1))) & 0xF;
        const int hi = (o.qh[32 * h + l] >> (2 * g)) & 3;
        return lo | (hi << 4);
    }

    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const float d = to_f32(x[b].d);
            for (int i = 0; i < qk_k; ++i) *y++ = d * float(x[b].scales[i / 16]) * float(level(x[b], i) - 32);
        }
    }

    static float vec_dot(std::int64_t n, const block* x, const q8_k::block* y) {
        double s = 0;  // exact integer sums, combined in double: the reference the SIMD dots are held to
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int qsum = 0;
            for (int j = 0; j < 16; ++j) {
                int acc = 0;
                for (int i = 16 * j; i < 16 * j + 16; ++i) acc += (level(x[b], i) - 32) * y[b].qs[i];
                qsum += int(x[b].scales[j]) * acc;
            }
            s += double(to_f32(x[b].d)) * y[b].d * qsum;
        }
        return float(s);
    }
};
LLMT_STRICT_FP_END

}  // namespace quant
LLMT_END_NAMESPACE
