// test_attention: the KV element row operations and the tiled attention against decode one query at a time and float64
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace {
using namespace llmt;

/// A sequence's K and V rows stored as E, position-major: what attention reads through k_row / v_row.
template <kv_cache::kv_element E>
struct test_rows {
    using ops = kv_cache::element_ops<E>;
    std::int64_t n_kv_head = 0, head_dim = 0;
    std::size_t row_bytes = 0;
    std::vector<std::byte> data;  // [n_pos][n_kv_head][2][row_bytes]

    test_rows(std::int64_t n_pos, std::int64_t n_kv, std::int64_t hd, std::uint32_t seed)
        : n_kv_head(n_kv), head_dim(hd), row_bytes(ops::row_bytes(hd)),
          data(std::size_t(n_pos * n_kv * 2) * row_bytes) {
        std::mt19937 rng(seed);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        std::vector<float> x(static_cast<std::size_t>(hd));
        for (std::int64_t i = 0; i < n_pos * n_kv * 2; ++i) {
            for (auto& v : x) v = u(rng);
            ops::store(x.data(), data.data() + std::size_t(i) * row_bytes, hd);
        }
    }
    struct view {
        const test_rows* rows = nullptr;
        const void* table = nullptr;  // the sequence's identity, as paged::view's block table
        [[nodiscard]] const std::byte* k_row(std::int64_t, std::int64_t pos, std::int64_t g) const noexcept {
            return rows->data.data() + std::size_t((pos * rows->n_kv_head + g) * 2) * rows->row_bytes;
        }
        [[nodiscard]] const std::byte* v_row(std::int64_t l, std::int64_t pos, std::int64_t g) const noexcept {
            return k_row(l, pos, g) + rows->row_bytes;
        }
    };
    [[nodiscard]] view get() const noexcept { return view{this, this}; }
};

/// Every query of tokens at positions 0..n-1 in float64 from the dequantized rows.
template <kv_cache::kv_element E>
std::vector<double> reference(const test_rows<E>& rows, const attention::attention_shape& s, const std::vector<float>& q,
                              std::int64_t n) {
    using ops = kv_cache::element_ops<E>;
    const std::int64_t hd = s.head_dim, group = s.n_head / s.n_head_kv;
    const auto v = rows.get();
    std::vector<double> out(std::size_t(n * s.n_head * hd));
    std::vector<float> k(static_cast<std::size_t>(hd)), vv(static_cast<std::size_t>(hd));
    for (std::int64_t t = 0; t < n; ++t)
        for (std::int64_t h = 0; h < s.n_head; ++h) {
            const float* qh = q.data() + (t * s.n_head + h) * hd;
            const std::int64_t first = attention::first_visible(t, s.window);
            std::vector<double> sc;
            double mx = -1e300;
            for (std::int64_t p = first; p <= t; ++p) {
                ops::load(v.k_row(0, p, h / group), k.data(), hd);
                double d = 0;
                for (std::int64_t i = 0; i < hd; ++i) d += double(qh[i]) * double(k[std::size_t(i)]);
                sc.push_back(d * double(s.scale));
                mx = std::max(mx, sc.back());
            }
            double sum = 0;
            for (auto& x : sc) sum += (x = std::exp(x - mx));
            double* o = out.data() + (t * s.n_head + h) * hd;
            for (std::int64_t p = first; p <= t; ++p) {
                ops::load(v.v_row(0, p, h / group), vv.data(), hd);
                for (std::int64_t i = 0; i < hd; ++i) o[i] += sc[std::size_t(p - first)] / sum * double(vv[std::size_t(i)]);
            }
        }
    return out;
}

template <kv_cache::kv_element E>
void check_attention(std::int64_t hd, std::int64_t n_head, std::int64_t n_head_kv, std::int64_t window, std::int64_t n) {
    CAPTURE(kv_cache::element_ops<E>::name);
    CAPTURE(hd);
    CAPTURE(n_head);
    CAPTURE(n_head_kv);
    CAPTURE(window);
    CAPTURE(n);
    const attention::attention_shape s{n_head, n_head_kv, hd, window, 1.0f / std::sqrt(float(hd))};
    test_rows<E> rows(n, n_head_kv, hd, std::uint32_t(hd * 131 + n_head * 7 + n));
    test_rows<E> other(n, n_head_kv, hd, 99);  // a second sequence sharing batches with the first
    std::mt19937 rng(std::uint32_t(n + 5));
    std::uniform_real_distribution<float> u(-3.0f, 3.0f);
    std::vector<float> q(std::size_t(n * n_head * hd)), q_other(q.size());
    for (auto& x : q) x = u(rng);
    for (auto& x : q_other) x = u(rng);
    const std::int64_t stride = attention::scratch_floats(s);
    const std::size_t row = std::size_t(n_head * hd);

    // the whole prompt in one batch (tiles), on 2 threads
    thread_pool pool2(2), pool1(1);
    std::vector<float> scratch(std::size_t(2 * stride));
    std::vector<float> tiled(q.size());
    std::vector<decltype(rows.get())> views(std::size_t(n), rows.get());
    std::vector<std::int64_t> pos(static_cast<std::size_t>(n));
    for (std::int64_t t = 0; t < n; ++t) pos[std::size_t(t)] = t;
    attention::attend_views<E>(pool2, views.data(), pos.data(), 0, s, q.data(), n, tiled.data(), scratch.data(), stride);

    // decode: one query token at a time, on 1 thread
    std::vector<float> one(q.size());
    for (std::int64_t t = 0; t < n; ++t)
        attention::attend_views<E>(pool1, views.data(), pos.data() + t, 0, s, q.data() + std::size_t(t) * row, 1,
                                   one.data() + std::size_t(t) * row, scratch.data(), stride);
    CHECK(std::memcmp(tiled.data(), one.data(), sizeof(float) * q.size()) == 0);

    // chunks of 7 tokens, each batch interleaving another sequence's tokens at the same positions
    std::vector<float> mixed(q.size()), mixed_other(q.size());
    for (std::int64_t c0 = 0; c0 < n; c0 += 7) {
        const std::int64_t c1 = std::min(n, c0 + 7);
        std::vector<decltype(rows.get())> bv;
        std::vector<std::int64_t> bp;
        std::vector<float> bq, bo;
        for (std::int64_t t = c0; t < c1; ++t) {
            bv.push_back(rows.get());
            bp.push_back(t);
            bq.insert(bq.end(), q.begin() + std::ptrdiff_t(std::size_t(t) * row), q.begin() + std::ptrdiff_t(std::size_t(t + 1) * row));
            if (t % 2 == 0) {
                bv.push_back(other.get());
                bp.push_back(t);
                bq.insert(bq.end(), q_other.begin() + std::ptrdiff_t(std::size_t(t) * row),
                          q_other.begin() + std::ptrdiff_t(std::size_t(t + 1) * row));
            }
        }
        bo.resize(bq.size());
        attention::attend_views<E>(pool2, bv.data(), bp.data(), 0, s, bq.data(), std::int64_t(bv.size()), bo.data(), scratch.data(),
                                   stride);
        std::size_t at = 0;
        for (std::int64_t t = c0; t < c1; ++t) {
            std::memcpy(mixed.data() + std::size_t(t) * row, bo.data() + at * row, sizeof(float) * row);
            ++at;
            if (t % 2 == 0) ++at;
        }
    }
    CHECK(std::memcmp(tiled.data(), mixed.data(), sizeof(float) * q.size()) == 0);

    // the contiguous store: the same code, the same bits
    kv_cache::store<E> st(1, n, n_head_kv, hd, false);
    {
        using ops = kv_cache::element_ops<E>;
        std::vector<float> k(std::size_t(n_head_kv * hd)), v(k.size());
        const auto rv = rows.get();
        for (std::int64_t p = 0; p < n; ++p) {
            for (std::int64_t g = 0; g < n_head_kv; ++g) {
                ops::load(rv.k_row(0, p, g), k.data() + g * hd, hd);
                ops::load(rv.v_row(0, p, g), v.data() + g * hd, hd);
            }
            st.write(0, p, k.data(), v.data());  // re-stored from the dequantized values: the same rows
        }
    }
    std::vector<float> contiguous(q.size());
    attention::attend<E>(pool2, st, 0, s, q.data(), n, 0, contiguous.data(), scratch.data(), stride);
    CHECK(std::memcmp(tiled.data(), contiguous.data(), sizeof(float) * q.size()) == 0);

    // float64
    const auto ref = reference<E>(rows, s, q, n);
    double worst = 0;
    for (std::size_t i = 0; i < q.size(); ++i) worst = std::max(worst, std::abs(double(tiled[i]) - ref[i]));
    CHECK(worst < 2e-5);
}

template <typename E>
void check_rows(std::int64_t n) {
    using ops = kv_cache::element_ops<E>;
    CAPTURE(ops::name);
    CAPTURE(n);
    std::mt19937 rng(static_cast<std::uint32_t>(n));
    std::uniform_real_distribution<float> u(-2.0f, 2.0f);
    std::vector<float> x(static_cast<std::size_t>(n)), q(static_cast<std::size_t>(n)), y(static_cast<std::size_t>(n)), loaded(static_cast<std::size_t>(n));
    for (auto& v : x) v = u(rng);
    for (auto& v : q) v = u(rng);
    for (auto& v : y) v = u(rng);
    std::vector<std::byte> row(ops::row_bytes(n));
    ops::store(x.data(), row.data(), n);
    ops::load(row.data(), loaded.data(), n);
    // load against the scalar conversion
    bool exact = true;
    for (std::int64_t i = 0; i < n; ++i) {
        float want = 0;
        if constexpr (std::is_same_v<E, quant::f32>) want = x[std::size_t(i)];
        if constexpr (std::is_same_v<E, quant::f16>) want = to_f32(reinterpret_cast<const fp16_t*>(row.data())[i]);
        if constexpr (std::is_same_v<E, quant::q8_0>) {
            const auto& b = reinterpret_cast<const quant::block_q8_0*>(row.data())[i / 32];
            want = to_f32(b.d) * float(b.qs[i % 32]);
        }
        exact = exact && std::memcmp(&want, &loaded[std::size_t(i)], sizeof(float)) == 0;
    }
    CHECK(exact);
    // dot and axpy against float64 on the loaded values
    double d = 0;
    for (std::int64_t i = 0; i < n; ++i) d += double(q[std::size_t(i)]) * double(loaded[std::size_t(i)]);
    CHECK(std::abs(double(ops::dot(q.data(), row.data(), n)) - d) < 1e-4 * double(n));
    std::vector<float> y2 = y;
    ops::axpy(y2.data(), 0.75f, row.data(), n);
    double worst = 0;
    for (std::int64_t i = 0; i < n; ++i)
        worst = std::max(worst, std::abs(double(y2[std::size_t(i)]) - (double(y[std::size_t(i)]) + 0.75 * double(loaded[std::size_t(i)]))));
    CHECK(worst < 1e-5);
}

}  // namespace

TEST_CASE("kv element rows: load is the exact scalar conversion, dot and axpy match float64") {
    for (const std::int64_t n : {1, 4, 8, 15, 16, 17, 31, 33, 64, 100, 128})
        for (const auto f : {0, 1}) (f == 0 ? check_rows<quant::f32>(n) : check_rows<quant::f16>(n));
    for (const std::int64_t n : {32, 64, 96, 128}) check_rows<quant::q8_0>(n);
}

TEST_CASE("attention: tiles, decode, mixed batches and the contiguous store give the same bits, near float64") {
    struct heads {
        std::int64_t n_head, n_head_kv;
    };
    for (const heads h : {heads{4, 4}, heads{8, 2}, heads{6, 1}})
        for (const std::int64_t window : {0, 37})
            for (const std::int64_t n : {1, 17, 300}) {
                for (const std::int64_t hd : {4, 8, 64}) {
                    check_attention<quant::f32>(hd, h.n_head, h.n_head_kv, window, n);
                    check_attention<quant::f16>(hd, h.n_head, h.n_head_kv, window, n);
                }
                check_attention<quant::q8_0>(64, h.n_head, h.n_head_kv, window, n);
            }
    // head_dim 128 and a context crossing two segment boundaries
    check_attention<quant::f32>(128, 8, 2, 0, 530);
    check_attention<quant::f16>(128, 8, 2, 300, 530);
    check_attention<quant::q8_0>(128, 4, 1, 0, 530);
    check_attention<quant::f16>(80, 4, 2, 0, 270);  // a head size of 5 vectors: the generic accumulator
}
