// gemm_amx_bf16: the batched AMX bf16 path for f16 and bf16 weights, exact to f16 precision through hi/lo bf16 splits
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/kernels/gemm_float.hpp>
#include <llmt/kernels/weight_ref.hpp>
#include <llmt/quant/bf16.hpp>
#include <llmt/quant/f16.hpp>
#include <llmt/simd/amx.hpp>
#include <llmt/simd/x86.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {
namespace amxbf {

// An f16 value (11 significant bits) is the exact sum hi + lo of two bf16 values (8 bits each):
// hi is its f32 form truncated to bf16, lo = x - hi. The same holds for the activation rounded to
// f16 (the reference's vec_dot_type). Then w·a = wh·ah + wh·al + wl·ah + wl·al, and the last term
// (below 2^-16 of |w·a|) is dropped: three tdpbf16ps per 32 values, f32 sums in the tile over the
// whole row, no scale to apply. bf16 weights have lo = 0 and need two.

/// Columns padded to whole tiles (32 values of bf16 pairs).
constexpr std::int64_t padded(std::int64_t k) noexcept { return (k + 31) / 32 * 32; }

/// x (16 floats, exactly representable in 16 significant bits) → its bf16 hi and lo halves.
LLMT_INLINE_AVX512 void split16(__m512 x, std::uint16_t* hi, std::uint16_t* lo) {
    const __m512i bits = _mm512_castps_si512(x);
    const __m512i h = _mm512_and_si512(bits, _mm512_set1_epi32(std::int32_t(0xffff0000u)));
    const __m512 rest = _mm512_sub_ps(x, _mm512_castsi512_ps(h));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(hi), _mm512_cvtepi32_epi16(_mm512_srli_epi32(h, 16)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(lo), _mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(rest), 16)));
}

/// Prepared activations of one group of 16 tokens: hi and lo in the B-tile layout
/// [kp/2 rows][16 tokens][2 bf16], then one token's f32 staging.
struct group_layout {
    std::int64_t kp;
    std::size_t hi, lo, tmp, bytes;
    template <typename V>
    static group_layout make(std::int64_t k) noexcept {
        group_layout l{};
        l.kp = padded(k);
        l.hi = 0;
        l.lo = detail::align64(std::size_t(l.kp) * 32);
        l.tmp = l.lo + detail::align64(std::size_t(l.kp) * 32);
        l.bytes = l.tmp + float_act_bytes<V>(l.kp);
        return l;
    }
};
/// The weight panel of 16 rows: hi and lo [kp/32 tiles][16 rows][32] bf16, then a 16×16 f32 result tile.
struct panel_layout {
    std::size_t hi, lo, out, bytes;
    static panel_layout make(std::int64_t kp) noexcept {
        panel_layout l{};
        l.hi = 0;
        l.lo = detail::align64(std::size_t(kp) * 32);
        l.out = l.lo + detail::align64(std::size_t(kp) * 32);
        l.bytes = l.out + 1024;
        return l;
    }
};

template <typename F>
std::size_t batch_bytes(std::int64_t k, std::int64_t n) {
    return std::size_t((n + 15) / 16) * group_layout::make<typename F::vec_dot_type>(k).bytes;
}

template <typename F>
LLMT_TARGET_AVX512 void prepare_group(const float* x, std::int64_t k, std::int64_t nt, std::byte* g) {
    using V = typename F::vec_dot_type;
    const auto L = group_layout::make<V>(k);
    auto* hi = reinterpret_cast<std::uint16_t*>(g + L.hi);
    auto* lo = reinterpret_cast<std::uint16_t*>(g + L.lo);
    if (nt < 16 || L.kp != k) std::memset(g, 0, L.tmp);  // padding tokens and columns are zero
    auto* f = reinterpret_cast<float*>(g + L.tmp);
    alignas(64) std::uint16_t h16[16], l16[16];
    for (std::int64_t t = 0; t < nt; ++t) {
        prepare_float<V>(x + t * k, g + L.tmp, k);  // rounded through V as the reference dot sees it
        for (std::int64_t i = 0; i < k; i += 16) {
            const __mmask16 m = k - i >= 16 ? __mmask16(0xffff) : __mmask16((1u << (k - i)) - 1);
            split16(_mm512_maskz_loadu_ps(m, f + i), h16, l16);
            for (int e = 0; e < 16 && i + e < k; ++e) {  // value i+e → row (i+e)/2, token t, element (i+e)%2
                const std::size_t at = std::size_t((i + e) / 2) * 32 + std::size_t(t) * 2 + std::size_t((i + e) % 2);
                hi[at] = h16[e];
                lo[at] = l16[e];
            }
        }
    }
}

/// Index of value i of a panel row: tile i/32 holds 16 rows × 32 values together (1 KiB, one A tile).
constexpr std::int64_t panel_at(std::int64_t i) noexcept { return (i / 32) * 512 + i % 32; }

/// One row of a 16-row panel (hi, lo point at the row's first value): bf16 halves of k values, zero up to kp.
template <typename F>
LLMT_INLINE_AVX512 void unpack_row(const std::byte* src, std::int64_t k, std::int64_t kp, std::uint16_t* hi, std::uint16_t* lo) {
    using B = typename floatk::load<F>::B;
    const B* w = reinterpret_cast<const B*>(src);
    std::int64_t i = 0;
    for (; i + 16 <= k; i += 16) split16(floatk::load<F>::l16(w + i), hi + panel_at(i), lo + panel_at(i));
    if (i < k) {
        alignas(64) std::uint16_t h16[16], l16[16];
        split16(floatk::load<F>::l16(w + i, __mmask16((1u << (k - i)) - 1)), h16, l16);
        for (std::int64_t e = 0; i + e < k; ++e) {
            hi[panel_at(i + e)] = h16[e];
            lo[panel_at(i + e)] = l16[e];
        }
    }
    for (i = k; i < kp; ++i) hi[panel_at(i)] = lo[panel_at(i)] = 0;
}

template <typename F>
LLMT_TARGET_AVX512 void run_rows(const weight_ref& w, std::int64_t n, float* y, const std::byte* act, std::int64_t r0, std::int64_t r1,
                                 std::byte* panel) {
    constexpr bool has_lo = std::is_same_v<F, quant::f16>;
    const std::int64_t k = w.cols;
    const auto G = group_layout::make<typename F::vec_dot_type>(k);
    const std::int64_t kp = G.kp;
    const auto P = panel_layout::make(kp);
    auto* ph = reinterpret_cast<std::uint16_t*>(panel + P.hi);
    auto* pl = reinterpret_cast<std::uint16_t*>(panel + P.lo);
    auto* res = reinterpret_cast<float*>(panel + P.out);

    simd::amx::tile_config cfg;
    for (int t = 0; t < 8; ++t) cfg.set(t, 16, 64);  // every tile: 16 rows × 64 bytes
    simd::amx::load_config(cfg);

    const std::int64_t groups = (n + 15) / 16;
    for (std::int64_t R = r0; R < r1; R += 16) {
        const int nr = int(std::min<std::int64_t>(16, r1 - R));
        for (int r = 0; r < nr; ++r)
            unpack_row<F>(w.data + std::size_t(R + r) * w.row_bytes, k, kp, ph + 32 * r, pl + 32 * r);
        for (int r = nr; r < 16; ++r)
            for (std::int64_t j = 0; j < kp / 32; ++j) {
                std::memset(ph + 512 * j + 32 * r, 0, 64);
                std::memset(pl + 512 * j + 32 * r, 0, 64);
            }
        // Two token groups at a time (C tiles 4 and 5 share the A tiles): two independent chains of
        // products; a last odd group runs alone.
        for (std::int64_t gi = 0; gi < groups; gi += 2) {
            const bool pair = gi + 1 < groups;
            const std::byte* g0 = act + std::size_t(gi) * G.bytes;
            const std::byte* g1 = pair ? g0 + G.bytes : g0;
            LLMT_AMX_TILEZERO(4);
            LLMT_AMX_TILEZERO(5);
            for (std::int64_t j = 0; j < kp / 32; ++j) {
                LLMT_AMX_TILELOAD(0, ph + 512 * j, 64);
                LLMT_AMX_TILELOAD(2, g0 + G.hi + 1024 * j, 64);
                LLMT_AMX_TILELOAD(3, g0 + G.lo + 1024 * j, 64);
                LLMT_AMX_DPBF16PS(4, 0, 2);
                if (pair) {
                    LLMT_AMX_TILELOAD(6, g1 + G.hi + 1024 * j, 64);
                    LLMT_AMX_TILELOAD(7, g1 + G.lo + 1024 * j, 64);
                    LLMT_AMX_DPBF16PS(5, 0, 6);
                }
                LLMT_AMX_DPBF16PS(4, 0, 3);
                if (pair) LLMT_AMX_DPBF16PS(5, 0, 7);
                if constexpr (has_lo) {
                    LLMT_AMX_TILELOAD(1, pl + 512 * j, 64);
                    LLMT_AMX_DPBF16PS(4, 1, 2);
                    if (pair) LLMT_AMX_DPBF16PS(5, 1, 6);
                }
            }
            for (int h = 0; h < (pair ? 2 : 1); ++h) {
                if (h == 0) LLMT_AMX_TILESTORE(4, res, 64);
                else LLMT_AMX_TILESTORE(5, res, 64);
                const std::int64_t g = gi + h;
                const std::int64_t nt = std::min<std::int64_t>(16, n - 16 * g);
                for (std::int64_t t = 0; t < nt; ++t) {
                    float* yt = y + (16 * g + t) * w.rows + R;
                    for (int r = 0; r < nr; ++r) yt[r] = res[16 * r + t];
                }
            }
        }
    }
    simd::amx::release();
}

inline std::byte* thread_panel(std::size_t bytes) {
    thread_local std::vector<std::byte> buf;
    if (buf.size() < bytes + 64) buf.resize(bytes + 64);
    const auto u = reinterpret_cast<std::uintptr_t>(buf.data());
    return buf.data() + ((64 - (u & 63)) & 63);
}

template <typename F>
void batch(thread_pool& pool, const weight_ref& w, const float* x, std::int64_t n, float* y, std::byte* scratch) {
    const std::int64_t k = w.cols;
    const auto G = group_layout::make<typename F::vec_dot_type>(k);
    const std::int64_t groups = (n + 15) / 16;
    pool.run([&](int ith, int nth) {
        for (std::int64_t g = ith; g < groups; g += nth)
            prepare_group<F>(x + 16 * g * k, k, std::min<std::int64_t>(16, n - 16 * g), scratch + std::size_t(g) * G.bytes);
    });
    const auto P = panel_layout::make(G.kp);
    pool.run([&](int ith, int nth) {
        const std::int64_t units = (w.rows + 15) / 16;
        const std::int64_t r0 = std::min(w.rows, units * ith / nth * 16), r1 = std::min(w.rows, units * (ith + 1) / nth * 16);
        if (r0 < r1) run_rows<F>(w, n, y, scratch, r0, r1, thread_panel(P.bytes));
    });
}

}  // namespace amxbf

/// Not batch invariant (DESIGN.md §8): from batch_min tokens on, the hi/lo bf16 products (wl·al
/// dropped) summed in the tile's order differ from the f16 decode kernel's and the AVX-512 tiles' f32
/// fused multiply-adds; kernels resolved at simd::isa::avx512vnni are the invariant path.
template <typename F>
    requires(std::is_same_v<F, quant::f16> || std::is_same_v<F, quant::bf16>)
struct gemm_impl<F, simd::isa::amx> : gemm_impl<F, simd::isa::avx512> {
    static constexpr int batch_min = 8;
    static std::size_t batch_bytes(std::int64_t k, std::int64_t n) { return amxbf::batch_bytes<F>(k, n); }
    static void batch(thread_pool& pool, const weight_ref& w, const float* x, std::int64_t n, float* y, std::byte* scratch) {
        amxbf::batch<F>(pool, w, x, n, y, scratch);
    }
};

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
