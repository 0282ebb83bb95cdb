// bf16: bfloat16 weights (16 bpw), dotted against bf16 activations
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/quant/qtype.hpp>

#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct bf16 {
    using block = bf16_t;
    using vec_dot_type = bf16;
    static constexpr qtype id = qtype::bf16;
    static constexpr std::int64_t block_size = 1;

    static void quantize_row(const float* x, block* y, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) y[i] = to_bf16(x[i]);
    }
    static void dequantize_row(const block* x, float* y, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) y[i] = to_f32(x[i]);
    }
    static float vec_dot(std::int64_t n, const block* x, const block* y) {
        double s = 0;
        for (std::int64_t i = 0; i < n; ++i) s += double(to_f32(x[i])) * double(to_f32(y[i]));
        return float(s);
    }
};

}  // namespace quant
LLMT_END_NAMESPACE
