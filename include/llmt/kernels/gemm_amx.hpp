// gemm_amx: the batched AMX int8 path (q4_0, q8_0, q4_K, q6_K): weight row blocks unpacked once to int8 panels, 16×16 tiles per sub-block
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/f16.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/kernels/pack.hpp>
#include <llmt/kernels/gemm_k.hpp>
#include <llmt/kernels/gemm_q8x32.hpp>
#include <llmt/kernels/gemv_q8x32.hpp>
#include <llmt/kernels/quantize_act.hpp>
#include <llmt/kernels/weight_ref.hpp>
#include <llmt/quant/q4_0.hpp>
#include <llmt/quant/q4_k.hpp>
#include <llmt/quant/q6_k.hpp>
#include <llmt/quant/q8_0.hpp>
#include <llmt/quant/q8_k.hpp>
#include <llmt/simd/amx.hpp>
#include <llmt/simd/x86.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#if LLMT_HAS_X86_KERNELS
LLMT_BEGIN_NAMESPACE
LLMT_SIMD_DIAGNOSTICS_PUSH
namespace kernels {
namespace amx8 {

// The product is cut into sub-blocks of S values (the format's scale granularity). For each one,
// a weight value is w = dw·q + mw and an activation value a = da·p (q, p int8), so
//   Σ w·a over the sub-block = da·(dw·Σ q·p + mw·Σ p),
// where Σ q·p of 16 rows × 16 tokens is one tdpbssd of an A tile (16 rows × S int8, straight from
// the row-major panel) and a B tile (S/4 rows of 16 tokens × 4 int8). The per-sub-block scaling
// runs in f32 on AVX-512, in the same order whatever the split of rows over threads.

/// Stores 32 int8 values starting at value v (a multiple of 32) of one panel row: the panel keeps
/// each sub-block's 16 rows together (sub-block j at j·16·S, row r at r·S inside it), so that an
/// A tile is 16·S contiguous bytes.
template <int S>
LLMT_INLINE_AVX512 void put32(std::int8_t* row, std::int64_t v, __m256i x) {
    if constexpr (S == 32) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(row + v * 16), x);
    } else {
        static_assert(S == 16);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(row + v * 16), _mm256_castsi256_si128(x));
        _mm_storeu_si128(reinterpret_cast<__m128i*>(row + v * 16 + 256), _mm256_extracti128_si256(x, 1));
    }
}

/// Unpacks rows of format F to int8 (through put32) plus per-sub-block scale dw and min term mw.
template <typename F>
struct unpack;

template <>
struct unpack<quant::q8_0> {
    using V = quant::q8_0;
    static constexpr int S = 32;
    static constexpr bool has_min = false;
    /// Row of k values → q[k], dw[j * 16] for sub-block j (the panel stores scales 16 rows apart).
    LLMT_INLINE_AVX512 static void row(const std::byte* src, std::int64_t k, std::int8_t* q, float* dw, float*) {
        const auto* b = reinterpret_cast<const quant::block_q8_0*>(src);
        for (std::int64_t j = 0; j < k / 32; ++j) {
            put32<S>(q, 32 * j, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[j].qs)));
            dw[16 * j] = to_f32(b[j].d);
        }
    }
};

template <>
struct unpack<quant::q4_0> {
    using V = quant::q8_0;
    static constexpr int S = 32;
    static constexpr bool has_min = false;
    LLMT_INLINE_AVX512 static void row(const std::byte* src, std::int64_t k, std::int8_t* q, float* dw, float*) {
        const auto* b = reinterpret_cast<const quant::block_q4_0*>(src);
        const __m256i eight = _mm256_set1_epi8(8);
        for (std::int64_t j = 0; j < k / 32; ++j) {
            put32<S>(q, 32 * j, _mm256_sub_epi8(q8x32::nibbles_avx2(b[j].qs), eight));
            dw[16 * j] = to_f32(b[j].d);
        }
    }
};

template <>
struct unpack<quant::q4_k> {
    using V = quant::q8_k;
    static constexpr int S = 32;
    static constexpr bool has_min = true;
    LLMT_INLINE_AVX512 static void row(const std::byte* src, std::int64_t k, std::int8_t* q, float* dw, float* mw) {
        const auto* b = reinterpret_cast<const quant::block_q4_k*>(src);
        const __m256i m4 = _mm256_set1_epi8(0x0f);
        for (std::int64_t s = 0; s < k / quant::qk_k; ++s) {
            const float d = to_f32(b[s].d), dmin = to_f32(b[s].dmin);
            for (int c = 0; c < 4; ++c) {  // 32 bytes: 32 low nibbles (sub-block 2c), 32 high (2c + 1)
                const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[s].qs + 32 * c));
                const std::int64_t v = quant::qk_k * s + 64 * c;
                put32<S>(q, v, _mm256_and_si256(raw, m4));
                put32<S>(q, v + 32, _mm256_and_si256(_mm256_srli_epi16(raw, 4), m4));
            }
            for (int j = 0; j < 8; ++j) {
                std::uint8_t sc, m;
                quant::detail::unpack_scale_min6(j, b[s].scales, sc, m);
                dw[16 * (8 * s + j)] = d * float(sc);
                mw[16 * (8 * s + j)] = -dmin * float(m);
            }
        }
    }
};

template <>
struct unpack<quant::q6_k> {
    using V = quant::q8_k;
    static constexpr int S = 16;
    static constexpr bool has_min = false;
    LLMT_INLINE_AVX512 static void row(const std::byte* src, std::int64_t k, std::int8_t* q, float* dw, float*) {
        const auto* b = reinterpret_cast<const quant::block_q6_k*>(src);
        const __m256i m4 = _mm256_set1_epi8(0x0f), m2 = _mm256_set1_epi8(0x03), off = _mm256_set1_epi8(32);
        for (std::int64_t s = 0; s < k / quant::qk_k; ++s) {
            for (int h = 0; h < 2; ++h) {
                const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[s].ql + 64 * h));
                const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[s].ql + 64 * h + 32));
                const __m256i hb = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[s].qh + 32 * h));
                // bits 2i..2i+1 of qh → bits 4..5 of value 32i + l
                const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4);
                const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4);
                const __m256i h2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4);
                const __m256i h3 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4);
                const __m256i v0 = _mm256_or_si256(_mm256_and_si256(l0, m4), h0);
                const __m256i v1 = _mm256_or_si256(_mm256_and_si256(l1, m4), h1);
                const __m256i v2 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), h2);
                const __m256i v3 = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4), h3);
                const std::int64_t v = quant::qk_k * s + 128 * h;
                put32<S>(q, v, _mm256_sub_epi8(v0, off));
                put32<S>(q, v + 32, _mm256_sub_epi8(v1, off));
                put32<S>(q, v + 64, _mm256_sub_epi8(v2, off));
                put32<S>(q, v + 96, _mm256_sub_epi8(v3, off));
            }
            const float d = to_f32(b[s].d);
            for (int j = 0; j < 16; ++j) dw[16 * (16 * s + j)] = d * float(b[s].scales[j]);
        }
    }
};

/// Activation sub-block scales of a token converted with the reference quantizer of V:
/// da[j] and, for formats with a min, dsum[j] = da·Σ p over sub-block j.
template <typename V, int S>
void act_scales(const typename V::block* blocks, std::int64_t k, float* da, float* dsum, std::size_t stride) {
    if constexpr (std::is_same_v<V, quant::q8_0>) {
        for (std::int64_t j = 0; j < k / 32; ++j) {
            da[std::size_t(j) * stride] = to_f32(blocks[j].d);
            if (dsum) {
                int s = 0;
                for (int i = 0; i < 32; ++i) s += blocks[j].qs[i];
                dsum[std::size_t(j) * stride] = to_f32(blocks[j].d) * float(s);
            }
        }
    } else {
        constexpr int per = quant::qk_k / S, sums = S / 16;
        for (std::int64_t j = 0; j < k / S; ++j) {
            const auto& b = blocks[j / per];
            da[std::size_t(j) * stride] = b.d;
            if (dsum) {
                int s = 0;
                for (int i = 0; i < sums; ++i) s += b.bsums[(j % per) * sums + i];
                dsum[std::size_t(j) * stride] = b.d * float(s);
            }
        }
    }
}

/// Byte offsets inside the prepared activations of one group of 16 tokens.
struct group_layout {
    std::int64_t nsb;          // sub-blocks per token
    std::size_t q, da, dsum, tmp, bytes;
    template <typename U>
    static group_layout make(std::int64_t k) noexcept {
        using V = typename U::V;
        group_layout l{};
        l.nsb = k / U::S;
        l.q = 0;                                                      // [nsb][S/4][16 tokens][4] int8
        l.da = detail::align64(std::size_t(k) * 16);                  // [nsb][16] f32
        l.dsum = l.da + detail::align64(std::size_t(l.nsb) * 64);     // [nsb][16] f32
        l.tmp = l.dsum + detail::align64(std::size_t(l.nsb) * 64);    // [16] reference blocks (staging)
        l.bytes = l.tmp + 16 * detail::align64(std::size_t(k / V::block_size) * sizeof(typename V::block));
        return l;
    }
};

/// The weight panel of 16 rows: q [16][k] int8, dw and mw [nsb][16] f32.
struct panel_layout {
    std::size_t q, dw, mw, out, bytes;
    static panel_layout make(std::int64_t k, std::int64_t nsb) noexcept {
        panel_layout l{};
        l.q = 0;
        l.dw = detail::align64(std::size_t(k) * 16);
        l.mw = l.dw + detail::align64(std::size_t(nsb) * 64);
        l.out = l.mw + detail::align64(std::size_t(nsb) * 64);  // two 16×16 int32 tile stores, then 16×16 f32 results
        l.bytes = l.out + 3 * 1024;
        return l;
    }
};

template <typename F>
std::size_t batch_bytes(std::int64_t k, std::int64_t n) {
    return std::size_t((n + 15) / 16) * group_layout::make<unpack<F>>(k).bytes;
}

/// Tokens [16g, 16g + nt) → group g: reference quantization, then the B-tile layout and the scales.
template <typename F>
void prepare_group(const float* x, std::int64_t k, std::int64_t nt, std::byte* g) {
    using U = unpack<F>;
    using V = typename U::V;
    constexpr int S = U::S;
    const auto L = group_layout::make<U>(k);
    const std::size_t tmp_stride = detail::align64(std::size_t(k / V::block_size) * sizeof(typename V::block));
    if (nt < 16) {  // padding tokens: zero values and scales
        std::memset(g + L.q, 0, std::size_t(k) * 16);
        std::memset(g + L.da, 0, L.tmp - L.da);
    }
    auto* q = reinterpret_cast<std::int32_t*>(g + L.q);
    auto* da = reinterpret_cast<float*>(g + L.da);
    auto* dsum = reinterpret_cast<float*>(g + L.dsum);
    for (std::int64_t t = 0; t < nt; ++t) {
        auto* blocks = reinterpret_cast<typename V::block*>(g + L.tmp + std::size_t(t) * tmp_stride);
        if constexpr (std::is_same_v<V, quant::q8_0>) qact::quantize_q8_0(x + t * k, blocks, k);
        else qact::quantize_q8_k(x + t * k, blocks, k);
        act_scales<V, S>(blocks, k, da + t, U::has_min ? dsum + t : nullptr, 16);
        // value 4i + e of the token goes to group dword (i, t): rows of 16 tokens × 4 bytes
        for (std::int64_t i = 0; i < k / 4; ++i) {
            std::int32_t v;
            std::memcpy(&v, blocks[(4 * i) / V::block_size].qs + (4 * i) % V::block_size, 4);
            q[i * 16 + t] = v;
        }
    }
}

/// acc[r] (16 tokens of row r) += da·(dw[r]·c[r] + mw[r]·Σp) for one sub-block's int32 tile c.
template <typename U>
LLMT_INLINE_AVX512 void apply_tile(__m512 (&acc)[16], const std::int32_t* c, const float* da, const float* dsum, const float* dw,
                                   const float* mw) {
    const __m512 a_d = _mm512_load_ps(da);
#pragma GCC unroll 16
    for (int r = 0; r < 16; ++r) {
        const __m512 v = _mm512_cvtepi32_ps(_mm512_load_si512(c + 16 * r));
        acc[r] = _mm512_fmadd_ps(_mm512_mul_ps(v, a_d), _mm512_set1_ps(dw[r]), acc[r]);
    }
    if constexpr (U::has_min) {
        const __m512 a_s = _mm512_load_ps(dsum);
#pragma GCC unroll 16
        for (int r = 0; r < 16; ++r) acc[r] = _mm512_fmadd_ps(a_s, _mm512_set1_ps(mw[r]), acc[r]);
    }
}

/// Rows [r0, r1) of y for all n tokens (r0 a multiple of 16), one 16-row panel at a time.
template <typename F>
LLMT_TARGET_AVX512 void run_rows(const weight_ref& w, std::int64_t n, float* y, const std::byte* act, std::int64_t r0, std::int64_t r1,
                                 std::byte* panel) {
    using U = unpack<F>;
    constexpr int S = U::S;
    const std::int64_t k = w.cols;
    const auto G = group_layout::make<U>(k);
    const auto P = panel_layout::make(k, G.nsb);
    auto* pq = reinterpret_cast<std::int8_t*>(panel + P.q);
    auto* dw = reinterpret_cast<float*>(panel + P.dw);
    auto* mw = reinterpret_cast<float*>(panel + P.mw);
    auto* cbuf = reinterpret_cast<std::int32_t*>(panel + P.out);
    auto* res = reinterpret_cast<float*>(panel + P.out + 2048);

    simd::amx::tile_config cfg;
    for (int t : {0, 4}) cfg.set(t, 16, S);      // A: 16 rows × S int8 (two buffers)
    for (int t : {1, 5}) cfg.set(t, S / 4, 64);  // B: S/4 rows × 16 tokens × 4 int8
    for (int t : {2, 3}) cfg.set(t, 16, 64);     // C: 16 rows × 16 tokens int32
    simd::amx::load_config(cfg);

    const std::int64_t groups = (n + 15) / 16;
    const std::int64_t nsb = G.nsb;
    for (std::int64_t R = r0; R < r1; R += 16) {
        const int nr = int(std::min<std::int64_t>(16, r1 - R));
        const std::byte* rows = unpacked_rows(w, R, nr);
        for (int r = 0; r < nr; ++r) U::row(rows + std::size_t(r) * w.row_bytes, k, pq + std::size_t(r) * S, dw + r, mw + r);
        for (int r = nr; r < 16; ++r) {
            for (std::int64_t j = 0; j < nsb; ++j) std::memset(pq + std::size_t(j) * 16 * S + std::size_t(r) * S, 0, S);
            for (std::int64_t j = 0; j < nsb; ++j) dw[16 * j + r] = mw[16 * j + r] = 0.0f;
        }
        for (std::int64_t gi = 0; gi < groups; ++gi) {
            const std::byte* g = act + std::size_t(gi) * G.bytes;
            const auto* gq = reinterpret_cast<const std::int8_t*>(g + G.q);
            const auto* gda = reinterpret_cast<const float*>(g + G.da);
            const auto* gds = reinterpret_cast<const float*>(g + G.dsum);
            __m512 acc[16];
            for (auto& a : acc) a = _mm512_setzero_ps();
            // Two sub-blocks per step on separate A, B and C tiles, so that the second product
            // runs while the first one's tile is stored and scaled.
            std::int64_t j = 0;
            for (; j + 2 <= nsb; j += 2) {
                LLMT_AMX_TILELOAD(0, pq + 16 * S * j, S);
                LLMT_AMX_TILELOAD(1, gq + 16 * S * j, 64);
                LLMT_AMX_TILEZERO(2);
                LLMT_AMX_DPBSSD(2, 0, 1);
                LLMT_AMX_TILELOAD(4, pq + 16 * S * (j + 1), S);
                LLMT_AMX_TILELOAD(5, gq + 16 * S * (j + 1), 64);
                LLMT_AMX_TILEZERO(3);
                LLMT_AMX_DPBSSD(3, 4, 5);
                LLMT_AMX_TILESTORE(2, cbuf, 64);
                LLMT_AMX_TILESTORE(3, cbuf + 256, 64);
                apply_tile<U>(acc, cbuf, gda + 16 * j, gds + 16 * j, dw + 16 * j, mw + 16 * j);
                apply_tile<U>(acc, cbuf + 256, gda + 16 * (j + 1), gds + 16 * (j + 1), dw + 16 * (j + 1), mw + 16 * (j + 1));
            }
            if (j < nsb) {
                LLMT_AMX_TILELOAD(0, pq + 16 * S * j, S);
                LLMT_AMX_TILELOAD(1, gq + 16 * S * j, 64);
                LLMT_AMX_TILEZERO(2);
                LLMT_AMX_DPBSSD(2, 0, 1);
                LLMT_AMX_TILESTORE(2, cbuf, 64);
                apply_tile<U>(acc, cbuf, gda + 16 * j, gds + 16 * j, dw + 16 * j, mw + 16 * j);
            }
            for (int r = 0; r < 16; ++r) _mm512_store_ps(res + 16 * r, acc[r]);
            const std::int64_t nt = std::min<std::int64_t>(16, n - 16 * gi);
            for (std::int64_t t = 0; t < nt; ++t) {
                float* yt = y + (16 * gi + t) * w.rows + R;
                for (int r = 0; r < nr; ++r) yt[r] = res[16 * r + t];
            }
        }
    }
    simd::amx::release();
}

/// Each thread's weight panel, allocated on its first batched call and grown when a wider matrix comes.
inline std::byte* thread_panel(std::size_t bytes) {
    thread_local std::vector<std::byte> buf;
    if (buf.size() < bytes + 64) buf.resize(bytes + 64);
    const auto u = reinterpret_cast<std::uintptr_t>(buf.data());
    return buf.data() + ((64 - (u & 63)) & 63);
}

template <typename F>
void batch(thread_pool& pool, const weight_ref& w, const float* x, std::int64_t n, float* y, std::byte* scratch) {
    using U = unpack<F>;
    const std::int64_t k = w.cols;
    const auto G = group_layout::make<U>(k);
    const std::int64_t groups = (n + 15) / 16;
    pool.run([&](int ith, int nth) {
        for (std::int64_t g = ith; g < groups; g += nth)
            prepare_group<F>(x + 16 * g * k, k, std::min<std::int64_t>(16, n - 16 * g), scratch + std::size_t(g) * G.bytes);
    });
    const auto P = panel_layout::make(k, G.nsb);
    pool.run([&](int ith, int nth) {
        // the same 16-row units as matmul's split
        const std::int64_t units = (w.rows + 15) / 16;
        const std::int64_t r0 = std::min(w.rows, units * ith / nth * 16), r1 = std::min(w.rows, units * (ith + 1) / nth * 16);
        if (r0 < r1) run_rows<F>(w, n, y, scratch, r0, r1, thread_panel(P.bytes));
    });
}

template <typename F>
inline constexpr bool covered = false;
template <> inline constexpr bool covered<quant::q4_0> = true;
template <> inline constexpr bool covered<quant::q8_0> = true;
template <> inline constexpr bool covered<quant::q4_k> = true;
template <> inline constexpr bool covered<quant::q6_k> = true;

}  // namespace amx8

/// AMX level: the AVX-512 VNNI tiles for few tokens, the AMX int8 panels from batch_min tokens on.
/// The panels are not batch invariant (DESIGN.md §8): they scale each sub-block's int32 sum in float
/// (two roundings per sub-block, q4_K's sub-block scale folded into the float) where the decode kernel
/// and the VNNI tiles do one fused multiply-add per 4-block group lane (q4_0, q8_0 per block pair) or per
/// super-block (K-quants). Kernels resolved at simd::isa::avx512vnni are the invariant path.
template <typename F>
    requires amx8::covered<F>
struct gemm_impl<F, simd::isa::amx> : gemm_impl<F, simd::isa::avx512vnni> {
    static constexpr int batch_min = 8;
    static std::size_t batch_bytes(std::int64_t k, std::int64_t n) { return amx8::batch_bytes<F>(k, n); }
    static void batch(thread_pool& pool, const weight_ref& w, const float* x, std::int64_t n, float* y, std::byte* scratch) {
        amx8::batch<F>(pool, w, x, n, y, scratch);
    }
};

}  // namespace kernels
LLMT_SIMD_DIAGNOSTICS_POP
LLMT_END_NAMESPACE
#endif  // LLMT_HAS_X86_KERNELS
