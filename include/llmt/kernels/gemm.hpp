// gemm: the kernel entry of one (format, instruction set) pair — activation preparation and tile function — and the scalar path
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/kernels/act.hpp>
#include <llmt/kernels/weight_ref.hpp>
#include <llmt/quant/format.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/simd/cpu.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

LLMT_BEGIN_NAMESPACE
namespace kernels {

/// One tile of Y = W·Xᵀ: rows [0, nr) of w against tokens [0, nc) of the prepared activation a.
struct gemm_args {
    std::int64_t k = 0;               // values per row (cols)
    const std::byte* w = nullptr;     // first weight row of the tile
    std::size_t w_stride = 0;         // bytes between weight rows
    const std::byte* a = nullptr;     // first prepared token of the tile
    std::size_t a_stride = 0;         // bytes between prepared tokens
    float* y = nullptr;               // y[c * y_stride + r]
    std::size_t y_stride = 0;         // floats between tokens of y
};

using tile_fn = void (*)(const gemm_args& g, int nr, int nc);
using prepare_fn = void (*)(const float* x, std::byte* out, std::int64_t k);
using act_bytes_fn = std::size_t (*)(std::int64_t k);
/// Decode (one token): rows [0, nr) of g.w against the one prepared token g.a, into g.y[0, nr).
using gemv_fn = void (*)(const gemm_args& g, std::int64_t nr);
/// A whole Y = W·X for n tokens (the batched path of a level, e.g. AMX): its own activation layout and
/// thread split, scratch of batch_bytes(k, n) bytes (64-aligned).
using batch_fn = void (*)(thread_pool& pool, const weight_ref& w, const float* x, std::int64_t n, float* y, std::byte* scratch);
using batch_bytes_fn = std::size_t (*)(std::int64_t k, std::int64_t n);
/// The decode layout: pack_rows rows of k values in the GGUF layout (src, one after the other) → one
/// packed group of the same size (dst); unpack is the inverse. src and dst do not overlap.
using pack_fn = void (*)(const std::byte* src, std::byte* dst, std::int64_t k);
using packable_fn = bool (*)(std::int64_t k);
/// One packed group of rows against tokens [0, nc) (see kernel_entry::tile_packed).
using packed_tile_fn = void (*)(const gemm_args& g, int nc);

/// The resolved kernel of one weight format on one instruction set. Every output element is
/// computed by the same sequence of operations whatever the tile shape (nr ≤ mr, nc ≤ nc_max),
/// so results do not depend on how rows and tokens are split across threads, and by the same
/// sequence the decode kernel (gemv) uses for one token, so not on the batch either.
struct kernel_entry {
    quant::qtype type = quant::qtype::f32;
    simd::isa isa = simd::isa::scalar;  // the path actually used (may be below the one asked for)
    int mr = 1;                          // rows per tile
    int nc = 1;                          // tokens per tile
    act_bytes_fn act_bytes = nullptr;    // bytes of one prepared token of k values (multiple of 64)
    prepare_fn prepare = nullptr;        // f32 token → prepared activation
    tile_fn tile = nullptr;
    // the decode path (n == 1), when the format has one on this level: its own activation layout
    act_bytes_fn gemv_act_bytes = nullptr;
    prepare_fn gemv_prepare = nullptr;
    gemv_fn gemv = nullptr;
    // Optional batched path, used by matmul for n ≥ batch_min tokens (its results may differ from the
    // tile and decode paths' in the last bits, so a batch of n ≥ batch_min tokens is not batch
    // invariant; they too do not depend on the thread count).
    int batch_min = 0;
    batch_bytes_fn batch_bytes = nullptr;
    batch_fn batch = nullptr;
    // Optional decode layout (kernels/pack.hpp): groups of pack_rows rows rearranged once at load so that
    // decode reads each thread's rows as sequential runs of aligned bytes (two at once: packed_streams). gemv_packed is gemv on
    // whole groups (same prepared activation, same results bit for bit); the other paths unpack.
    int pack_rows = 0;
    packable_fn packable = nullptr;  // whether rows of k values can take the layout
    pack_fn pack = nullptr;
    pack_fn unpack = nullptr;
    gemv_fn gemv_packed = nullptr;
    // Optional prefill tile on the decode layout: one packed group (pack_rows rows at g.w) × nc ≤
    // packed_nc tokens, each token through gemv_packed's operations (the same bits); matmul then reads
    // packed rows in place instead of unpacking them for `tile`.
    int packed_nc = 0;
    packed_tile_fn tile_packed = nullptr;
    [[nodiscard]] bool valid() const noexcept { return tile != nullptr; }
    [[nodiscard]] bool batched(std::int64_t n) const noexcept { return batch != nullptr && n >= batch_min; }
};

/// gemm_impl<F, I>: the hand-written path of format F on instruction set I, when there is one:
///   static constexpr bool available = true; static constexpr int mr, nc;
///   static std::size_t act_bytes(std::int64_t k); static void prepare(const float*, std::byte*, std::int64_t);
///   template <int NR, int NC> static void tile(const gemm_args&);
/// and optionally a batched path: static constexpr int batch_min; batch_bytes and batch (see batch_fn).
template <typename F, simd::isa I>
struct gemm_impl {
    static constexpr bool available = false;
};

/// gemv_impl<F, I>: a decode kernel of format F on instruction set I (one token, many rows per call):
///   static constexpr bool available = true; static std::size_t act_bytes(std::int64_t k);
///   static void prepare(const float*, std::byte*, std::int64_t); static void gemv(const gemm_args&, std::int64_t nr);
/// and optionally a decode layout: static constexpr int pack_rows; packable, pack, unpack, gemv_packed (see kernel_entry).
/// Every row is computed by the same operations whatever nr and its position, so results do not
/// depend on the thread count; and the same operations as gemm_impl<F, I>'s tiles do for each token of a
/// batch, so a token's row of any batch equals its decode result bit for bit (DESIGN.md §8; tested for
/// every format and level in test_matmul.cpp). Only a batched path (AMX) may differ in the last bits.
template <typename F, simd::isa I>
struct gemv_impl {
    static constexpr bool available = false;
};

/// The scalar path: F's reference dot against the reference conversion of the activation.
template <quant::quant_format F>
struct gemm_impl<F, simd::isa::scalar> {
    using V = typename F::vec_dot_type;
    static constexpr bool available = true;
    static constexpr int mr = 4, nc = 4;
    static std::size_t act_bytes(std::int64_t k) { return blocks_act_bytes<V>(k); }
    static void prepare(const float* x, std::byte* out, std::int64_t k) { prepare_blocks<V>(x, out, k); }
    template <int NR, int NC>
    static void tile(const gemm_args& g) {
        for (int c = 0; c < NC; ++c)
            for (int r = 0; r < NR; ++r)
                g.y[std::size_t(c) * g.y_stride + std::size_t(r)] =
                    F::vec_dot(g.k, reinterpret_cast<const typename F::block*>(g.w + std::size_t(r) * g.w_stride),
                               reinterpret_cast<const typename V::block*>(g.a + std::size_t(c) * g.a_stride));
    }
};

namespace detail {
template <typename Impl, std::size_t... Is>
constexpr auto tile_table(std::index_sequence<Is...>) {
    using fn = void (*)(const gemm_args&);
    return std::array<fn, sizeof...(Is)>{&Impl::template tile<int(Is / Impl::nc) + 1, int(Is % Impl::nc) + 1>...};
}
/// tile_packed<nc> chosen from a table of every instantiation up to <packed_nc>.
template <typename Impl, std::size_t... Is>
constexpr auto packed_tile_table(std::index_sequence<Is...>) {
    using fn = void (*)(const gemm_args&);
    return std::array<fn, sizeof...(Is)>{&Impl::template tile_packed<int(Is) + 1>...};
}
template <typename Impl>
void packed_tile_dispatch(const gemm_args& g, int nc) {
    static constexpr auto table = packed_tile_table<Impl>(std::make_index_sequence<std::size_t(Impl::packed_nc)>());
    table[std::size_t(nc - 1)](g);
}
/// tile<nr, nc> chosen from a table of every instantiation up to <mr, nc>.
template <typename Impl>
void tile_dispatch(const gemm_args& g, int nr, int nc) {
    static constexpr auto table = tile_table<Impl>(std::make_index_sequence<std::size_t(Impl::mr * Impl::nc)>());
    table[std::size_t((nr - 1) * Impl::nc + (nc - 1))](g);
}

/// The highest level ≤ want with a hand path for F (scalar always has one).
template <typename F>
constexpr simd::isa best_available(simd::isa want) noexcept {
    if (want >= simd::isa::amx && gemm_impl<F, simd::isa::amx>::available) return simd::isa::amx;
    if (want >= simd::isa::avx512vnni && gemm_impl<F, simd::isa::avx512vnni>::available) return simd::isa::avx512vnni;
    if (want >= simd::isa::avx512 && gemm_impl<F, simd::isa::avx512>::available) return simd::isa::avx512;
    if (want >= simd::isa::avx2 && gemm_impl<F, simd::isa::avx2>::available) return simd::isa::avx2;
    return simd::isa::scalar;
}

/// The highest level ≤ I with a decode kernel for F (scalar when there is none: matmul's tiles decode then).
template <typename F, simd::isa I>
constexpr simd::isa gemv_level() noexcept {
    if constexpr (I >= simd::isa::avx512vnni && gemv_impl<F, simd::isa::avx512vnni>::available) return simd::isa::avx512vnni;
    else if constexpr (I >= simd::isa::avx512 && gemv_impl<F, simd::isa::avx512>::available) return simd::isa::avx512;
    else if constexpr (I >= simd::isa::avx2 && gemv_impl<F, simd::isa::avx2>::available) return simd::isa::avx2;
    else return simd::isa::scalar;
}

template <typename F, simd::isa I>
constexpr kernel_entry make_entry_exact() noexcept {
    using impl = gemm_impl<F, I>;
    kernel_entry e;
    e.type = F::id;
    e.isa = I;
    e.mr = impl::mr;
    e.nc = impl::nc;
    e.act_bytes = &impl::act_bytes;
    e.prepare = &impl::prepare;
    e.tile = &tile_dispatch<impl>;
    // the decode kernel: the best one at or below I (AMX has none of its own: one token is no tile)
    constexpr simd::isa gi = gemv_level<F, I>();
    if constexpr (gemv_impl<F, gi>::available) {
        e.gemv_act_bytes = &gemv_impl<F, gi>::act_bytes;
        e.gemv_prepare = &gemv_impl<F, gi>::prepare;
        e.gemv = &gemv_impl<F, gi>::gemv;
        if constexpr (requires { gemv_impl<F, gi>::pack_rows; }) {
            e.pack_rows = gemv_impl<F, gi>::pack_rows;
            e.packable = &gemv_impl<F, gi>::packable;
            e.pack = &gemv_impl<F, gi>::pack;
            e.unpack = &gemv_impl<F, gi>::unpack;
            e.gemv_packed = &gemv_impl<F, gi>::gemv_packed;
            if constexpr (requires { gemv_impl<F, gi>::packed_nc; }) {
                e.packed_nc = gemv_impl<F, gi>::packed_nc;
                e.tile_packed = &packed_tile_dispatch<gemv_impl<F, gi>>;
            }
        }
    }
    if constexpr (requires { impl::batch_min; }) {
        e.batch_min = impl::batch_min;
        e.batch_bytes = &impl::batch_bytes;
        e.batch = &impl::batch;
    }
    return e;
}
}  // namespace detail

/// The entry of format F for instruction set `want` (falling back to the best lower level with a path).
template <quant::quant_format F>
constexpr kernel_entry make_kernel_entry(simd::isa want) noexcept {
    switch (detail::best_available<F>(want)) {
        case simd::isa::amx:
            if constexpr (gemm_impl<F, simd::isa::amx>::available) return detail::make_entry_exact<F, simd::isa::amx>();
            break;
        case simd::isa::avx512vnni:
            if constexpr (gemm_impl<F, simd::isa::avx512vnni>::available) return detail::make_entry_exact<F, simd::isa::avx512vnni>();
            break;
        case simd::isa::avx512:
            if constexpr (gemm_impl<F, simd::isa::avx512>::available) return detail::make_entry_exact<F, simd::isa::avx512>();
            break;
        case simd::isa::avx2:
            if constexpr (gemm_impl<F, simd::isa::avx2>::available) return detail::make_entry_exact<F, simd::isa::avx2>();
            break;
        case simd::isa::scalar: break;
    }
    return detail::make_entry_exact<F, simd::isa::scalar>();
}

}  // namespace kernels
LLMT_END_NAMESPACE
