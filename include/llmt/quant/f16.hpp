// f16: IEEE half weights (16 bpw), dotted against f16 activations
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/quant/qtype.hpp>

#include <cstdint>

LLMT_BEGIN_NAMESPACE
namespace quant {

struct f16 {
    using block = fp16_t;
    using vec_dot_type = f16;
    static constexpr qtype id = qtype::f16;
    static constexpr std::int64_t block_size = 1;

    static void quantize_row(const float* x, block* y, std::int64_t n) {
        for (std::int64_t i = 0; i < n; ++i) y[i] = to_fp16(x[i]);
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
