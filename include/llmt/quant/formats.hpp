// formats: every block format header, the list of all formats, and their names re-exported into llmt
#pragma once

#include <llmt/quant/bf16.hpp>
#include <llmt/quant/dispatch.hpp>
#include <llmt/quant/f16.hpp>
#include <llmt/quant/f32.hpp>
#include <llmt/quant/format.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/quant/q4_k.hpp>
#include <llmt/quant/q6_k.hpp>

LLMT_BEGIN_NAMESPACE
namespace quant {
/// Every format llmt implements (extend when a format header is added).
using all_formats = weight_types<f32, f16, bf16, q8_0,
    q8_k,
    q4_k,
    q6_k>;
}  // namespace quant

using quant::weight_types;
using quant::f32;
using quant::f16;
using quant::bf16;
using quant::q8_0;
using quant::q8_k;
using quant::q4_k;
using quant::q6_k;
LLMT_END_NAMESPACE
