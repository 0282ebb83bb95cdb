// diagnostics: LLMT_SIMD_DIAGNOSTICS_PUSH/POP, silencing GCC's false uninitialized warnings around SIMD kernel code
#pragma once

// GCC 12 reports the _mm512_undefined_*() operands inside its own AVX-512 intrinsics as
// (maybe-)uninitialized once they are inlined into our kernels: a false positive, silenced only
// around kernel code.
#if defined(__GNUC__) && !defined(__clang__)
#define LLMT_SIMD_DIAGNOSTICS_PUSH \
    _Pragma("GCC diagnostic push") _Pragma("GCC diagnostic ignored \"-Wmaybe-uninitialized\"") \
    _Pragma("GCC diagnostic ignored \"-Wuninitialized\"")
#define LLMT_SIMD_DIAGNOSTICS_POP _Pragma("GCC diagnostic pop")
#else
#define LLMT_SIMD_DIAGNOSTICS_PUSH
#define LLMT_SIMD_DIAGNOSTICS_POP
#endif
