// pack: a weight matrix rearranged once at load into its kernel's decode layout, and rows read back out of it
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/kernels/gemm.hpp>
#include <llmt/kernels/weight_ref.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace kernels {

/// Why: a decode kernel reads 8 rows side by side. In the GGUF layout those are 8 streams a row
/// apart, and a 4096-column q4_0 row (2304 bytes) is too short for the hardware prefetcher to get
/// ahead of; each stream's blocks are also unaligned (18 bytes). The packed layout puts the 8 rows'
/// blocks of one step next to each other, aligned, so that a thread reads one sequential run of
/// bytes (measured on 4096×4096 q4_0 from DRAM: 8.5-9 → 12-12.5 GB/s with 1 thread). A packed group
/// takes exactly the bytes of its pack_rows GGUF rows, so row r's group starts where row r started.
/// Rows past the last whole group stay in the GGUF layout.

/// gemv_packed for a kernel of whole groups of P packed rows, given as One (one group) and Two (two
/// groups at once, g[0] and g[1], their steps interleaved). The rows split into two halves of whole
/// groups, each half one sequential stream of bytes (an odd last group goes alone). Why two streams:
/// the hardware prefetcher keeps only so far ahead of each stream it follows, and a kernel that
/// computes between its loads advances one stream too slowly for that distance to cover the memory's
/// latency; two streams double what is in flight. Measured on q6_K 4096x4096 and 14336x4096 from
/// DRAM, alternating, 3 rounds, as a share of a read pass next to it (plain loads, before membw's
/// passes prefetched too): 1 thread 74-84 % -> 90-134 %, 2 threads 42-79 % -> 85-105 %. A group's
/// operations do not depend on its partner: the same bits either way.
template <int P, void (*One)(const gemm_args*), void (*Two)(const gemm_args*)>
void packed_streams(const gemm_args& g0, std::int64_t nr) {
    const std::int64_t groups = nr / P, half = groups / 2;
    gemm_args g[2] = {g0, g0};
    auto place = [&](gemm_args& x, std::int64_t group) {
        x.w = g0.w + std::size_t(group * P) * g0.w_stride;
        x.y = g0.y + group * P;
    };
    for (std::int64_t i = 0; i < half; ++i) {
        place(g[0], i);
        place(g[1], half + i);
        Two(g);
    }
    if (groups % 2 != 0) {
        place(g[0], groups - 1);
        One(g);
    }
}

/// Whether w can take its kernel's decode layout (and has not already).
[[nodiscard]] inline bool can_pack(const weight_ref& w) noexcept {
    return w.kern != nullptr && w.kern->pack != nullptr && w.packed_rows == 0 && w.rows >= w.kern->pack_rows &&
           w.kern->packable(w.cols);
}

/// Bytes of w's data (all rows).
[[nodiscard]] inline std::size_t weight_bytes(const weight_ref& w) noexcept { return std::size_t(w.rows) * w.row_bytes; }

/// w packed into dst (weight_bytes(w) bytes; dst == w.data packs in place), the groups split across
/// the pool's threads. Returns the packed view. Requires can_pack(w).
inline weight_ref pack_weight(thread_pool& pool, const weight_ref& w, std::byte* dst) {
    const kernel_entry& K = *w.kern;
    const std::int64_t rows_per = K.pack_rows;
    const std::int64_t groups = w.rows / rows_per;
    const std::size_t group_bytes = std::size_t(rows_per) * w.row_bytes;
    const bool in_place = dst == w.data;
    pool.run([&](int ith, int nth) {
        std::vector<std::byte> tmp(in_place ? group_bytes : 0);
        for (std::int64_t gi = groups * ith / nth; gi < groups * (ith + 1) / nth; ++gi) {
            const std::byte* src = w.data + std::size_t(gi) * group_bytes;
            if (in_place) {
                std::memcpy(tmp.data(), src, group_bytes);
                src = tmp.data();
            }
            K.pack(src, dst + std::size_t(gi) * group_bytes, w.cols);
        }
    });
    const std::size_t done = std::size_t(groups) * group_bytes;
    if (!in_place) std::memcpy(dst + done, w.data + done, weight_bytes(w) - done);
    weight_ref p = w;
    p.data = dst;
    p.packed_rows = groups * rows_per;
    return p;
}

/// Rows [r, r + nr) of w in the GGUF layout (row_bytes apart): w's own bytes where they are in that
/// layout, else unpacked into a buffer of the calling thread (valid until its next call; grown on first
/// use only). r must start a packed group when r < packed_rows.
inline const std::byte* unpacked_rows(const weight_ref& w, std::int64_t r, std::int64_t nr) {
    if (r >= w.packed_rows) return w.data + std::size_t(r) * w.row_bytes;
    thread_local std::vector<std::byte> buf;
    const std::size_t need = std::size_t(nr) * w.row_bytes;
    if (buf.size() < need) buf.resize(need);
    const std::int64_t rows_per = w.kern->pack_rows;
    const std::size_t group_bytes = std::size_t(rows_per) * w.row_bytes;
    std::int64_t i = 0;
    for (; i < nr && r + i < w.packed_rows; i += rows_per) {
        const std::byte* src = w.data + std::size_t(r + i) * w.row_bytes;
        if (i + rows_per <= nr) {
            w.kern->unpack(src, buf.data() + std::size_t(i) * w.row_bytes, w.cols);
        } else {  // a group cut by the end of the range: unpack it whole, keep its first rows
            thread_local std::vector<std::byte> part;
            if (part.size() < group_bytes) part.resize(group_bytes);
            w.kern->unpack(src, part.data(), w.cols);
            std::memcpy(buf.data() + std::size_t(i) * w.row_bytes, part.data(), std::size_t(nr - i) * w.row_bytes);
        }
    }
    if (i < nr) std::memcpy(buf.data() + std::size_t(i) * w.row_bytes, w.data + std::size_t(r + i) * w.row_bytes, std::size_t(nr - i) * w.row_bytes);
    return buf.data();
}

}  // namespace kernels
LLMT_END_NAMESPACE
