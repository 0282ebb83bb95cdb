// q8_k: 9.125 bpw, 256 int8 values with an f32 scale and 16-value partial sums; the activation format of the K-quants
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/strict_fp.hpp>
#include <llmt/quant/k_quant_common.hpp>
#include <llmt/quant/qtype.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct block_q8_k {
    float d;                       // scale: x = d * q
    std::int8_t qs[qk_k];          // quants
    std::int16_t bsums[qk_k / 16]; // sum of qs over each group of 16 (lets K-quant dots apply mins cheaply)
};
static_assert(sizeof(block_q8_k) == 292, "q8_K block is 4 + 256 + 32 bytes");

LLMT_STRICT_FP_BEGIN
struct q8_k {
    using block = block_q8_k;
    using vec_dot_type = q8_k;
    static constexpr qtype id = qtype::q8_k;
    static constexpr std::int64_t block_size = qk_k;

    /// ggml's conversion (the CPU one equals the reference): the value of largest magnitude maps
    /// to -127 (d = max / -127, sign kept), q = nearest_int(x / d) capped at 127.
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            block& o = y[b];
            float amax = 0, max = 0;
            for (int j = 0; j < qk_k; ++j) {
                const float a = std::fabs(x[j]);
                if (a > amax) { amax = a; max = x[j]; }
            }
            if (amax == 0) {
                o = block{};
                continue;
            }
            const float iscale = -127.0f / max;
            for (int j = 0; j < qk_k; ++j) {
                const int v = detail::nearest_int(iscale * x[j]);
                o.qs[j] = static_cast<std::int8_t>(v < 127 ? v : 127);
            }
            for (int g = 0; g < qk_k / 16; ++g) {
                int s = 0;
                for (int j = 0; j < 16; ++j) s += o.qs[16 * g + j];
                o.bsums[g] = static_cast<std::int16_t>(s);
            }
            o.d = 1 / iscale;
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b)
            for (int j = 0; j < qk_k; ++j) *y++ = x[b].d * float(x[b].qs[j]);
    }
    static float vec_dot(std::int64_t n, const block* x, const block* y) {
        double s = 0;  // exact integer sums, combined in double: the reference the SIMD dots are held to
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int acc = 0;
            for (int j = 0; j < qk_k; ++j) acc += int(x[b].qs[j]) * int(y[b].qs[j]);
            s += double(x[b].d) * y[b].d * acc;
        }
        return float(s);
    }
};
LLMT_STRICT_FP_END

}  // namespace quant
LLMT_END_NAMESPACE
