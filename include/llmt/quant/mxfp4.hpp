// mxfp4: 4.25 bpw OCP microscaling FP4, blocks of 32 e2m1 values with a shared E8M0 exponent, dotted against q8_0
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/rounding.hpp>

#include <bit>
#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {
LLMT_STRICT_FP_BEGIN

/// The e2m1 values doubled to integers (OCP MX spec v1.0; ggml's kvalues_mxfp4): index bit 3 is the sign.
inline constexpr std::int8_t e2m1_grid[16] = {0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12};

/// 2^(e - 128): half the E8M0 scale, matching the doubled grid. e = 0 and 1 give subnormals.
constexpr float e8m0_to_f32_half(std::uint8_t e) noexcept {
    return std::bit_cast<float>(e < 2 ? std::uint32_t(0x00200000u) << e : std::uint32_t(e - 1) << 23);
}

struct block_mxfp4 {
    std::uint8_t e;       // E8M0 shared exponent: x = 2^(e - 127) * e2m1 = e8m0_to_f32_half(e) * e2m1_grid[q]
    std::uint8_t qs[16];  // index j in the low nibble of qs[j], index j + 16 in the high nibble
};
static_assert(sizeof(block_mxfp4) == 17, "mxfp4 block is 1 + 16 bytes");

struct mxfp4 {
    using block = block_mxfp4;
    using vec_dot_type = q8_0;
    static constexpr qtype id = qtype::mxfp4;
    static constexpr std::int64_t block_size = 32;

    /// Reference quantizer (ggml's): e = floor(log2(max|x|)) - 2 + 127 (so the largest value lands
    /// near the grid's 6.0), each value to the nearest grid point (first one on ties).
    /// Blocks with max|x| below 2^-125, where ggml's conversion is undefined, get e = 0.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
            for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            float amax = 0;
            for (int j = 0; j < block_size; ++j)
                if (amax < std::fabs(x[j])) amax = std::fabs(x[j]);
            std::uint8_t e = 0;
            if (amax > 0.0f) {
                const float ef = std::floor(std::log2(amax)) - 2.0f + 127.0f;
                e = ef >= 255.0f ? 255 : ef > 0.0f ? std::uint8_t(ef) : 0;
            }
            const float d = e8m0_to_f32_half(e);
            y[b].e = e;
            for (int j = 0; j < 16; ++j) y[b].qs[j] = std::uint8_t(nearest(x[j], d) | nearest(x[j + 16], d) << 4);
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, y += block_size) {
            const float d = e8m0_to_f32_half(x[b].e);
            for (int j = 0; j < 16; ++j) {
                y[j] = float(e2m1_grid[x[b].qs[j] & 0x0f]) * d;
                y[j + 16] = float(e2m1_grid[x[b].qs[j] >> 4]) * d;
            }
        }
    }
    static float vec_dot(std::int64_t n, const block* x, const block_q8_0* y) {
        float s = 0;
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int acc = 0;
            for (int j = 0; j < 16; ++j)
                acc += e2m1_grid[x[b].qs[j] & 0x0f] * y[b].qs[j] + e2m1_grid[x[b].qs[j] >> 4] * y[b].qs[j + 16];
            s += to_f32(y[b].d) * e8m0_to_f32_half(x[b].e) * float(acc);
        }
        return s;
    }

private:
    /// First grid index with the smallest |grid·d - x|.
    static int nearest(float x, float d) noexcept {
            int best = 0;
        float best_err = std::fabs(float(e2m1_grid[0]) * d - x);
        for (int i = 1; i < 16; ++i) {
            const float err = std::fabs(float(e2m1_grid[i]) * d - x);
            if (err < best_err) {
                best = i;
                best_err = err;
            }
        }
        return best;
    }
};

LLMT_STRICT_FP_END
}  // namespace quant
LLMT_END_NAMESPACE
