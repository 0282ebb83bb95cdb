// iq4_xs: 4.25 bpw, 256-value super-blocks of 8 sub-blocks indexing the iq4_nl grid, with 6-bit sub-block scales
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/iq4_nl.hpp>
#include <llmt/quant/k_quant_common.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct block_iq4_xs {
    fp16_t d;                    // super-block scale
    std::uint16_t scales_h;      // top 2 bits of the 8 sub-block scales (bits 2j, 2j+1)
    std::uint8_t scales_l[4];    // low 4 bits of the sub-block scales, two per byte (even j low nibble)
    std::uint8_t qs[qk_k / 2];   // grid indices; sub-block j, byte 16j+l: value 32j+l low nibble, 32j+16+l high
};
static_assert(sizeof(block_iq4_xs) == 136, "iq4_xs block is 2 + 2 + 4 + 128 bytes");

LLMT_STRICT_FP_BEGIN
/// x = d * (s_j - 32) * iq4nl_grid[q] for sub-block j (32 values), s_j in 0..63.
struct iq4_xs {
    using block = block_iq4_xs;
    using vec_dot_type = q8_k;
    static constexpr qtype id = qtype::iq4_xs;
    static constexpr std::int64_t block_size = qk_k;

    /// Candidate scales on each side of the first guess (ggml's ntry as llama-quantize uses it).
    static constexpr int n_try = 7;

    /// Sub-block j's 6-bit scale, 0..63 (subtract 32 for the signed value).
    static int scale(const block& o, int j) noexcept {
        return ((o.scales_l[j / 2] >> (4 * (j % 2))) & 0xF) | (((o.scales_h >> (2 * j)) & 3) << 4);
    }
    /// Grid index (0..15) of value i of a block.
    static int index(const block& o, int i) noexcept {
        const int j = i / 32, r = i % 32;
        return (o.qs[16 * j + r % 16] >> (4 * (r / 16))) & 0xF;
    }

    /// Least-squares grid scale of 32 values with weights x^2: a first guess putting the largest
    /// value on the grid's end, then 2*n_try+1 inverse scales (t - 127) / max, keeping the one
    /// maximising (sum w q x)^2 / sum w q^2. Returns 0 for an all-(near-)zero group.
    static float sub_block_scale(const float* x) noexcept {
        const std::int8_t* grid = iq4nl_grid;
        float amax = 0, max = 0;
        for (int j = 0; j < 32; ++j) {
            const float a = std::fabs(x[j]);
            if (a > amax) { amax = a; max = x[j]; }
        }
        if (amax < detail::group_max_eps) return 0.0f;
        float w[32];
        for (int j = 0; j < 32; ++j) w[j] = x[j] * x[j];
        auto fit = [&](float inv, float& sqx, float& sq2) {
            sqx = sq2 = 0;
            for (int j = 0; j < 32; ++j) {
                const float q = float(grid[detail::nearest_in_grid(16, grid, inv * x[j])]);
                sqx += w[j] * q * x[j];
                sq2 += w[j] * q * q;
            }
        };
        float sumqx, sumq2;
        fit(1 / (-max / float(grid[0])), sumqx, sumq2);
        float d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
        float best = d * sumqx;
        for (int t = -n_try; t <= n_try; ++t) {
            fit(float(t + grid[0]) / max, sumqx, sumq2);
            if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                d = sumqx / sumq2;
                best = d * sumqx;
            }
        }
        return d;
    }

    /// What llama-quantize writes without an importance matrix: a grid scale per 32 values, the
    /// 8 scales to 6 bits against the largest (mapped to -32), indices re-picked for each stored scale.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        const std::int8_t* grid = iq4nl_grid;
        float scales[8];
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            float max_scale = 0, amax_scale = 0;
            for (int j = 0; j < 8; ++j) {
                scales[j] = sub_block_scale(x + 32 * j);
                const float a = std::fabs(scales[j]);
                if (a > amax_scale) { amax_scale = a; max_scale = scales[j]; }
            }
            const float d = -max_scale / 32;
            o.d = to_fp16(d);
            o.scales_h = 0;
            const float id = d != 0 ? 1 / d : 0.0f;
            for (int j = 0; j < 8; ++j) {
                const int l = detail::clamp_int(detail::nearest_int(id * scales[j]), -32, 31);
                const float dl = d * float(l);
                const float idl = dl != 0 ? 1 / dl : 0.0f;
                const float* xs = x + 32 * j;
                for (int i = 0; i < 16; ++i) {
                    const int q0 = detail::nearest_in_grid(16, grid, idl * xs[i]);
                    const int q1 = detail::nearest_in_grid(16, grid, idl * xs[i + 16]);
                    o.qs[16 * j + i] = std::uint8_t(q0 | (q1 << 4));
                }
                const int s = l + 32;
                if (j % 2 == 0) o.scales_l[j / 2] = std::uint8_t(s & 0xF);
                else o.scales_l[j / 2] = std::uint8_t(o.scales_l[j / 2] | ((s & 0xF) << 4));
                o.scales_h = std::uint16_t(o.scales_h | ((s >> 4) << (2 * j)));
            }
        }
    }

    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const float d = to_f32(x[b].d);
            for (int j = 0; j < 8; ++j) {
                const float dl = d * float(scale(x[b], j) - 32);
                for (int i = 32 * j; i < 32 * j + 32; ++i) *y++ = dl * float(iq4nl_grid[index(x[b], i)]);
            }
        }
    }

    static float vec_dot(std::int64_t n, const block* x, const q8_k::block* y) {
        double s = 0;  // exact integer sums, combined in double
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int qsum = 0;
            for (int j = 0; j < 8; ++j) {
                int acc = 0;
                for (int i = 32 * j; i < 32 * j + 32; ++i) acc += iq4nl_grid[index(x[b], i)] * y[b].qs[i];
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
