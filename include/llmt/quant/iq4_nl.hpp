// iq4_nl: 4.5 bpw, blocks of 32 indices into a 16-value non-linear grid with one f16 scale, dotted against q8_0
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {
LLMT_STRICT_FP_BEGIN

/// The non-linear 4-bit grid of iq4_nl / iq4_xs (values from ggml-common.h, kvalues_iq4nl).
inline constexpr std::int8_t iq4nl_grid[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

struct block_iq4_nl {
    fp16_t d;             // scale: x = d * iq4nl_grid[q]
    std::uint8_t qs[16];  // index j in the low nibble of qs[j], index j + 16 in the high nibble
};
static_assert(sizeof(block_iq4_nl) == 18, "iq4_nl block is 2 + 16 bytes");

struct iq4_nl {
    using block = block_iq4_nl;
    using vec_dot_type = q8_0;
    static constexpr qtype id = qtype::iq4_nl;
    static constexpr std::int64_t block_size = 32;

    /// Number of scale candidates on each side of the first guess (ggml's ntry, as llama-quantize uses it).
    static constexpr int n_try = 7;

    /// What llama-quantize writes without an importance matrix: per block, weights w = x², a first
    /// scale from the largest value, then 2·n_try+1 candidate scales (itry - 127) / max, keeping the
    /// one maximising (Σ w·q·x)² / Σ w·q² with its least-squares scale; indices re-picked for it.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
            const std::int8_t* const grid = iq4nl_grid;
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            float amax = 0, max = 0;
            for (int j = 0; j < block_size; ++j)
                if (std::fabs(x[j]) > amax) {
                    amax = std::fabs(x[j]);
                    max = x[j];
                }
            float d = 0;
            if (!(amax < 1e-15f)) {  // ggml's GROUP_MAX_EPS: smaller blocks get scale 0
                float w[32];
                for (int j = 0; j < block_size; ++j) w[j] = x[j] * x[j];
                // first guess: the largest value on the grid's largest magnitude
                float inv = 1.0f / (-max / float(grid[0]));
                float sumqx = 0, sumq2 = 0;
                for (int j = 0; j < block_size; ++j) {
                    const float q = float(grid[detail::nearest_in_grid(16, grid, inv * x[j])]);
                    sumqx += w[j] * q * x[j];
                    sumq2 += w[j] * q * q;
                }
                d = sumq2 > 0 ? sumqx / sumq2 : 0.0f;
                float best = d * sumqx;
                for (int itry = -n_try; itry <= n_try; ++itry) {
                    inv = float(itry + grid[0]) / max;
                    sumqx = sumq2 = 0;
                    for (int j = 0; j < block_size; ++j) {
                        const float q = float(grid[detail::nearest_in_grid(16, grid, inv * x[j])]);
                        sumqx += w[j] * q * x[j];
                        sumq2 += w[j] * q * q;
                    }
                    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
                        d = sumqx / sumq2;
                        best = d * sumqx;
                    }
                }
            }
            y[b].d = to_fp16(d);
            const float id = d != 0 ? 1.0f / d : 0.0f;
            for (int j = 0; j < 16; ++j) {
                const int l0 = detail::nearest_in_grid(16, grid, id * x[j]);
                const int l1 = detail::nearest_in_grid(16, grid, id * x[j + 16]);
                y[b].qs[j] = std::uint8_t(l0 | l1 << 4);
            }
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, y += block_size) {
            const float d = to_f32(x[b].d);
            for (int j = 0; j < 16; ++j) {
                y[j] = d * float(iq4nl_grid[x[b].qs[j] & 0x0f]);
                y[j + 16] = d * float(iq4nl_grid[x[b].qs[j] >> 4]);
            }
        }
    }
    static float vec_dot(std::int64_t n, const block* x, const block_q8_0* y) {
        float s = 0;
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int acc = 0;
            for (int j = 0; j < 16; ++j)
                acc += iq4nl_grid[x[b].qs[j] & 0x0f] * y[b].qs[j] + iq4nl_grid[x[b].qs[j] >> 4] * y[b].qs[j + 16];
            s += to_f32(x[b].d) * to_f32(y[b].d) * float(acc);
        }
        return s;
    }
};

LLMT_STRICT_FP_END
}  // namespace quant
LLMT_END_NAMESPACE
