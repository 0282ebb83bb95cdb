// test_kernels: element-wise kernels (xsimd vs scalar reference, known values) and get_rows
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <tuple>
#include <vector>

namespace {
namespace k = llmt::kernels;

std::vector<float> random_floats(std::size_t n, std::uint32_t seed, float lo = -3.0f, float hi = 3.0f) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> d(lo, hi);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng);
    return v;
}

/// Every element within rel·|ref| + abs of the reference.
void check_close(const std::vector<float>& got, const std::vector<float>& ref, float rel, float abs = 1e-6f) {
    REQUIRE(got.size() == ref.size());
    for (std::size_t i = 0; i < got.size(); ++i)
        REQUIRE_MESSAGE(std::fabs(got[i] - ref[i]) <= rel * std::fabs(ref[i]) + abs, "index " << i << ": " << got[i] << " vs " << ref[i]);
}

template <typename L>
struct as_tuple;
template <typename... Ts>
struct as_tuple<llmt::type_list<Ts...>> {
    using type = std::tuple<Ts...>;
};
using all_formats_tuple = as_tuple<llmt::quant::all_formats::list>::type;

// sizes around SIMD widths: tails of every length for 4/8/16-wide vectors
const std::int64_t sizes[] = {0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 255, 4096, 4099};
}  // namespace

TEST_CASE("rmsnorm: known value and xsimd matches the scalar reference") {
    std::vector<float> x{3.0f, 4.0f}, y(2);
    k::ref::rmsnorm(y.data(), x.data(), nullptr, 2, 0.0f);  // rms = sqrt(12.5)
    CHECK(y[0] == doctest::Approx(3.0 / std::sqrt(12.5)));
    CHECK(y[1] == doctest::Approx(4.0 / std::sqrt(12.5)));
    for (auto n : sizes) {
        CAPTURE(n);
        const auto xs = random_floats(std::size_t(n), 1), ws = random_floats(std::size_t(n), 2);
        for (const float* w : {static_cast<const float*>(nullptr), ws.data()}) {
            std::vector<float> a(static_cast<std::size_t>(n)), b(static_cast<std::size_t>(n));
            k::ref::rmsnorm(a.data(), xs.data(), w, n, 1e-5f);
            k::rmsnorm(b.data(), xs.data(), w, n, 1e-5f);
            check_close(b, a, 2e-6f);
            std::vector<float> in_place = xs;  // y may alias x
            k::rmsnorm(in_place.data(), in_place.data(), w, n, 1e-5f);
            check_close(in_place, a, 2e-6f);
        }
    }
}

TEST_CASE("layernorm: zero mean, unit variance, and xsimd matches the scalar reference") {
    const auto xs = random_floats(1000, 3, 1.0f, 5.0f);
    std::vector<float> y(1000);
    k::layernorm(y.data(), xs.data(), nullptr, nullptr, 1000, 1e-6f);
    double m = 0, v = 0;
    for (float f : y) m += f;
    m /= 1000;
    for (float f : y) v += (f - m) * (f - m);
    CHECK(std::fabs(m) < 1e-5);
    CHECK(v / 1000 == doctest::Approx(1.0).epsilon(1e-4));
    for (auto n : sizes) {
        CAPTURE(n);
        const auto x = random_floats(std::size_t(n), 4), w = random_floats(std::size_t(n), 5), b = random_floats(std::size_t(n), 6);
        std::vector<float> r(static_cast<std::size_t>(n)), s(static_cast<std::size_t>(n));
        k::ref::layernorm(r.data(), x.data(), w.data(), b.data(), n, 1e-5f);
        k::layernorm(s.data(), x.data(), w.data(), b.data(), n, 1e-5f);
        check_close(s, r, 1e-5f, 1e-5f);
        k::ref::layernorm(r.data(), x.data(), w.data(), nullptr, n, 1e-5f);
        k::layernorm(s.data(), x.data(), w.data(), nullptr, n, 1e-5f);
        check_close(s, r, 1e-5f, 1e-5f);
    }
}

TEST_CASE("softmax: sums to one, is shift invariant, xsimd matches the scalar reference") {
    for (auto n : sizes) {
        if (n == 0) continue;
        CAPTURE(n);
        auto x = random_floats(std::size_t(n), 7, -20.0f, 20.0f);
        auto r = x, s = x, shifted = x;
        k::ref::softmax(r.data(), n);
        k::softmax(s.data(), n);
        check_close(s, r, 1e-5f, 1e-9f);
        double sum = 0;
        for (float f : s) sum += f;
        CHECK(sum == doctest::Approx(1.0).epsilon(1e-5));
        for (auto& f : shifted) f += 1000.0f;  // max subtraction keeps this finite
        k::softmax(shifted.data(), n);
        check_close(shifted, r, 2e-3f, 1e-7f);
    }
}

TEST_CASE("rope: rotation by hand, norm preserved, xsimd matches the scalar reference") {
    // one head of 4 values, n_rot 4, angles θ0 = π/2, θ1 = 0
    std::vector<float> cs{0.0f, 1.0f, 1.0f, 0.0f};
    std::vector<float> x{1.0f, 2.0f, 3.0f, 4.0f};
    k::rope(x.data(), 1, 4, 4, cs.data(), k::rope_style::normal);  // (1,2) rotated 90°: (-2, 1)
    CHECK(x == std::vector<float>{-2.0f, 1.0f, 3.0f, 4.0f});
    x = {1.0f, 2.0f, 3.0f, 4.0f};
    k::rope(x.data(), 1, 4, 4, cs.data(), k::rope_style::neox);  // pair (x0, x2) rotated 90°: (-3, 1)
    CHECK(x == std::vector<float>{-3.0f, 2.0f, 1.0f, 4.0f});

    struct shape { std::int64_t heads, head_dim, n_rot; };
    for (auto sh : {shape{1, 2, 2}, shape{4, 64, 64}, shape{3, 128, 128}, shape{2, 80, 32}, shape{5, 96, 96}, shape{2, 40, 20}, shape{1, 256, 6}}) {
        for (auto style : {k::rope_style::normal, k::rope_style::neox}) {
            CAPTURE(sh.head_dim);
            CAPTURE(sh.n_rot);
            const auto x0 = random_floats(std::size_t(sh.heads * sh.head_dim), 8);
            std::vector<float> cs2(std::size_t(sh.n_rot));
            for (std::int64_t i = 0; i < sh.n_rot / 2; ++i) {
                const double th = 17.0 * std::pow(10000.0, -2.0 * double(i) / double(sh.n_rot));
                cs2[std::size_t(2 * i)] = float(std::cos(th));
                cs2[std::size_t(2 * i + 1)] = float(std::sin(th));
            }
            auto r = x0, s = x0;
            k::ref::rope(r.data(), sh.heads, sh.head_dim, sh.n_rot, cs2.data(), style);
            k::rope(s.data(), sh.heads, sh.head_dim, sh.n_rot, cs2.data(), style);
            check_close(s, r, 1e-6f, 1e-6f);
            for (std::int64_t h = 0; h < sh.heads; ++h) {
                double n0 = 0, n1 = 0;
                for (std::int64_t j = 0; j < sh.head_dim; ++j) {
                    n0 += double(x0[std::size_t(h * sh.head_dim + j)]) * x0[std::size_t(h * sh.head_dim + j)];
                    n1 += double(s[std::size_t(h * sh.head_dim + j)]) * s[std::size_t(h * sh.head_dim + j)];
                }
                CHECK(n1 == doctest::Approx(n0).epsilon(1e-5));
                for (std::int64_t j = sh.n_rot; j < sh.head_dim; ++j)  // past n_rot: untouched
                    CHECK(s[std::size_t(h * sh.head_dim + j)] == x0[std::size_t(h * sh.head_dim + j)]);
            }
        }
    }
    std::vector<float> bad(8);
    CHECK_THROWS_AS(k::rope(bad.data(), 1, 8, 3, cs.data(), k::rope_style::normal), llmt::error);
    CHECK_THROWS_AS(k::rope(bad.data(), 1, 4, 8, cs.data(), k::rope_style::neox), llmt::error);
}

TEST_CASE("activations: known values and xsimd matches the scalar reference") {
    CHECK(k::ref::silu(0.0f) == 0.0f);
    CHECK(k::ref::silu(2.0f) == doctest::Approx(2.0 / (1.0 + std::exp(-2.0))));
    CHECK(k::ref::gelu(0.0f) == 0.0f);
    CHECK(k::ref::gelu(1.0f) == doctest::Approx(0.8411920).epsilon(1e-6));  // tanh-approximated GELU(1)
    CHECK(k::ref::gelu(-1.0f) == doctest::Approx(-0.1588080).epsilon(1e-5));
    for (auto n : sizes) {
        CAPTURE(n);
        const auto a = random_floats(std::size_t(n), 9, -12.0f, 12.0f), b = random_floats(std::size_t(n), 10);
        std::vector<float> r(static_cast<std::size_t>(n)), s(static_cast<std::size_t>(n));
        k::ref::silu(r.data(), a.data(), n), k::silu(s.data(), a.data(), n), check_close(s, r, 4e-7f, 1e-7f);
        k::ref::gelu(r.data(), a.data(), n), k::gelu(s.data(), a.data(), n), check_close(s, r, 4e-6f, 1e-6f);
        k::ref::swiglu(r.data(), a.data(), b.data(), n), k::swiglu(s.data(), a.data(), b.data(), n), check_close(s, r, 4e-7f, 1e-7f);
        k::ref::geglu(r.data(), a.data(), b.data(), n), k::geglu(s.data(), a.data(), b.data(), n), check_close(s, r, 4e-6f, 1e-6f);
        k::ref::add(r.data(), a.data(), b.data(), n), k::add(s.data(), a.data(), b.data(), n), check_close(s, r, 0.0f, 0.0f);
        k::ref::mul(r.data(), a.data(), b.data(), n), k::mul(s.data(), a.data(), b.data(), n), check_close(s, r, 0.0f, 0.0f);
        k::ref::scale(r.data(), a.data(), 0.37f, n), k::scale(s.data(), a.data(), 0.37f, n), check_close(s, r, 0.0f, 0.0f);
        for (std::int64_t i = 0; i < n; ++i) REQUIRE(r[std::size_t(i)] == a[std::size_t(i)] * 0.37f);
    }
}

TEST_CASE("per-token kernels: a token's values do not depend on the other tokens of the array (batch invariance)") {
    // DESIGN.md §8. The forward runs activations and adds over [n_tokens][width] at once, norms and rope per
    // token: every row must come out as it does alone, bit for bit, for widths that are not a multiple of
    // any vector width (the last values of a row fall in a vector tail in one batch, mid-array in another).
    for (std::int64_t width : {1, 7, 17, 172, 200}) {
        for (std::int64_t n : {2, 3, 5}) {
            CAPTURE(width);
            CAPTURE(n);
            const auto a = random_floats(std::size_t(n * width), 11, -12.0f, 12.0f), b = random_floats(std::size_t(n * width), 12);
            using un = void (*)(float*, const float*, std::int64_t);
            using bin = void (*)(float*, const float*, const float*, std::int64_t);
            for (un f : {un(&k::silu), un(&k::gelu)}) {
                std::vector<float> all(a.size()), one(static_cast<std::size_t>(width));
                f(all.data(), a.data(), n * width);
                for (std::int64_t t = 0; t < n; ++t) {
                    f(one.data(), a.data() + t * width, width);
                    REQUIRE(std::memcmp(one.data(), all.data() + t * width, sizeof(float) * std::size_t(width)) == 0);
                }
            }
            for (bin f : {bin(&k::swiglu), bin(&k::geglu), bin(&k::add), bin(&k::mul)}) {
                std::vector<float> all(a.size()), one(static_cast<std::size_t>(width));
                f(all.data(), a.data(), b.data(), n * width);
                for (std::int64_t t = 0; t < n; ++t) {
                    f(one.data(), a.data() + t * width, b.data() + t * width, width);
                    REQUIRE(std::memcmp(one.data(), all.data() + t * width, sizeof(float) * std::size_t(width)) == 0);
                }
            }
        }
    }
}

TEST_CASE_TEMPLATE_DEFINE("get_rows: rows equal the dequantized rows, bad ids throw", F, get_rows_test) {
    using B = typename F::block;
    constexpr std::int64_t rows = 5, cols = 256;
    const auto src = random_floats(rows * cols, 11);
    std::vector<B> q(std::size_t(rows * cols / F::block_size));
    F::quantize_row(src.data(), q.data(), rows * cols);
    static constexpr auto entry = llmt::quant::make_format_entry<F>();
    const k::weight_ref w{&entry, reinterpret_cast<const std::byte*>(q.data()), rows, cols, llmt::quant::row_bytes<F>(cols)};
    const std::int32_t ids[] = {3, 0, 3, 4};
    std::vector<float> out(4 * cols), expect(cols);
    k::get_rows(w, ids, 4, out.data());
    for (int i = 0; i < 4; ++i) {
        F::dequantize_row(q.data() + ids[i] * cols / F::block_size, expect.data(), cols);
        for (std::int64_t c = 0; c < cols; ++c) REQUIRE(out[std::size_t(i * cols + c)] == expect[std::size_t(c)]);
    }
    const std::int32_t bad[] = {1, 5};
    CHECK_THROWS_AS(k::get_rows(w, bad, 2, out.data()), llmt::error);
    const std::int32_t neg[] = {-1};
    CHECK_THROWS_AS(k::get_rows(w, neg, 1, out.data()), llmt::error);
}
TEST_CASE_TEMPLATE_APPLY(get_rows_test, all_formats_tuple);
