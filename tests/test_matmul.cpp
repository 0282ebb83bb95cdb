// test_matmul: every format's kernels on every instruction set of this CPU against the scalar reference dot, thread-count invariance
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

namespace {
namespace k = llmt::kernels;
namespace q = llmt::quant;
using llmt::simd::isa;

template <typename L>
struct as_tuple;
template <typename... Ts>
struct as_tuple<llmt::type_list<Ts...>> {
    using type = std::tuple<Ts...>;
};
using formats = as_tuple<q::all_formats::list>::type;

std::vector<float> randn(std::size_t n, std::uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> d(0.0f, 1.0f);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

/// A quantized random matrix of format F.
template <typename F>
struct matrix {
    std::int64_t rows, cols;
    std::vector<typename F::block> blocks;
    matrix(std::int64_t r, std::int64_t c, std::uint32_t seed) : rows(r), cols(c), blocks(std::size_t(r * c / F::block_size)) {
        const auto src = randn(std::size_t(r * c), seed);
        for (std::int64_t i = 0; i < r; ++i) F::quantize_row(src.data() + i * c, blocks.data() + i * c / F::block_size, c);
    }
    k::weight_ref ref(isa level) const {
        return k::make_weight_ref<q::all_formats>(F::id, blocks.data(), rows, cols, "test", level);
    }
    const typename F::block* row(std::int64_t r) const { return blocks.data() + r * cols / F::block_size; }
};

/// Column sizes: block multiples with an odd and an even block count, and (block size 1) SIMD tails.
template <typename F>
std::vector<std::int64_t> test_cols() {
    if constexpr (F::block_size == 1) return {1, 7, 67, 256, 1000};
    else if constexpr (F::block_size == 32) return {32, 64, 96, 224, 256, 1024};  // 1..4 blocks past a multiple of 4
    else return {256, 768, 1024};
}

std::vector<isa> levels() {
    std::vector<isa> v;
    for (int i = 0; i < llmt::simd::isa_count; ++i)
        if (isa(i) <= llmt::simd::best_isa()) v.push_back(isa(i));
    return v;
}
}  // namespace

TEST_CASE("isa names parse and the detected level is consistent with the features") {
    CHECK(llmt::simd::parse_isa("scalar") == isa::scalar);
    CHECK(llmt::simd::parse_isa("avx512vnni") == isa::avx512vnni);
    CHECK_THROWS_AS(llmt::simd::parse_isa("sse9"), llmt::error);
    const auto& f = llmt::simd::cpu();
    if (llmt::simd::best_isa() >= isa::avx2) CHECK((f.avx2 && f.fma && f.f16c));
    if (llmt::simd::best_isa() >= isa::avx512) CHECK((f.avx512f && f.avx512bw && f.avx512vl));
    if (llmt::simd::best_isa() == isa::avx512vnni) CHECK(f.avx512vnni);
    CHECK(llmt::simd::active_isa() <= llmt::simd::best_isa());
}

TEST_CASE("thread_pool::run_balanced covers every unit exactly once, and the others take a held-up thread's share") {
    for (int threads : {1, 2, 3, 5}) {
        llmt::thread_pool pool(threads);
        for (std::int64_t n : {0, 1, 7, 64, 1000})
            for (std::int64_t grain : {0, 1, 3, 16, 2000}) {
                std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
                std::atomic<int> bad_range{0};
                pool.run_balanced(n, grain, [&](std::int64_t i0, std::int64_t i1) {
                    if (i0 < 0 || i1 > n || i1 <= i0 || (i1 - i0 > std::max<std::int64_t>(grain, 1) && i1 - i0 != n)) bad_range.fetch_add(1);
                    for (std::int64_t i = std::max<std::int64_t>(i0, 0); i < std::min(i1, n); ++i) hits[std::size_t(i)].fetch_add(1);
                });
                CHECK(bad_range.load() == 0);
                CHECK(std::all_of(hits.begin(), hits.end(), [](const std::atomic<int>& h) { return h.load() == 1; }));
            }
    }
    // a worker stuck in its first chunk (as if the host took its CPU away): the caller does the rest
    llmt::thread_pool pool(2);
    const auto caller = std::this_thread::get_id();
    std::atomic<int> by_caller{0}, stalls{0};
    pool.run_balanced(64, 1, [&](std::int64_t i0, std::int64_t i1) {
        if (std::this_thread::get_id() != caller) {
            if (stalls.fetch_add(1) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        } else {
            by_caller.fetch_add(int(i1 - i0));
        }
    });
    CHECK(by_caller.load() >= 63);
}

TEST_CASE("thread_pool::run_balanced ends with small chunks; run_sized keeps small regions on the caller") {
    llmt::thread_pool pool(2);
    // the worker held up after its first chunk: the caller drains its own share, then the worker's
    // from the back, each time in chunks that shrink from the grain to a single unit
    const auto caller = std::this_thread::get_id();
    std::vector<std::int64_t> sizes;
    std::atomic<std::int64_t> by_caller{0}, by_worker{0};
    pool.run_balanced(256, 16, [&](std::int64_t i0, std::int64_t i1) {
        if (std::this_thread::get_id() != caller) {
            by_worker.fetch_add(i1 - i0);
            while (by_caller.load() + by_worker.load() < 256) std::this_thread::yield();
            return;
        }
        sizes.push_back(i1 - i0);
        by_caller.fetch_add(i1 - i0);
    });
    CHECK(by_caller.load() + by_worker.load() == 256);
    REQUIRE(sizes.size() >= 2);
    CHECK(sizes.front() == 16);
    CHECK(*std::max_element(sizes.begin(), sizes.end()) <= 16);
    CHECK(sizes.back() == 1);
    int rises = 0;
    for (std::size_t i = 1; i < sizes.size(); ++i) rises += sizes[i] > sizes[i - 1];
    CHECK(rises == 1);  // shrinking through its own share, back up to at most the grain for the other's

    std::atomic<int> calls{0}, on_caller{0};
    pool.run_sized(llmt::thread_pool::parallel_min_bytes, [&](int ith, int nth) {  // below 2 × the minimum: one call
        calls.fetch_add(1);
        if (ith == 0 && nth == 1 && std::this_thread::get_id() == caller) on_caller.fetch_add(1);
    });
    CHECK(calls.load() == 1);
    CHECK(on_caller.load() == 1);
    calls.store(0);
    std::atomic<int> saw_two{0};
    pool.run_sized(2 * llmt::thread_pool::parallel_min_bytes, [&](int, int nth) {
        calls.fetch_add(1);
        if (nth == 2) saw_two.fetch_add(1);
    });
    CHECK(calls.load() == 2);
    CHECK(saw_two.load() == 2);
}

TEST_CASE_TEMPLATE_DEFINE("matmul: every path of this CPU matches the format's reference dot", F, matmul_vs_ref) {
    using V = typename F::vec_dot_type;
    constexpr std::int64_t rows = 37;  // not a multiple of any tile or row unit
    constexpr std::int64_t n = 6;      // not a multiple of any tile
    llmt::thread_pool pool(2);
    for (std::int64_t cols : test_cols<F>()) {
        const matrix<F> m(rows, cols, 1234u + std::uint32_t(cols));
        const auto x = randn(std::size_t(n * cols), 99u + std::uint32_t(cols));
        // reference: F::vec_dot against the reference conversion of each token; bound from |w|·|a|
        std::vector<float> ref(std::size_t(n * rows)), bound(std::size_t(n * rows));
        std::vector<typename V::block> act(std::size_t(cols / V::block_size));
        std::vector<float> wd(static_cast<std::size_t>(cols)), ad(static_cast<std::size_t>(cols));
        for (std::int64_t t = 0; t < n; ++t) {
            V::quantize_row(x.data() + t * cols, act.data(), cols);
            V::dequantize_row(act.data(), ad.data(), cols);
            for (std::int64_t r = 0; r < rows; ++r) {
                ref[std::size_t(t * rows + r)] = F::vec_dot(cols, m.row(r), act.data());
                F::dequantize_row(m.row(r), wd.data(), cols);
                double l1 = 0;
                for (std::int64_t i = 0; i < cols; ++i) l1 += std::fabs(double(wd[std::size_t(i)]) * ad[std::size_t(i)]);
                bound[std::size_t(t * rows + r)] = float(5e-5 * l1 + 1e-6);
            }
        }
        for (isa level : levels()) {
            CAPTURE(cols);
            CAPTURE(llmt::simd::to_string(level));
            const auto w = m.ref(level);
            REQUIRE(w.kern != nullptr);
            CHECK(w.kern->isa <= level);
            std::vector<std::byte> scratch(k::matmul_scratch_bytes(w, n));
            std::vector<float> y(std::size_t(n * rows), -1.0f);
            k::matmul(pool, w, x.data(), n, y.data(), scratch.data());
            for (std::size_t i = 0; i < y.size(); ++i)
                REQUIRE_MESSAGE(std::fabs(y[i] - ref[i]) <= bound[i], "element " << i << ": " << y[i] << " vs reference " << ref[i]);
            // one token at a time (the decode path, its own kernel where the format has one): within the same
            // bound of the reference, and the same bits for 1, 2 and 3 threads
            std::vector<float> yv(static_cast<std::size_t>(rows)), yv1(static_cast<std::size_t>(rows));
            llmt::thread_pool pool1(1), pool3(3);
            for (std::int64_t t = 0; t < n; ++t) {
                k::matvec(pool, w, x.data() + t * cols, yv.data(), scratch.data());
                for (std::int64_t r = 0; r < rows; ++r) {
                    const std::size_t i = std::size_t(t * rows + r);
                    REQUIRE_MESSAGE(std::fabs(yv[std::size_t(r)] - ref[i]) <= bound[i], "matvec row " << r << ": " << yv[std::size_t(r)] << " vs reference " << ref[i]);
                }
                if (!w.kern->batched(n))  // the tiles do the decode kernel's operations, bit for bit (DESIGN.md §8)
                    for (std::int64_t r = 0; r < rows; ++r) REQUIRE(yv[std::size_t(r)] == y[std::size_t(t * rows + r)]);
                for (llmt::thread_pool* p : {&pool1, &pool3}) {
                    k::matvec(*p, w, x.data() + t * cols, yv1.data(), scratch.data());
                    REQUIRE_MESSAGE(yv1 == yv, p->size() << " threads differ from 2 in matvec");
                }
            }
        }
    }
}
TEST_CASE_TEMPLATE_APPLY(matmul_vs_ref, formats);

TEST_CASE_TEMPLATE_DEFINE("matmul: bit-identical results for 1, 2 and 3 threads", F, matmul_threads) {
    // big enough that 3 threads really split it (thread_pool::run_sized keeps a region under
    // parallel_min_bytes per thread on the caller): decode (run_balanced over row units) and tiles
    // (rows split per thread), the file's layout and the packed one
    const std::int64_t cols = F::block_size == 1 ? 300 : 2 * 256;
    const std::int64_t row_bytes = std::int64_t(sizeof(typename F::block)) * cols / F::block_size;
    const std::int64_t rows = 3 * std::int64_t(llmt::thread_pool::parallel_min_bytes) / row_bytes + 37;
    const matrix<F> m(rows, cols, 7);
    const std::int64_t max_n = 9;
    const auto x = randn(std::size_t(max_n * cols), 8);
    const auto w = m.ref(llmt::simd::best_isa());
    REQUIRE(w.row_bytes * std::size_t(rows) >= 3 * llmt::thread_pool::parallel_min_bytes);
    llmt::thread_pool pool1(1), pool2(2), pool3(3);
    std::vector<k::weight_ref> views = {w};
    std::vector<std::byte> packed(k::weight_bytes(w) + 64);
    if (k::can_pack(w)) {
        auto* dst = reinterpret_cast<std::byte*>((reinterpret_cast<std::uintptr_t>(packed.data()) + 63) & ~std::uintptr_t(63));
        views.push_back(k::pack_weight(pool2, w, dst));
    }
    std::vector<std::byte> scratch(k::matmul_scratch_bytes(w, max_n));
    for (const auto& v : views)
        for (std::int64_t n : {std::int64_t(1), std::int64_t(2), max_n}) {
            std::vector<float> y1(std::size_t(n * rows));
            k::matmul(pool1, v, x.data(), n, y1.data(), scratch.data());
            for (llmt::thread_pool* p : {&pool2, &pool3}) {
                std::vector<float> y(std::size_t(n * rows), -1.0f);
                k::matmul(*p, v, x.data(), n, y.data(), scratch.data());
                CHECK_MESSAGE(std::memcmp(y.data(), y1.data(), y.size() * sizeof(float)) == 0,
                              q::name(F::id) << (v.packed_rows ? " packed" : " file layout") << ", n = " << n << ": " << p->size()
                                             << " threads differ from 1");
            }
        }
}
TEST_CASE_TEMPLATE_APPLY(matmul_threads, formats);

TEST_CASE("matmul without a resolved kernel uses the format's scalar dot") {
    const matrix<q::q8_0> m(20, 64, 3);
    auto w = m.ref(isa::scalar);
    w.kern = nullptr;
    const auto x = randn(64, 4);
    std::vector<std::byte> scratch(k::matmul_scratch_bytes(w, 1));
    std::vector<float> y(20);
    llmt::thread_pool pool(2);
    k::matvec(pool, w, x.data(), y.data(), scratch.data());
    std::vector<q::block_q8_0> act(2);
    q::q8_0::quantize_row(x.data(), act.data(), 64);
    for (int r = 0; r < 20; ++r) CHECK(y[std::size_t(r)] == q::q8_0::vec_dot(64, m.row(r), act.data()));
}

TEST_CASE("make_weight_ref refuses types outside the list and ragged columns") {
    std::vector<q::block_q8_0> b(4);
    CHECK_THROWS_AS(k::make_weight_ref<q::weight_types<q::f32>>(q::qtype::q8_0, b.data(), 2, 64, "blk.0.attn_q.weight"), llmt::error);
    CHECK_THROWS_AS(k::make_weight_ref<q::all_formats>(q::qtype::q8_0, b.data(), 2, 48, "x"), llmt::error);
}

#if LLMT_HAS_X86_KERNELS
TEST_CASE("quantize_act: the AVX-512 q8_0 and q8_K conversions equal the reference quantizers bit for bit") {
    if (llmt::simd::best_isa() < isa::avx512) {
        MESSAGE("no AVX-512 on this CPU: the conversions are not used here");
        return;
    }
    auto x = randn(8 * 256, 17);
    for (int j = 0; j < 32; ++j) x[std::size_t(j)] = (j % 2 ? -1.0f : 1.0f) * (float(j) + 0.5f);  // id == 1: ties at .5
    x[31] = 127.0f;
    for (int j = 256; j < 512; ++j) x[std::size_t(j)] = 0.0f;  // all-zero blocks of both formats
    for (int j = 512; j < 768; ++j) x[std::size_t(j)] *= 0.1f;
    x[600] = -5.0f;  // equal magnitudes of both signs: the first one sets q8_K's sign
    x[700] = 5.0f;
    for (int j = 768; j < 1024; ++j) x[std::size_t(j)] *= 1e-30f;
    for (int j = 1024; j < 1280; ++j) x[std::size_t(j)] *= 1e4f;
    for (int j = 1280; j < 1536; ++j) x[std::size_t(j)] = float(j % 7) - 3.0f;  // many exact ties after scaling
    const std::int64_t k = std::int64_t(x.size());
    std::vector<q::block_q8_0> r0(std::size_t(k / 32)), f0(std::size_t(k / 32));
    q::q8_0::quantize_row(x.data(), r0.data(), k);
    k::qact::quantize_q8_0(x.data(), f0.data(), k);
    for (std::size_t b = 0; b < r0.size(); ++b) {
        CAPTURE(b);
        CHECK(r0[b].d.bits == f0[b].d.bits);
        CHECK(std::memcmp(r0[b].qs, f0[b].qs, 32) == 0);
    }
    std::vector<q::block_q8_k> rk(std::size_t(k / 256)), fk(std::size_t(k / 256));
    q::q8_k::quantize_row(x.data(), rk.data(), k);
    k::qact::quantize_q8_k(x.data(), fk.data(), k);
    for (std::size_t b = 0; b < rk.size(); ++b) {
        CAPTURE(b);
        CHECK(std::memcmp(&rk[b].d, &fk[b].d, sizeof(float)) == 0);
        CHECK(std::memcmp(rk[b].qs, fk[b].qs, 256) == 0);
        CHECK(std::memcmp(rk[b].bsums, fk[b].bsums, sizeof rk[b].bsums) == 0);
    }
    CHECK(fk[2].qs[600 - 512] == -127);
    CHECK(fk[2].qs[700 - 512] == 127);
}
#endif

TEST_CASE("matvec: q4_0, q8_0, q4_K, q5_K, q6_K and f16 have a decode kernel on AVX-512 VNNI and AMX, and scalar has none") {
    for (auto t : {q::qtype::q4_0, q::qtype::q8_0, q::qtype::q4_k, q::qtype::q5_k, q::qtype::q6_k, q::qtype::f16}) {
        CAPTURE(q::name(t));
        CHECK((k::resolve_kernel<q::all_formats>(t, "test", isa::avx512vnni).gemv != nullptr));
        CHECK((k::resolve_kernel<q::all_formats>(t, "test", isa::amx).gemv != nullptr));
        CHECK((k::resolve_kernel<q::all_formats>(t, "test", isa::scalar).gemv == nullptr));
    }
}
TEST_CASE_TEMPLATE_DEFINE("matmul: batches of many tokens (the batched AMX path where there is one) match the reference", F, matmul_batch) {
    using V = typename F::vec_dot_type;
    llmt::thread_pool pool(2);
    const std::int64_t cols = F::block_size == 1 ? 100 : F::block_size == 32 ? 352 : 512;  // 11 blocks: an odd sub-block count
    for (std::int64_t rows : {16, 45}) {        // one whole panel; a thread split with a row tail
        for (std::int64_t n : {8, 17, 35}) {    // the smallest batch; token tails of 1 and 3
            const matrix<F> m(rows, cols, 77u + std::uint32_t(rows + n));
            const auto x = randn(std::size_t(n * cols), 5u + std::uint32_t(n));
            std::vector<typename V::block> act(std::size_t(cols / V::block_size));
            std::vector<float> wd(static_cast<std::size_t>(cols)), ad(static_cast<std::size_t>(cols));
            std::vector<float> ref(std::size_t(n * rows)), bound(std::size_t(n * rows));
            for (std::int64_t t = 0; t < n; ++t) {
                V::quantize_row(x.data() + t * cols, act.data(), cols);
                V::dequantize_row(act.data(), ad.data(), cols);
                for (std::int64_t r = 0; r < rows; ++r) {
                    ref[std::size_t(t * rows + r)] = F::vec_dot(cols, m.row(r), act.data());
                    F::dequantize_row(m.row(r), wd.data(), cols);
                    double l1 = 0;
                    for (std::int64_t i = 0; i < cols; ++i) l1 += std::fabs(double(wd[std::size_t(i)]) * ad[std::size_t(i)]);
                    bound[std::size_t(t * rows + r)] = float(5e-5 * l1 + 1e-6);
                }
            }
            for (isa level : levels()) {
                CAPTURE(rows);
                CAPTURE(n);
                CAPTURE(llmt::simd::to_string(level));
                const auto w = m.ref(level);
                std::vector<std::byte> scratch(k::matmul_scratch_bytes(w, n));
                std::vector<float> y(std::size_t(n * rows), -1.0f);
                k::matmul(pool, w, x.data(), n, y.data(), scratch.data());
                for (std::size_t i = 0; i < y.size(); ++i)
                    REQUIRE_MESSAGE(std::fabs(y[i] - ref[i]) <= bound[i], "element " << i << ": " << y[i] << " vs reference " << ref[i]);
                // the same batch on 1 and 3 threads gives the same bits
                for (int threads : {1, 3}) {
                    llmt::thread_pool other(threads);
                    std::vector<float> y2(y.size(), -2.0f);
                    k::matmul(other, w, x.data(), n, y2.data(), scratch.data());
                    REQUIRE(y2 == y);
                }
            }
        }
    }
}
TEST_CASE_TEMPLATE_APPLY(matmul_batch, formats);

TEST_CASE("the AMX level has a batched path for the formats it covers, and only where AMX is usable") {
    CHECK(llmt::simd::parse_isa("amx") == isa::amx);
    if (llmt::simd::best_isa() == isa::amx) CHECK(llmt::simd::amx_permitted());
    const auto& e = k::resolve_kernel<q::all_formats>(q::qtype::q4_0, "x", isa::amx);
    CHECK(e.isa == isa::amx);
    CHECK(e.batched(16));
    CHECK_FALSE(e.batched(1));
    CHECK_FALSE(k::resolve_kernel<q::all_formats>(q::qtype::q4_0, "x", isa::avx512vnni).batched(16));
    for (q::qtype t : {q::qtype::q8_0, q::qtype::q4_k, q::qtype::q6_k, q::qtype::f16, q::qtype::bf16})
        CHECK(k::resolve_kernel<q::all_formats>(t, "x", isa::amx).batched(8));
    // decode at the AMX level keeps the AVX-512 VNNI one-token kernel
    for (q::qtype t : {q::qtype::q4_0, q::qtype::q8_0, q::qtype::q4_k})
        CHECK((k::resolve_kernel<q::all_formats>(t, "x", isa::amx).gemv != nullptr) ==
              (k::resolve_kernel<q::all_formats>(t, "x", isa::avx512vnni).gemv != nullptr));
    const bool amx_decodes_q4_0 = k::resolve_kernel<q::all_formats>(q::qtype::q4_0, "x", isa::amx).gemv != nullptr;
    CHECK(amx_decodes_q4_0);
}

#if LLMT_HAS_X86_KERNELS
TEST_CASE("quantize_act: the AVX-512 conversions the AMX path uses give the reference's bytes on more edge cases") {
    if (llmt::simd::best_isa() < isa::avx512) return;
    constexpr std::int64_t k = 1024;
    auto x = randn(k, 31);
    for (std::int64_t i = 0; i < 32; ++i) x[std::size_t(i)] = 0.0f;                      // an all-zero block
    for (std::int64_t i = 32; i < 64; ++i) x[std::size_t(i)] = float(i - 48) * 0.5f;     // halves: ties of roundf
    for (std::int64_t i = 64; i < 96; ++i) x[std::size_t(i)] = i % 2 ? 3.0f : -3.0f;    // equal magnitudes, both signs
    for (std::int64_t i = 512; i < 768; ++i) x[std::size_t(i)] = 0.0f;                   // an all-zero super-block
    x[800] = -1e3f;
    std::vector<q::block_q8_0> r0(k / 32), f0(k / 32);
    q::q8_0::quantize_row(x.data(), r0.data(), k);
    k::qact::quantize_q8_0(x.data(), f0.data(), k);
    CHECK(std::memcmp(r0.data(), f0.data(), sizeof(q::block_q8_0) * r0.size()) == 0);
    std::vector<q::block_q8_k> rk(k / 256), fk(k / 256);
    q::q8_k::quantize_row(x.data(), rk.data(), k);
    k::qact::quantize_q8_k(x.data(), fk.data(), k);
    CHECK(std::memcmp(rk.data(), fk.data(), sizeof(q::block_q8_k) * rk.size()) == 0);
}
#endif

TEST_CASE_TEMPLATE_DEFINE("matmul: a matrix packed into its decode layout gives the same bits on every path and unpacks to the file's bytes", F,
                          matmul_packed) {
    const std::int64_t rows = 43;  // 5 groups of 8 and 3 rows left in the file's layout
    for (std::int64_t cols : {F::block_size == 1 ? std::int64_t(256) : 4 * 256, F::block_size == 1 ? std::int64_t(96) : 3 * 256}) {
        const matrix<F> m(rows, cols, 900u + std::uint32_t(cols));
        for (isa level : levels()) {
            CAPTURE(cols);
            CAPTURE(llmt::simd::to_string(level));
            const auto w = m.ref(level);
            // the formats with a decode layout on AVX-512 VNNI: no vacuous pass here
            if constexpr (std::is_same_v<F, q::q4_0> || std::is_same_v<F, q::q8_0> || std::is_same_v<F, q::q4_k> || std::is_same_v<F, q::q5_k> ||
                          std::is_same_v<F, q::q6_k>)
                CHECK(k::can_pack(w) == (level >= isa::avx512vnni));
            if (!k::can_pack(w)) continue;
            const std::size_t bytes = k::weight_bytes(w);
            // packed into other memory, and in place at an address that is only 32-aligned (as a file's tensor may be)
            std::vector<std::byte> other(bytes + 64), shifted(bytes + 96);
            auto* a64 = reinterpret_cast<std::byte*>((reinterpret_cast<std::uintptr_t>(other.data()) + 63) & ~std::uintptr_t(63));
            auto* a32 = reinterpret_cast<std::byte*>(((reinterpret_cast<std::uintptr_t>(shifted.data()) + 63) & ~std::uintptr_t(63)) + 32);
            std::memcpy(a32, w.data, bytes);
            llmt::thread_pool pool2(2);
            const auto p1 = k::pack_weight(pool2, w, a64);
            auto w_in_place = w;
            w_in_place.data = a32;
            const auto p2 = k::pack_weight(pool2, w_in_place, a32);
            REQUIRE(p1.packed_rows == 40);
            REQUIRE(p2.packed_rows == 40);
            CHECK(std::memcmp(a64, a32, bytes) == 0);
            CHECK(std::memcmp(a64, w.data, bytes) != 0);  // the layout really differs
            CHECK(std::memcmp(a64 + 40 * w.row_bytes, w.data + 40 * w.row_bytes, 3 * w.row_bytes) == 0);  // the tail does not
            for (std::int64_t r = 0; r < rows; r += 16) {  // matmul's 16-row chunks, and a group cut short
                const std::int64_t nr = std::min<std::int64_t>(16, rows - r);
                CHECK(std::memcmp(k::unpacked_rows(p1, r, nr), w.data + std::size_t(r) * w.row_bytes, std::size_t(nr) * w.row_bytes) == 0);
            }
            CHECK(std::memcmp(k::unpacked_rows(p1, 8, 5), w.data + 8 * w.row_bytes, 5 * w.row_bytes) == 0);
            for (std::int64_t n : {1, 3, 20}) {  // decode, the tiles, the batched path
                const auto x = randn(std::size_t(n * cols), 31u + std::uint32_t(n));
                std::vector<std::byte> scratch(k::matmul_scratch_bytes(w, n));
                std::vector<float> want(std::size_t(n * rows));
                k::matmul(pool2, w, x.data(), n, want.data(), scratch.data());
                for (int threads : {1, 2, 3}) {
                    CAPTURE(n);
                    CAPTURE(threads);
                    llmt::thread_pool pool(threads);
                    std::vector<float> y1(want.size(), -1.0f), y2(want.size(), -2.0f);
                    k::matmul(pool, p1, x.data(), n, y1.data(), scratch.data());
                    k::matmul(pool, p2, x.data(), n, y2.data(), scratch.data());
                    CHECK(y1 == want);
                    CHECK(y2 == want);
                }
            }
            // decode reads a run of groups as two streams, an odd last group alone (pack.hpp,
            // packed_streams): views of the first 1, 2, 3 and 5 groups give the same bits
            const std::int64_t P = w.kern->pack_rows;
            const auto x = randn(std::size_t(cols), 77u);
            std::vector<std::byte> scratch(k::matmul_scratch_bytes(w, 1));
            std::vector<float> want(static_cast<std::size_t>(rows));
            k::matmul(pool2, w, x.data(), 1, want.data(), scratch.data());
            for (std::int64_t groups : {1, 2, 3, 5}) {
                CAPTURE(groups);
                auto view = p1;
                view.rows = view.packed_rows = groups * P;
                llmt::thread_pool pool1(1);
                std::vector<float> y(std::size_t(view.rows), -1.0f);
                k::matmul(pool1, view, x.data(), 1, y.data(), scratch.data());
                CHECK(std::equal(y.begin(), y.end(), want.begin()));
            }
        }
    }
}
TEST_CASE_TEMPLATE_APPLY(matmul_packed, formats);

TEST_CASE_TEMPLATE_DEFINE("matmul: every token's row of a batch is its decode (matvec) result bit for bit, packed or not, for any n and thread count",
                          F, matmul_batch_invariance) {
    // DESIGN.md §8: a row's result never depends on the other tokens of the batch nor on the chunk its
    // token was computed in, so the tiles (n > 1) must do each element's operations exactly as the
    // decode kernel (n == 1) does. 43 rows: whole groups of every decode layout and a tail of 3 rows.
    constexpr std::int64_t rows = 43, max_n = 33;
    const std::vector<std::int64_t> ns = {1, 2, 3, 7, 16, 17, 33};  // tile tails, one and several whole tiles and panels
    const std::vector<std::int64_t> col_sizes = F::block_size == 1 ? std::vector<std::int64_t>{67, 256}
                                                : F::block_size == 32 ? std::vector<std::int64_t>{224, 256, 352, 384}  // 7, 8, 11, 12 blocks
                                                                      : std::vector<std::int64_t>{256, 768};
    llmt::thread_pool pool1(1), pool2(2), pool3(3);
    for (std::int64_t cols : col_sizes) {
        const matrix<F> m(rows, cols, 4321u + std::uint32_t(cols));
        const auto x = randn(std::size_t(max_n * cols), 2468u + std::uint32_t(cols));
        for (isa level : levels()) {
            const auto w = m.ref(level);
            std::vector<k::weight_ref> views = {w};
            std::vector<std::byte> packed(k::weight_bytes(w) + 64);
            if (k::can_pack(w)) {
                auto* dst = reinterpret_cast<std::byte*>((reinterpret_cast<std::uintptr_t>(packed.data()) + 63) & ~std::uintptr_t(63));
                views.push_back(k::pack_weight(pool2, w, dst));
                // every decode layout has a tile of its own for n > 1 (no unpacking): the packed views below test it
                CHECK((w.kern->tile_packed != nullptr));
                CHECK(w.kern->packed_nc > 1);
            }
            // the decode result of every token, one at a time
            std::vector<std::byte> scratch(k::matmul_scratch_bytes(w, max_n));
            std::vector<float> dec(std::size_t(max_n * rows));
            for (std::int64_t t = 0; t < max_n; ++t) k::matvec(pool2, w, x.data() + t * cols, dec.data() + t * rows, scratch.data());
            for (const auto& v : views)
                for (std::int64_t n : ns) {
                    if (v.kern->batched(n)) continue;  // the AMX batched path is not batch invariant (never on a CPU without AMX)
                    for (llmt::thread_pool* p : {&pool1, &pool2, &pool3}) {
                        std::vector<float> y(std::size_t(n * rows), -1.0f);
                        k::matmul(*p, v, x.data(), n, y.data(), scratch.data());
                        int bad = 0;
                        std::int64_t first = -1;
                        for (std::int64_t i = 0; i < n * rows; ++i)
                            if (std::memcmp(&y[std::size_t(i)], &dec[std::size_t(i)], sizeof(float)) != 0 && bad++ == 0) first = i;
                        CHECK_MESSAGE(bad == 0, q::name(F::id) << " on " << llmt::simd::to_string(level) << ", " << cols << " columns, "
                                                               << std::string(v.packed_rows ? "packed" : "file layout") << ", n = " << n << ", " << p->size()
                                                               << " threads: " << bad << " of " << n * rows << " values differ from decode, first token "
                                                               << (first < 0 ? -1 : first / rows) << " row " << (first < 0 ? -1 : first % rows) << ": "
                                                               << (first < 0 ? 0.0f : y[std::size_t(first)]) << " vs "
                                                               << (first < 0 ? 0.0f : dec[std::size_t(first)]));
                    }
                }
        }
    }
}
TEST_CASE_TEMPLATE_APPLY(matmul_batch_invariance, formats);
