// q8_0: 8.5 bpw, blocks of 32 int8 values with one f16 scale; also the activation format of q4_0/q5_0/q8_0/iq4_nl/mxfp4
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/quant/qtype.hpp>

#include <cmath>
#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct block_q8_0 {
    fp16_t d;           // scale: x = d * q
    std::int8_t qs[32];  // quants
};
static_assert(sizeof(block_q8_0) == 34, "q8_0 block is 2 + 32 bytes");

struct q8_0 {
    using block = block_q8_0;
    using vec_dot_type = q8_0;
    static constexpr qtype id = qtype::q8_0;
    static constexpr std::int64_t block_size = 32;

    /// Reference quantizer: d = max|x| / 127, q = round(x / d) (round half away from zero, as roundf).
    static void quantize_row(const float* x, block* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b, x += block_size) {
            float amax = 0;
            for (int j = 0; j < block_size; ++j) amax = std::fmax(amax, std::fabs(x[j]));
            const float d = amax / 127.0f;
            const float id = d != 0 ? 1.0f / d : 0.0f;
            y[b].d = to_fp16(d);
            for (int j = 0; j < block_size; ++j) y[b].qs[j] = static_cast<std::int8_t>(std::roundf(x[j] * id));
        }
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            const float d = to_f32(x[b].d);
            for (int j = 0; j < block_size; ++j) y[b * block_size + j] = x[b].qs[j] * d;
        }
    }
    static float vec_dot(std::int64_t n, const block* x, const block* y) {
        float s = 0;
        for (std::int64_t b = 0; b < n / block_size; ++b) {
            int acc = 0;
            for (int j = 0; j < block_size; ++j) acc += int(x[b].qs[j]) * int(y[b].qs[j]);
            s += float(acc) * (to_f32(x[b].d) * to_f32(y[b].d));
        }
        return s;
    }
};

}  // namespace quant
LLMT_END_NAMESPACE
