// strict_fp: LLMT_STRICT_FP_BEGIN/END, a region of functions in which a*b+c is never fused into an FMA
#pragma once

// Reference quantizers must reproduce ggml's bytes, and ggml's reference code runs without FMA
// (ggml-base is built for baseline x86-64). GCC in GNU mode and Clang contract a*b+c into one
// rounding whenever FMA is available (-march=native), which changes the last bit of a scale and
// then a whole block. Functions defined between these macros are compiled with contraction off;
// GCC will not inline them into code that allows contraction, so the guarantee holds at every call.
// Clang honours the pragma unless built with -ffp-contract=fast, which overrides pragmas by design
// (use -ffp-contract=fast-honor-pragmas there); GCC honours it under every -ffp-contract.
#if defined(__clang__)
#define LLMT_STRICT_FP_BEGIN _Pragma("float_control(push)") _Pragma("clang fp contract(off)")
#define LLMT_STRICT_FP_END _Pragma("float_control(pop)")
#elif defined(__GNUC__)
#define LLMT_STRICT_FP_BEGIN _Pragma("GCC push_options") _Pragma("GCC optimize(\"fp-contract=off\")")
#define LLMT_STRICT_FP_END _Pragma("GCC pop_options")
#else
#define LLMT_STRICT_FP_BEGIN
#define LLMT_STRICT_FP_END
#endif
