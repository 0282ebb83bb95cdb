// formats: every block format header, the list of all formats, and their names re-exported into llmt
#pragma once

#include <llmt/quant/bf16.hpp>
#include <llmt/quant/dispatch.hpp>
#include <llmt/quant/f16.hpp>
#include <llmt/quant/f32.hpp>
#include <llmt/quant/format.hpp>
#include <llmt/quant/iq4_nl.hpp>
#include <llmt/quant/iq4_xs.hpp>
#include <llmt/quant/mxfp4.hpp>
#include <llmt/quant/q2_k.hpp>
#include <llmt/quant/q3_k.hpp>
#include <llmt/quant/q4_0.hpp>
#include <llmt/quant/q4_1.hpp>
#include <llmt/quant/q4_k.hpp>
#include <llmt/quant/q5_0.hpp>
#include <llmt/quant/q5_1.hpp>
#include <llmt/quant/q5_k.hpp>
#include <llmt/quant/q6_k.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/q8_1.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/quant/tq1_0.hpp>
#include <llmt/quant/tq2_0.hpp>

LLMT_BEGIN_NAMESPACE
namespace quant {
/// Every format llmt implements (extend when a format header is added; one line each, sorted).
using all_formats = weight_types<
    bf16,
    f16,
    f32,
    iq4_nl,
    iq4_xs,
    mxfp4,
    q2_k,
    q3_k,
    q4_0,
    q4_1,
    q4_k,
    q5_0,
    q5_1,
    q5_k,
    q6_k,
    q8_0,
    q8_1,
    q8_k,
    tq1_0,
    tq2_0>;
}  // namespace quant

using quant::weight_types;
using quant::bf16;
using quant::f16;
using quant::f32;
using quant::iq4_nl;
using quant::iq4_xs;
using quant::mxfp4;
using quant::q2_k;
using quant::q3_k;
using quant::q4_0;
using quant::q4_1;
using quant::q4_k;
using quant::q5_0;
using quant::q5_1;
using quant::q5_k;
using quant::q6_k;
using quant::q8_0;
using quant::q8_1;
using quant::q8_k;
using quant::tq1_0;
using quant::tq2_0;
LLMT_END_NAMESPACE
