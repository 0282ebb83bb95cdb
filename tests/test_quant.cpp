// test_quant: block formats against ggml's quantization test vectors (tests/data/quant)
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

namespace {
const std::string quant_dir = std::string(LLMT_TEST_DATA_DIR) + "/quant/";

std::vector<std::byte> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    REQUIRE_MESSAGE(f.good(), "cannot open " << path);
    std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> b(c.size());
    std::memcpy(b.data(), c.data(), c.size());
    return b;
}
std::vector<float> read_floats(const std::string& path) {
    auto b = read_bytes(path);
    std::vector<float> f(b.size() / 4);
    std::memcpy(f.data(), b.data(), b.size());
    return f;
}
/// The 8 dot products of a format, from MANIFEST.txt.
std::vector<double> manifest_dots(const std::string& fmt) {
    std::ifstream f(quant_dir + "MANIFEST.txt");
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream is(line);
        std::string name, vdt;
        long id, bs, ts, total;
        is >> name >> id >> bs >> ts >> total >> vdt;
        if (name != fmt) continue;
        std::vector<double> dots(8);
        for (auto& d : dots) is >> d;
        return dots;
    }
    FAIL("format " << fmt << " not in MANIFEST.txt");
    return {};
}

constexpr std::int64_t n_rows = 8, n_per_row = 1024;

/// Quantized bytes, dequantized floats and dot products of format F equal ggml's.
template <llmt::quant::quant_format F>
void check_against_ggml(const std::string& fmt, const std::string& act_file) {
    using B = typename F::block;
    using V = typename F::vec_dot_type;
    const auto input = read_floats(quant_dir + "input.f32");
    const auto act = read_floats(quant_dir + "activation.f32");
    REQUIRE(input.size() == std::size_t(n_rows * n_per_row));
    const std::size_t row_bytes = llmt::quant::row_bytes<F>(n_per_row);

    std::vector<B> q(std::size_t(n_rows * n_per_row / F::block_size));
    for (std::int64_t r = 0; r < n_rows; ++r)
        F::quantize_row(input.data() + r * n_per_row, q.data() + r * n_per_row / F::block_size, n_per_row);
    const auto ref_q = read_bytes(quant_dir + fmt + ".quant.bin");
    REQUIRE(ref_q.size() == row_bytes * n_rows);
    for (std::int64_t r = 0; r < n_rows; ++r)
        CHECK_MESSAGE(std::memcmp(reinterpret_cast<const std::byte*>(q.data()) + r * row_bytes, ref_q.data() + r * row_bytes, row_bytes) == 0,
                      fmt << " quantized bytes differ in row " << r);

    std::vector<float> deq(std::size_t(n_rows * n_per_row));
    F::dequantize_row(reinterpret_cast<const B*>(ref_q.data()), deq.data(), n_rows * n_per_row);
    const auto ref_deq = read_floats(quant_dir + fmt + ".dequant.f32");
    CHECK_MESSAGE(std::memcmp(deq.data(), ref_deq.data(), deq.size() * 4) == 0, fmt << " dequantized floats differ");

    std::vector<typename V::block> aq(std::size_t(n_per_row / V::block_size));
    V::quantize_row(act.data(), aq.data(), n_per_row);
    const auto ref_a = read_bytes(quant_dir + act_file);
    REQUIRE(ref_a.size() == aq.size() * sizeof(typename V::block));
    CHECK_MESSAGE(std::memcmp(aq.data(), ref_a.data(), ref_a.size()) == 0, fmt << " activation conversion differs");

    const auto dots = manifest_dots(fmt);
    for (std::int64_t r = 0; r < n_rows; ++r) {
        const float d = F::vec_dot(n_per_row, reinterpret_cast<const B*>(ref_q.data() + r * row_bytes),
                                   reinterpret_cast<const typename V::block*>(ref_a.data()));
        double tol = std::max(1e-6, 1e-5 * std::abs(dots[std::size_t(r)]));
        if (F::id == llmt::quant::qtype::f16) {
            // ggml's f16 references in MANIFEST.txt were accumulated in half precision (the
            // AVX512-FP16 path of the machine that made them: every value is an exact fp16 and
            // they stray from the exact sum by up to 2e-2). Hold our dot to the exact sum instead,
            // and the reference to the error bound of fp16 accumulation: 2^-8 * sum |x*y|.
            std::vector<float> xf(n_per_row), yf(n_per_row);
            F::dequantize_row(reinterpret_cast<const B*>(ref_q.data() + r * row_bytes), xf.data(), n_per_row);
            V::dequantize_row(reinterpret_cast<const typename V::block*>(ref_a.data()), yf.data(), n_per_row);
            double exact = 0, mag = 0;
            for (std::int64_t i = 0; i < n_per_row; ++i) {
                exact += double(xf[std::size_t(i)]) * yf[std::size_t(i)];
                mag += std::abs(double(xf[std::size_t(i)]) * yf[std::size_t(i)]);
            }
            CHECK(std::abs(d - exact) <= std::max(1e-6, 1e-5 * std::abs(exact)));
            CHECK(std::abs(dots[std::size_t(r)] - exact) <= mag * 0x1p-8);
            // f16_accumulation::half reproduces those half-precision sums bit for bit.
            const float h = llmt::kernels::dot_f16_half_accum(n_per_row, reinterpret_cast<const llmt::fp16_t*>(ref_q.data() + r * row_bytes),
                                                              reinterpret_cast<const llmt::fp16_t*>(ref_a.data()));
            CHECK_MESSAGE(h == float(dots[std::size_t(r)]), "half-accumulated f16 dot row " << r << ": " << h << " vs " << dots[std::size_t(r)]);
            continue;
        }
        CHECK_MESSAGE(std::abs(d - dots[std::size_t(r)]) <= tol, fmt << " dot row " << r << ": " << d << " vs " << dots[std::size_t(r)]);
    }
}
}  // namespace

TEST_CASE("quant: f16 matches ggml") { check_against_ggml<llmt::quant::f16>("f16", "f16.activation.f16.bin"); }
TEST_CASE("quant: bf16 matches ggml") { check_against_ggml<llmt::quant::bf16>("bf16", "bf16.activation.bf16.bin"); }
TEST_CASE("quant: q8_0 matches ggml") { check_against_ggml<llmt::quant::q8_0>("q8_0", "q8_0.activation.q8_0.bin"); }
TEST_CASE("quant: q4_0 matches ggml") { check_against_ggml<llmt::quant::q4_0>("q4_0", "q4_0.activation.q8_0.bin"); }
TEST_CASE("quant: q4_1 matches ggml") { check_against_ggml<llmt::quant::q4_1>("q4_1", "q4_1.activation.q8_1.bin"); }
TEST_CASE("quant: q5_0 matches ggml") { check_against_ggml<llmt::quant::q5_0>("q5_0", "q5_0.activation.q8_0.bin"); }
TEST_CASE("quant: q5_1 matches ggml") { check_against_ggml<llmt::quant::q5_1>("q5_1", "q5_1.activation.q8_1.bin"); }
TEST_CASE("quant: iq4_nl matches ggml") { check_against_ggml<llmt::quant::iq4_nl>("iq4_nl", "iq4_nl.activation.q8_0.bin"); }
TEST_CASE("quant: mxfp4 matches ggml") { check_against_ggml<llmt::quant::mxfp4>("mxfp4", "mxfp4.activation.q8_0.bin"); }
TEST_CASE("quant: q8_1 activation quantizer matches ggml's reference") {
    const auto act = read_floats(quant_dir + "activation.f32");
    std::vector<llmt::quant::block_q8_1> aq(act.size() / 32);
    llmt::q8_1::quantize_row(act.data(), aq.data(), std::int64_t(act.size()));
    const auto ref = read_bytes(quant_dir + "activation_ref.q8_1.bin");
    REQUIRE(ref.size() == aq.size() * sizeof(llmt::quant::block_q8_1));
    CHECK(std::memcmp(aq.data(), ref.data(), ref.size()) == 0);
}

TEST_CASE("quant: q8_K activation conversion matches ggml") {
    const auto act = read_floats(quant_dir + "activation.f32");
    std::vector<llmt::quant::block_q8_k> aq(act.size() / 256);
    llmt::q8_k::quantize_row(act.data(), aq.data(), std::int64_t(act.size()));
    for (const char* f : {"q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "iq4_xs", "tq1_0", "tq2_0"}) {
        const auto ref = read_bytes(quant_dir + f + ".activation.q8_K.bin");
        REQUIRE(ref.size() == aq.size() * sizeof(llmt::quant::block_q8_k));
        CHECK_MESSAGE(std::memcmp(aq.data(), ref.data(), ref.size()) == 0, "q8_K conversion differs from " << f);
    }
    std::vector<float> back(act.size());
    llmt::q8_k::dequantize_row(aq.data(), back.data(), std::int64_t(act.size()));
    for (std::size_t i = 0; i < act.size(); ++i) {
        const auto& b = aq[i / 256];
        CHECK(std::abs(back[i] - act[i]) <= std::abs(b.d) * 0.5f * 1.0001f);
        if (i % 16 == 0) {
            int s = 0;
            for (std::size_t k = i % 256; k < i % 256 + 16; ++k) s += b.qs[k];
            CHECK(s == b.bsums[i % 256 / 16]);
        }
    }
    CHECK(llmt::q8_k::vec_dot(256, aq.data(), aq.data()) > 0);
}
TEST_CASE("quant: q4_K matches ggml") { check_against_ggml<llmt::quant::q4_k>("q4_K", "q4_K.activation.q8_K.bin"); }
TEST_CASE("quant: q6_K matches ggml") { check_against_ggml<llmt::quant::q6_k>("q6_K", "q6_K.activation.q8_K.bin"); }
TEST_CASE("quant: q5_K matches ggml") { check_against_ggml<llmt::quant::q5_k>("q5_K", "q5_K.activation.q8_K.bin"); }
TEST_CASE("quant: q3_K matches ggml") { check_against_ggml<llmt::quant::q3_k>("q3_K", "q3_K.activation.q8_K.bin"); }
TEST_CASE("quant: q2_K matches ggml") { check_against_ggml<llmt::quant::q2_k>("q2_K", "q2_K.activation.q8_K.bin"); }
TEST_CASE("quant: iq4_xs matches ggml") { check_against_ggml<llmt::quant::iq4_xs>("iq4_xs", "iq4_xs.activation.q8_K.bin"); }
TEST_CASE("quant: tq1_0 matches ggml") { check_against_ggml<llmt::quant::tq1_0>("tq1_0", "tq1_0.activation.q8_K.bin"); }
TEST_CASE("quant: tq2_0 matches ggml") { check_against_ggml<llmt::quant::tq2_0>("tq2_0", "tq2_0.activation.q8_K.bin"); }

TEST_CASE("quant: every quantizer takes NaN, infinite and huge values without undefined behaviour") {
    // A corrupt model's activations reach the activation quantizers (found by fuzz_load: q8_0 cast a NaN
    // to int8, undefined behaviour that the ASan + UBSan build stops on).
    using namespace llmt::quant;
    const float bad[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                         -std::numeric_limits<float>::infinity(), 3e38f};
    int formats = 0;
    for (std::uint32_t id = 0; id < qtype_count; ++id) {
        const auto& table = format_table<all_formats>::entries;
        if (!table[id].valid()) continue;
        ++formats;
        const auto t = qtype(id);
        for (float b : bad) {
            std::vector<float> x(256);
            for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 17) - 8) / 8.0f;
            x[5] = b;
            std::vector<std::byte> q(row_size(t, x.size()));
            table[id].quantize_row(x.data(), q.data(), std::int64_t(x.size()));
            std::vector<float> y(x.size());
            table[id].dequantize_row(q.data(), y.data(), std::int64_t(y.size()));
            if (t == qtype::q8_0) {  // a NaN's code is 0; an infinity makes the scale infinite and every code 0
                const auto* blk = reinterpret_cast<const block_q8_0*>(q.data());
                if (std::isnan(b)) CHECK(blk[0].qs[5] == 0);
                if (std::isinf(b))
                    for (int j = 0; j < 32; ++j) CHECK(blk[0].qs[j] == 0);
            }
        }
    }
    CHECK(formats >= 19);
}

TEST_CASE("quant: dispatch resolves listed formats and names the missing one") {
    using list = llmt::weight_types<llmt::f32, llmt::q8_0>;
    CHECK(llmt::quant::resolve<list>(llmt::quant::qtype::q8_0, "w").act_type == llmt::quant::qtype::q8_0);
    try {
        (void)llmt::quant::resolve<list>(llmt::quant::qtype::q4_k, "blk.0.ffn_down.weight");
        FAIL("expected an error");
    } catch (const llmt::error& e) {
        const std::string m = e.what();
        CHECK(m.find("blk.0.ffn_down.weight") != std::string::npos);
        CHECK(m.find("q4_K") != std::string::npos);
    }
}

TEST_CASE("kernels: matmul over q8_0 equals per-row reference dots, for 1 and 3 threads") {
    const std::int64_t rows = 37, cols = 64, n = 3;
    std::vector<float> w(std::size_t(rows * cols)), x(std::size_t(n * cols));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = float((i * 7919) % 101) / 50.0f - 1.0f;
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 104729) % 97) / 48.0f - 1.0f;
    std::vector<llmt::quant::block_q8_0> wq(std::size_t(rows * cols / 32));
    for (std::int64_t r = 0; r < rows; ++r) llmt::q8_0::quantize_row(w.data() + r * cols, wq.data() + r * cols / 32, cols);
    const auto& fmt = llmt::quant::resolve<llmt::quant::all_formats>(llmt::quant::qtype::q8_0, "w");
    llmt::kernels::weight_ref ref{&fmt, reinterpret_cast<const std::byte*>(wq.data()), rows, cols, 68};
    std::vector<std::byte> scratch(llmt::kernels::matmul_scratch_bytes(ref, n));
    std::vector<float> y1(std::size_t(n * rows)), y3(std::size_t(n * rows));
    llmt::thread_pool p1(1), p3(3);
    llmt::kernels::matmul(p1, ref, x.data(), n, y1.data(), scratch.data());
    llmt::kernels::matmul(p3, ref, x.data(), n, y3.data(), scratch.data());
    CHECK(y1 == y3);
    std::vector<llmt::quant::block_q8_0> xq(2);
    for (std::int64_t t = 0; t < n; ++t) {
        llmt::q8_0::quantize_row(x.data() + t * cols, xq.data(), cols);
        for (std::int64_t r = 0; r < rows; ++r)
            CHECK(y1[std::size_t(t * rows + r)] == llmt::q8_0::vec_dot(cols, wq.data() + r * 2, xq.data()));
    }
}

TEST_CASE("quant: f16_accumulation::half rounds like the hardware's fp16 conversion") {
    // round_to_half(s, 0) of a float s must equal the round-to-nearest-even f32 → f16 conversion,
    // across normals, subnormals, ties and overflow.
    std::uint32_t state = 12345;
    auto next = [&] { state = state * 1664525u + 1013904223u; return state; };
    for (int i = 0; i < 200000; ++i) {
        const std::uint32_t bits = (next() & 0x80000000u) | ((102u + next() % 40u) << 23) | (next() & 0x7FFFFFu);  // 2^-25 .. 2^14 and beyond
        float f;
        std::memcpy(&f, &bits, 4);
        const double want = double(llmt::to_f32(llmt::to_fp16(f)));
        const double got = llmt::kernels::detail::round_to_half(double(f), 0.0);
        REQUIRE_MESSAGE(got == want, "round_to_half(" << f << ") = " << got << ", expected " << want);
    }
    CHECK(llmt::kernels::detail::round_to_half(65520.0, 0.0) == INFINITY);  // the tie above 65504 goes to infinity
    CHECK(llmt::kernels::detail::round_to_half(65519.0, 0.0) == 65504.0);
    // the error term breaks exact ties: 1 + 2^-11 is halfway between 1 and 1 + 2^-10
    CHECK(llmt::kernels::detail::round_to_half(1.0 + 0x1p-11, 0.0) == 1.0);
    CHECK(llmt::kernels::detail::round_to_half(1.0 + 0x1p-11, 1e-30) == 1.0 + 0x1p-10);
    CHECK(llmt::kernels::detail::fma_half(1.0 + 0x1p-10, 0x1p-11, 1.0) == 1.0 + 0x1p-10);  // x·y = 2^-11 + 2^-21: just above the tie
}
