// cpu: x86-64 feature detection (CPUID + XGETBV, Linux AMX permission), the instruction-set levels of the kernels, LLMT_ISA override
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#if LLMT_HAS_X86_64 && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define LLMT_HAS_CPUID 1
#else
#define LLMT_HAS_CPUID 0
#endif
#if LLMT_HAS_CPUID && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

LLMT_BEGIN_NAMESPACE
namespace simd {

/// What the CPU and the operating system support (the OS must save the wider registers).
struct cpu_features {
    bool sse42 = false, avx = false, avx2 = false, fma = false, f16c = false, bmi2 = false;
    bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
    bool avx512vnni = false, avx512bf16 = false, avxvnni = false;
    bool amx_tile = false, amx_int8 = false, amx_bf16 = false;  // CPU and OS state support (use needs amx_permitted())
};

/// Kernel paths, ordered: a level implies every lower one.
enum class isa : std::uint8_t {
    scalar = 0,      ///< portable C++ (the reference dots)
    avx2 = 1,        ///< AVX2 + FMA + F16C: 256-bit, int8 via maddubs/madd
    avx512 = 2,      ///< AVX-512 F/BW/VL/DQ: 512-bit, int8 via maddubs/madd
    avx512vnni = 3,  ///< AVX-512 + VNNI: int8 via vpdpbusd
    amx = 4,         ///< AVX-512 VNNI + AMX tiles (int8, bf16) for batches of tokens; Linux grants the tile state
};
inline constexpr int isa_count = 5;

constexpr std::string_view to_string(isa i) noexcept {
    switch (i) {
        case isa::scalar: return "scalar";
        case isa::avx2: return "avx2";
        case isa::avx512: return "avx512";
        case isa::avx512vnni: return "avx512vnni";
        case isa::amx: return "amx";
    }
    return "?";
}

/// Parses "scalar", "avx2", "avx512", "avx512vnni", "amx" (case-sensitive); anything else is an error.
inline isa parse_isa(std::string_view s) {
    for (int i = 0; i < isa_count; ++i)
        if (to_string(isa(i)) == s) return isa(i);
    fail(errc::invalid_argument, "unknown instruction set '{}': expected scalar, avx2, avx512, avx512vnni or amx", s);
}

namespace detail {
#if LLMT_HAS_CPUID
inline std::uint64_t xgetbv0() noexcept {
    std::uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (std::uint64_t(hi) << 32) | lo;
}
#endif

inline cpu_features detect() noexcept {
    cpu_features f;
#if LLMT_HAS_CPUID
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return f;
    const unsigned max_leaf = a;
    __cpuid(1, a, b, c, d);
    f.sse42 = c & (1u << 20);
    f.fma = c & (1u << 12);
    f.f16c = c & (1u << 29);
    const bool osxsave = c & (1u << 27), avx_cpu = c & (1u << 28);
    std::uint64_t xcr0 = 0;
    if (osxsave) xcr0 = xgetbv0();
    const bool os_ymm = (xcr0 & 0x6) == 0x6;     // SSE + AVX state
    const bool os_zmm = (xcr0 & 0xe6) == 0xe6;   // + opmask, ZMM_Hi256, Hi16_ZMM
    f.avx = avx_cpu && os_ymm;
    if (!f.avx) f.fma = f.f16c = false;
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        f.avx2 = f.avx && (b & (1u << 5));
        f.bmi2 = b & (1u << 8);
        f.avx512f = os_zmm && (b & (1u << 16));
        f.avx512dq = f.avx512f && (b & (1u << 17));
        f.avx512bw = f.avx512f && (b & (1u << 30));
        f.avx512vl = f.avx512f && (b & (1u << 31));
        f.avx512vnni = f.avx512f && (c & (1u << 11));
        const bool os_tiles = (xcr0 & 0x60000) == 0x60000;  // XTILECFG + XTILEDATA
        f.amx_tile = os_tiles && (d & (1u << 24));
        f.amx_int8 = f.amx_tile && (d & (1u << 25));
        f.amx_bf16 = f.amx_tile && (d & (1u << 22));
        __cpuid_count(7, 1, a, b, c, d);
        f.avxvnni = f.avx2 && (a & (1u << 4));
        f.avx512bf16 = f.avx512f && (a & (1u << 5));
    }
#endif
    return f;
}
}  // namespace detail

/// The features of this machine (detected once).
inline const cpu_features& cpu() noexcept {
    static const cpu_features f = detail::detect();
    return f;
}

/// Whether this process may use the AMX tiles (int8 and bf16): the CPU has them and, on Linux, the
/// kernel granted the tile data state (arch_prctl ARCH_REQ_XCOMP_PERM, asked once for the whole
/// process). A refusal is not an error: the kernels then stay on AVX-512 VNNI.
inline bool amx_permitted() noexcept {
    static const bool ok = [] {
        const auto& f = cpu();
        if (!(f.amx_tile && f.amx_int8 && f.amx_bf16)) return false;
#if LLMT_HAS_CPUID && defined(__linux__)
        constexpr long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
        return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
#else
        return false;
#endif
    }();
    return ok;
}

/// The best kernel path this machine supports.
inline isa best_isa() noexcept {
    const auto& f = cpu();
    if (!(f.avx2 && f.fma && f.f16c)) return isa::scalar;
    if (!(f.avx512f && f.avx512bw && f.avx512vl && f.avx512dq)) return isa::avx2;
    if (!f.avx512vnni) return isa::avx512;
    return amx_permitted() ? isa::amx : isa::avx512vnni;
}

/// The path kernels resolve to: best_isa(), lowered by the environment variable LLMT_ISA
/// (scalar|avx2|avx512|avx512vnni|amx; a level above what the machine supports falls back to the best).
/// Read once per process.
inline isa active_isa() {
    static const isa level = [] {
        const isa best = best_isa();
        const char* env = std::getenv("LLMT_ISA");
        if (env == nullptr || *env == '\0') return best;
        const isa want = parse_isa(env);
        return want < best ? want : best;
    }();
    return level;
}

}  // namespace simd
LLMT_END_NAMESPACE
