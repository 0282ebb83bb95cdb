// test_quantize: llama.cpp's recipes (quant/recipe.hpp), the row-parallel quantizer and whole-file quantization
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <sys/stat.h>

namespace {
namespace q = llmt::quant;
using q::qtype;

const std::string models_dir = std::string(LLMT_MODELS_DIR) + "/stories260K/";

/// A temporary file path removed at scope exit.
struct temp_path {
    std::filesystem::path path;
    explicit temp_path(const std::string& stem) {
        static std::atomic<int> n{0};
        path = std::filesystem::temp_directory_path() /
               ("llmt-test-" + stem + "-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()) + "-" +
                std::to_string(n++) + ".gguf");
    }
    ~temp_path() {
        std::error_code ec;
        std::filesystem::remove(path, ec);
    }
};

q::tensor_desc tensor(std::string name, std::uint64_t ne0, std::uint64_t ne1 = 0) {
    q::tensor_desc t;
    t.name = std::move(name);
    t.n_dims = ne1 ? 2 : 1;
    t.ne = {ne0, ne1 ? ne1 : 1, 1, 1};
    return t;
}

/// The tensors of a llama model with n_layer blocks (embedding 4096, ffn 11008), in processing order.
std::vector<q::tensor_desc> llama_tensors(int n_layer, bool with_output = true) {
    std::vector<q::tensor_desc> ts;
    if (with_output) ts.push_back(tensor("output.weight", 4096, 32000));
    ts.push_back(tensor("output_norm.weight", 4096));
    ts.push_back(tensor("token_embd.weight", 4096, 32000));
    for (int l = 0; l < n_layer; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        for (const char* n : {"attn_k", "attn_output", "attn_q", "attn_v", "ffn_down", "ffn_gate", "ffn_up"}) {
            const bool down = std::string(n) == "ffn_down";
            ts.push_back(tensor(b + n + ".weight", down ? 11008 : 4096, down ? 4096 : 11008));
        }
        ts.push_back(tensor(b + "attn_norm.weight", 4096));
        ts.push_back(tensor(b + "ffn_norm.weight", 4096));
    }
    std::stable_sort(ts.begin(), ts.end(), [](const auto& a, const auto& b) { return q::processing_order_less(a.name, b.name); });
    return ts;
}

q::model_info llama_model(int n_layer, int n_head = 32, int n_head_kv = 8) {
    q::model_info m;
    m.arch = "llama";
    m.n_layer = n_layer;
    m.n_head = n_head;
    m.n_head_kv = n_head_kv;
    return m;
}

/// name -> planned type
std::map<std::string, qtype> plan(const q::model_info& m, const std::vector<q::tensor_desc>& ts, q::recipe_options o) {
    q::recipe r(m, std::move(o));
    const auto p = r.plan(ts);
    std::map<std::string, qtype> out;
    for (std::size_t i = 0; i < ts.size(); ++i) out[ts[i].name] = p[i].type;
    return out;
}

q::recipe_options opts(q::ftype f) {
    q::recipe_options o;
    o.file_type = f;
    return o;
}

/// Every tensor of `a` has the type, shape and bytes of the same tensor in `b`, in the same order.
void check_same_tensors(const llmt::io::gguf_file& a, const llmt::io::gguf_file& b) {
    REQUIRE(a.tensors().size() == b.tensors().size());
    for (std::size_t i = 0; i < a.tensors().size(); ++i) {
        const auto& x = a.tensors()[i];
        const auto& y = b.tensors()[i];
        INFO("tensor " << i << " " << x.name);
        CHECK(x.name == y.name);
        CHECK(x.type == y.type);
        CHECK(x.ne == y.ne);
        const auto dx = a.tensor_data(x), dy = b.tensor_data(y);
        REQUIRE(dx.size() == dy.size());
        CHECK(std::memcmp(dx.data(), dy.data(), dx.size()) == 0);
    }
}
}  // namespace

TEST_CASE("recipe: processing order puts non-block tensors first and blocks by number") {
    CHECK(q::processing_order_less("token_embd.weight", "blk.0.attn_q.weight"));
    CHECK(q::processing_order_less("blk.9.ffn_up.weight", "blk.10.attn_k.weight"));
    CHECK(q::processing_order_less("blk.2.attn_k.weight", "blk.2.attn_q.weight"));
    CHECK_FALSE(q::processing_order_less("blk.10.attn_k.weight", "blk.9.ffn_up.weight"));
    CHECK(q::block_index("blk.17.ffn_down.weight") == 17);
    CHECK_FALSE(q::block_index("output.weight").has_value());
    CHECK_FALSE(q::block_index("blk.x.weight").has_value());
    CHECK(q::block_index("blk.99999999999999999999.weight").has_value());  // saturates, no overflow
}

TEST_CASE("recipe: names, default types and which tensors may be quantized") {
    CHECK(q::ftype_from_name("q4_k_m") == q::ftype::q4_k_m);
    CHECK(q::ftype_from_name("Q4_K") == q::ftype::q4_k_m);  // llama-quantize's alias
    CHECK(q::ftype_from_name("Q3_K") == q::ftype::q3_k_m);
    CHECK(q::ftype_from_name("IQ2_XXS") == std::nullopt);    // needs an importance matrix: not offered
    CHECK(q::default_type(q::ftype::q5_k_s) == qtype::q5_k);
    CHECK(std::uint32_t(q::ftype::q4_k_m) == 15);
    CHECK(std::uint32_t(q::ftype::bf16) == 32);
    q::recipe_options o;
    CHECK(q::allows_quantization(tensor("blk.0.attn_q.weight", 64, 64), o));
    CHECK_FALSE(q::allows_quantization(tensor("blk.0.attn_norm.weight", 64), o));
    CHECK_FALSE(q::allows_quantization(tensor("blk.0.attn_norm.weight", 64, 64), o));  // a 2-D norm stays too
    CHECK_FALSE(q::allows_quantization(tensor("blk.0.ffn_gate_inp.weight", 64, 8), o));
    CHECK_FALSE(q::allows_quantization(tensor("rope_freqs", 64, 2), o));
    CHECK(q::allows_quantization(tensor("output.weight", 64, 64), o));
    o.quantize_output = false;
    CHECK_FALSE(q::allows_quantization(tensor("output.weight", 64, 64), o));
}

TEST_CASE("recipe: Q4_K_M on a 32-layer llama gives attn_v and ffn_down Q6_K on the use_more_bits layers") {
    const auto p = plan(llama_model(32), llama_tensors(32), opts(q::ftype::q4_k_m));
    // use_more_bits(i, 32): i < 4, i >= 28, or (i - 4) % 3 == 2
    const std::vector<int> more = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
    for (int l = 0; l < 32; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        const bool m = std::find(more.begin(), more.end(), l) != more.end();
        INFO("layer " << l);
        CHECK(p.at(b + "attn_v.weight") == (m ? qtype::q6_k : qtype::q4_k));
        CHECK(p.at(b + "ffn_down.weight") == (m ? qtype::q6_k : qtype::q4_k));
        CHECK(p.at(b + "attn_q.weight") == qtype::q4_k);
        CHECK(p.at(b + "attn_k.weight") == qtype::q4_k);
        CHECK(p.at(b + "attn_output.weight") == qtype::q4_k);
        CHECK(p.at(b + "ffn_gate.weight") == qtype::q4_k);
        CHECK(p.at(b + "ffn_up.weight") == qtype::q4_k);
        CHECK(p.at(b + "attn_norm.weight") == qtype::f32);
    }
    CHECK(p.at("output.weight") == qtype::q6_k);
    CHECK(p.at("token_embd.weight") == qtype::q4_k);
    CHECK(p.at("output_norm.weight") == qtype::f32);
}

TEST_CASE("recipe: the other mixtures on a 32-layer llama (n_gqa 4)") {
    const auto ts = llama_tensors(32);
    const auto m = llama_model(32);
    SUBCASE("Q4_K_S: the first 4 attn_v and ffn_down get Q5_K") {
        const auto p = plan(m, ts, opts(q::ftype::q4_k_s));
        CHECK(p.at("blk.3.attn_v.weight") == qtype::q5_k);
        CHECK(p.at("blk.4.attn_v.weight") == qtype::q4_k);
        CHECK(p.at("blk.3.ffn_down.weight") == qtype::q5_k);
        CHECK(p.at("blk.4.ffn_down.weight") == qtype::q4_k);
        CHECK(p.at("output.weight") == qtype::q6_k);
    }
    SUBCASE("Q5_K_M") {
        const auto p = plan(m, ts, opts(q::ftype::q5_k_m));
        CHECK(p.at("blk.0.attn_v.weight") == qtype::q6_k);
        CHECK(p.at("blk.5.attn_v.weight") == qtype::q5_k);
        CHECK(p.at("blk.6.ffn_down.weight") == qtype::q6_k);
        CHECK(p.at("blk.7.ffn_down.weight") == qtype::q5_k);
        CHECK(p.at("blk.7.attn_q.weight") == qtype::q5_k);
    }
    SUBCASE("Q6_K: everything Q6_K") {
        const auto p = plan(m, ts, opts(q::ftype::q6_k));
        CHECK(p.at("blk.5.attn_v.weight") == qtype::q6_k);
        CHECK(p.at("token_embd.weight") == qtype::q6_k);
        CHECK(p.at("output.weight") == qtype::q6_k);
    }
    SUBCASE("Q3_K_M: attn_v Q5_K twice then Q4_K, ffn_down Q5_K below n/16, attn_output Q4_K") {
        const auto p = plan(m, ts, opts(q::ftype::q3_k_m));
        CHECK(p.at("blk.1.attn_v.weight") == qtype::q5_k);
        CHECK(p.at("blk.2.attn_v.weight") == qtype::q4_k);
        CHECK(p.at("blk.1.ffn_down.weight") == qtype::q5_k);
        CHECK(p.at("blk.2.ffn_down.weight") == qtype::q4_k);
        CHECK(p.at("blk.2.attn_output.weight") == qtype::q4_k);
        CHECK(p.at("blk.2.attn_q.weight") == qtype::q3_k);
    }
    SUBCASE("Q2_K: attn_v Q4_K with n_gqa >= 4, Q3_K without") {
        CHECK(plan(m, ts, opts(q::ftype::q2_k)).at("blk.9.attn_v.weight") == qtype::q4_k);
        const auto p = plan(llama_model(32, 32, 32), ts, opts(q::ftype::q2_k));
        CHECK(p.at("blk.9.attn_v.weight") == qtype::q3_k);
        CHECK(p.at("blk.9.ffn_down.weight") == qtype::q3_k);
        CHECK(p.at("blk.9.attn_output.weight") == qtype::q3_k);
        CHECK(p.at("blk.9.ffn_up.weight") == qtype::q2_k);
    }
    SUBCASE("IQ4_XS: ffn_down Q5_K in the first eighth, attn_v Q5_K with n_gqa >= 4") {
        const auto p = plan(m, ts, opts(q::ftype::iq4_xs));
        CHECK(p.at("blk.3.ffn_down.weight") == qtype::q5_k);
        CHECK(p.at("blk.4.ffn_down.weight") == qtype::iq4_xs);
        CHECK(p.at("blk.20.attn_v.weight") == qtype::q5_k);
    }
    SUBCASE("tied embeddings: token_embd is treated as the output tensor") {
        const auto p = plan(m, llama_tensors(32, false), opts(q::ftype::q4_k_m));
        CHECK(p.at("token_embd.weight") == qtype::q6_k);
    }
    SUBCASE("70B (80 layers, GQA): attn_v Q4_K becomes Q5_K") {
        const auto p = plan(llama_model(80, 64, 8), llama_tensors(80), opts(q::ftype::q4_k_m));
        CHECK(p.at("blk.0.attn_v.weight") == qtype::q6_k);
        CHECK(p.at("blk.11.attn_v.weight") == qtype::q5_k);
        CHECK(p.at("blk.11.ffn_down.weight") == qtype::q4_k);
    }
    SUBCASE("--pure: every quantizable tensor gets the base type") {
        auto o = opts(q::ftype::q4_k_m);
        o.pure = true;
        const auto p = plan(m, ts, o);
        CHECK(p.at("blk.0.attn_v.weight") == qtype::q4_k);
        CHECK(p.at("output.weight") == qtype::q4_k);
        CHECK(p.at("blk.0.attn_norm.weight") == qtype::f32);
    }
    SUBCASE("--tensor-type: the first matching regex wins and the mixture rule is skipped") {
        auto o = opts(q::ftype::q4_k_m);
        o.overrides = {{"attn_v", qtype::q8_0}, {"blk\\.[0-9]\\.ffn_down", qtype::q5_k}, {"ffn_down", qtype::q2_k}};
        const auto p = plan(m, ts, o);
        CHECK(p.at("blk.12.attn_v.weight") == qtype::q8_0);
        CHECK(p.at("blk.5.ffn_down.weight") == qtype::q5_k);
        CHECK(p.at("blk.15.ffn_down.weight") == qtype::q2_k);
    }
    SUBCASE("--output-tensor-type and --token-embedding-type") {
        auto o = opts(q::ftype::q4_k_m);
        o.output_type = qtype::q8_0;
        o.token_embd_type = qtype::f16;
        const auto p = plan(m, ts, o);
        CHECK(p.at("output.weight") == qtype::q8_0);
        CHECK(p.at("token_embd.weight") == qtype::f16);
    }
    SUBCASE("F16 files ignore overrides and mixtures") {
        auto o = opts(q::ftype::f16);
        o.overrides = {{"attn_v", qtype::q8_0}};
        const auto p = plan(m, ts, o);
        CHECK(p.at("blk.0.attn_v.weight") == qtype::f16);
        CHECK(p.at("output.weight") == qtype::f16);
        CHECK(p.at("blk.0.ffn_norm.weight") == qtype::f32);
    }
}

TEST_CASE("recipe: fallbacks when a row length does not fit the block") {
    q::model_info m = llama_model(1);
    const std::vector<q::tensor_desc> ts = {tensor("blk.0.attn_q.weight", 64, 64), tensor("blk.0.ffn_down.weight", 172, 64),
                                            tensor("blk.0.ffn_up.weight", 96, 64)};
    auto pure = [&](q::ftype f) {
        auto o = opts(f);
        o.pure = true;
        q::recipe r(m, o);
        return r.plan(ts);
    };
    auto p = pure(q::ftype::q4_k_m);
    CHECK(p[0].type == qtype::q5_0);  // Q4_K -> Q5_0
    CHECK(p[0].fallback);
    CHECK(p[1].type == qtype::f16);   // 172 fits no 32-block either
    p = pure(q::ftype::q5_k_m);
    CHECK(p[0].type == qtype::q5_1);
    p = pure(q::ftype::q6_k);
    CHECK(p[0].type == qtype::q8_0);
    p = pure(q::ftype::q2_k);
    CHECK(p[0].type == qtype::q4_0);
    p = pure(q::ftype::iq4_xs);
    CHECK(p[0].type == qtype::iq4_nl);
    p = pure(q::ftype::q4_0);
    CHECK(p[0].type == qtype::q4_0);
    CHECK_FALSE(p[0].fallback);
    CHECK(p[1].type == qtype::f16);  // llama.cpp would stop; llmt says so and uses f16
    CHECK(p[1].note.find("refuses") != std::string::npos);
    CHECK(p[2].type == qtype::q4_0);
}

TEST_CASE("recipe: stories260K decisions equal llama-quantize's files") {
    const auto f32 = llmt::io::gguf_file::open(models_dir + "stories260K.gguf");
    struct ref {
        const char* file;
        q::ftype type;
        bool ffn_down_f16;
    };
    for (const ref r : {ref{"stories260K-Q8_0.gguf", q::ftype::q8_0, true}, ref{"stories260K-Q4_0.gguf", q::ftype::q4_0, true},
                        ref{"stories260K-Q4_K_M.gguf", q::ftype::q4_k_m, false}}) {
        INFO(r.file);
        const auto want = llmt::io::gguf_file::open(models_dir + r.file);
        auto o = opts(r.type);
        if (r.ffn_down_f16) o.overrides = {{"ffn_down", qtype::f16}};
        const auto [order, plans] = q::plan_file(f32, o);
        REQUIRE(order.size() == want.tensors().size());
        for (std::size_t i = 0; i < order.size(); ++i) {
            CHECK(order[i]->name == want.tensors()[i].name);
            CHECK(plans[i].type == want.tensors()[i].type);
        }
        CHECK(want.get<std::uint32_t>("general.file_type") == std::uint32_t(r.type));
    }
}

TEST_CASE("quantize_rows: equal to the per-row reference for 1, 2 and 3 threads") {
    const std::int64_t rows = 13, cols = 96;
    std::vector<float> x(std::size_t(rows * cols));
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float((i * 7919) % 211) / 50.0f - 2.0f;
    for (qtype t : {qtype::q4_0, qtype::q5_1, qtype::iq4_nl, qtype::mxfp4, qtype::f16}) {
        INFO(q::name(t));
        const auto& fmt = q::resolve<q::all_formats>(t, "w");
        const std::size_t rb = q::row_size(t, cols);
        std::vector<std::byte> want(rb * rows);
        for (std::int64_t r = 0; r < rows; ++r) fmt.quantize_row(x.data() + r * cols, want.data() + r * rb, cols);
        for (int n : {1, 2, 3}) {
            llmt::thread_pool pool(n);
            std::vector<std::byte> got(want.size());
            q::quantize_rows(pool, fmt, x.data(), rows, cols, got.data());
            CHECK(got == want);
            std::vector<float> back(x.size()), back1(x.size());
            q::dequantize_rows(pool, fmt, got.data(), rows, cols, back.data());
            fmt.dequantize_row(got.data(), back1.data(), rows * cols);
            CHECK(back == back1);
        }
    }
    llmt::thread_pool pool(1);
    std::vector<std::byte> out(1024);
    CHECK_THROWS_AS(q::quantize_rows(pool, q::resolve<q::all_formats>(qtype::q4_0, "w"), x.data(), 2, 48, out.data()),
                    llmt::error);
}

TEST_CASE("quantize_file: stories260K Q8_0, Q4_0 and Q4_K_M equal llama-quantize's files byte for byte") {
    struct ref {
        const char* file;
        q::ftype type;
        bool ffn_down_f16;
        int threads;
    };
    for (const ref r : {ref{"stories260K-Q8_0.gguf", q::ftype::q8_0, true, 1}, ref{"stories260K-Q4_0.gguf", q::ftype::q4_0, true, 3},
                        ref{"stories260K-Q4_K_M.gguf", q::ftype::q4_k_m, false, 2}}) {
        INFO(r.file);
        q::quantize_file_options o;
        o.recipe.file_type = r.type;
        if (r.ffn_down_f16) o.recipe.overrides = {{"ffn_down", qtype::f16}};
        o.threads = r.threads;
        // the reference files were converted with a context length of 128
        o.kv_overrides.emplace_back("llama.context_length", llmt::io::gguf_owned_value::of(std::uint32_t(128)));
        temp_path out("quantize");
        std::size_t calls = 0;
        const auto rep = q::quantize_file(models_dir + "stories260K.gguf", out.path, o, [&](const q::quantize_progress& p) {
            ++calls;
            CHECK(p.total_done <= p.total);
        });
        CHECK(calls >= rep.tensors.size());
        CHECK(rep.tensors.size() == 48);
        const auto got = llmt::io::gguf_file::open(out.path);
        const auto want = llmt::io::gguf_file::open(models_dir + r.file);
        check_same_tensors(got, want);
        CHECK(got.bytes().size() == want.bytes().size());
        CHECK(std::memcmp(got.bytes().data(), want.bytes().data(), std::min(got.bytes().size(), want.bytes().size())) == 0);
        CHECK(rep.bytes_out == [&] {
            std::uint64_t s = 0;
            for (const auto& t : want.tensors()) s += t.n_bytes;
            return s;
        }());
    }
}

TEST_CASE("quantize_file: refuses to requantize unless allowed, and requantizes when allowed") {
    q::quantize_file_options o;
    o.recipe.file_type = q::ftype::q4_0;
    o.recipe.pure = true;
    temp_path out("requant");
    CHECK_THROWS_AS(q::quantize_file(models_dir + "stories260K-Q8_0.gguf", out.path, o, [](const auto&) {}), llmt::error);
    CHECK_FALSE(std::filesystem::exists(out.path));  // nothing written on a refusal
    o.allow_requantize = true;
    const auto rep = q::quantize_file(models_dir + "stories260K-Q8_0.gguf", out.path, o, [](const auto&) {});
    const auto got = llmt::io::gguf_file::open(out.path);
    const auto* t = got.find_tensor("blk.0.attn_q.weight");
    REQUIRE(t);
    CHECK(t->type == qtype::q4_0);
    CHECK(got.find_tensor("blk.0.ffn_down.weight")->type == qtype::f16);  // f16 stays: its rows fit no 32-block
    CHECK(got.get<std::uint32_t>("general.file_type") == 2u);
    CHECK(rep.bytes_out < rep.bytes_in);
}

TEST_CASE("gguf_writer: deferred tensors stream through the fill callback, a short fill is an error") {
    llmt::io::gguf_writer w;
    w.set("general.architecture", std::string_view("test"));
    const std::vector<float> a = {1, 2, 3, 4};
    w.add_tensor("a", qtype::f32, {4}, std::span<const float>(a));
    const std::uint64_t ne[2] = {32, 2};
    w.add_tensor_info("b", qtype::q8_0, ne);
    temp_path out("writer");
    std::vector<std::byte> bytes(2 * sizeof(q::block_q8_0), std::byte{7});
    w.write(out.path, [&](std::size_t i, auto&& put) {
        CHECK(i == 0);
        put(bytes.data(), bytes.size());
    });
    const auto f = llmt::io::gguf_file::open(out.path);
    const auto& b = f.require_tensor("b");
    CHECK(b.type == qtype::q8_0);
    CHECK(std::memcmp(f.tensor_data(b).data(), bytes.data(), bytes.size()) == 0);
    CHECK(std::memcmp(f.tensor_data(f.require_tensor("a")).data(), a.data(), 16) == 0);
    CHECK_THROWS_AS(w.write(out.path, [&](std::size_t, auto&& put) { put(bytes.data(), 10); }), llmt::error);
    CHECK_THROWS_AS(w.to_bytes(), llmt::error);  // deferred tensors need write(path, fill)
}

TEST_CASE("quantize_file: a GGUF that is not a model (no metadata) quantizes with --pure and with a mixture") {
    std::vector<float> a(64 * 4), c(172 * 2), b(8);
    for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(i % 17) - 8.0f;
    for (std::size_t i = 0; i < c.size(); ++i) c[i] = float(i % 5) * 0.25f;
    llmt::io::gguf_writer w;
    w.add_tensor("a.weight", qtype::f32, {64, 4}, std::span<const float>(a));
    w.add_tensor("b", qtype::f32, {8}, std::span<const float>(b));
    w.add_tensor("c.weight", qtype::f32, {172, 2}, std::span<const float>(c));
    temp_path in("plain-in"), out("plain-out");
    w.write(in.path);
    for (bool pure : {true, false}) {
        q::quantize_file_options o;
        o.recipe.file_type = pure ? q::ftype::q8_0 : q::ftype::q4_k_m;
        o.recipe.pure = pure;
        const auto rep = q::quantize_file(in.path, out.path, o, [](const auto&) {});
        const auto f = llmt::io::gguf_file::open(out.path);
        CHECK(f.tensors()[0].name == "a.weight");  // llama.cpp's order: by name outside blocks
        CHECK(f.require_tensor("a.weight").type == (pure ? qtype::q8_0 : qtype::q5_0));
        CHECK(f.require_tensor("b").type == qtype::f32);
        CHECK(f.require_tensor("c.weight").type == qtype::f16);
        CHECK(f.get<std::uint32_t>("general.file_type") == std::uint32_t(o.recipe.file_type));
        CHECK(f.get<std::uint32_t>("general.quantization_version") == 2u);
        CHECK(rep.n_fallback == (pure ? 1 : 2));
        std::vector<float> back(a.size());
        const auto& t = f.require_tensor("a.weight");
        q::resolve<q::all_formats>(t.type, t.name).dequantize_row(f.tensor_data(t).data(), back.data(), std::int64_t(a.size()));
        for (std::size_t i = 0; i < a.size(); ++i) CHECK(std::abs(back[i] - a[i]) <= 0.6f);
    }
}

TEST_CASE("quantize_file: --pure TYPE writes ggml's reference bytes for every offered base type") {
    // The 8 x 1024 rows of the quantization test vectors, as one tensor of a GGUF file.
    const std::string qdir = std::string(LLMT_TEST_DATA_DIR) + "/quant/";
    auto read = [](const std::string& path) {
        std::FILE* f = std::fopen(path.c_str(), "rb");
        REQUIRE_MESSAGE(f, "cannot open " << path);
        std::vector<std::byte> b;
        std::byte buf[65536];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) b.insert(b.end(), buf, buf + n);
        std::fclose(f);
        return b;
    };
    const auto input = read(qdir + "input.f32");
    REQUIRE(input.size() == 8 * 1024 * 4);
    llmt::io::gguf_writer w;
    w.add_tensor("blk.0.ffn_up.weight", qtype::f32, {1024, 8}, std::span<const std::byte>(input));
    temp_path in("vectors-in"), out("vectors-out");
    w.write(in.path);
    std::vector<qtype> done;
    for (const auto& f : q::ftype_names) {
        const qtype base = q::default_type(f.type);
        if (std::find(done.begin(), done.end(), base) != done.end()) continue;  // Q4_K_S, Q4_K_M, ... share a base
        done.push_back(base);
        INFO(f.name);
        q::quantize_file_options o;
        o.recipe.file_type = f.type;
        o.recipe.pure = true;
        o.threads = 2;
        q::quantize_file(in.path, out.path, o, [](const auto&) {});
        const auto g = llmt::io::gguf_file::open(out.path);
        const auto& t = g.require_tensor("blk.0.ffn_up.weight");
        CHECK(t.type == base);
        const auto want = base == qtype::f32 ? input : read(qdir + std::string(q::name(base)) + ".quant.bin");
        const auto got = g.tensor_data(t);
        REQUIRE(got.size() == want.size());
        CHECK(std::memcmp(got.data(), want.data(), want.size()) == 0);
    }
    CHECK(done.size() == 17);  // f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_K..q6_K iq4_nl iq4_xs tq1_0 tq2_0
}

TEST_CASE("quantize_file: refuses to overwrite its input, and a throwing progress callback leaves no file") {
    q::quantize_file_options o;
    o.recipe.file_type = q::ftype::q8_0;
    temp_path in("self");
    std::filesystem::copy_file(models_dir + "stories260K.gguf", in.path);
    CHECK_THROWS_AS(q::quantize_file(in.path, in.path, o, [](const auto&) {}), llmt::error);
    CHECK(llmt::io::gguf_file::open(in.path).tensors().size() == 48);  // intact
    temp_path out("abort");
    CHECK_THROWS_AS(q::quantize_file(in.path, out.path, o, [](const q::quantize_progress& p) {
                        if (p.index == 5) throw std::runtime_error("cancelled");
                    }),
                    std::runtime_error);
    CHECK_FALSE(std::filesystem::exists(out.path));
}

// ---- io::atomic_output_file: what quantize_file, gguf_writer and the tools write through ----

namespace {
std::string slurp(const std::filesystem::path& p) {
    std::FILE* f = std::fopen(p.c_str(), "rb");
    if (!f) return "<missing>";
    std::string s;
    char buf[256];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
    std::fclose(f);
    return s;
}
void spill(const std::filesystem::path& p, const std::string& s) {
    std::FILE* f = std::fopen(p.c_str(), "wb");
    REQUIRE(f);
    std::fwrite(s.data(), 1, s.size(), f);
    std::fclose(f);
}
std::size_t entries(const std::filesystem::path& dir) {
    return std::size_t(std::distance(std::filesystem::directory_iterator(dir), std::filesystem::directory_iterator()));
}
}  // namespace

TEST_CASE("atomic_output_file: the destination changes only on commit, as a whole") {
    namespace fs = std::filesystem;
    temp_path dir_path("atomic-dir");
    fs::create_directory(dir_path.path);
    const fs::path out = dir_path.path / "out.txt";
    spill(out, "old");
    fs::permissions(out, fs::perms(0640));
    {
        llmt::io::atomic_output_file f(out);
        f.write("new", 3);
        CHECK(slurp(out) == "old");  // not yet
        CHECK(entries(dir_path.path) == 2);  // the temporary file beside it
        f.commit();
    }
    CHECK(slurp(out) == "new");
    CHECK((fs::status(out).permissions() & fs::perms::all) == fs::perms(0640));  // the mode it replaced
    CHECK(entries(dir_path.path) == 1);
    {
        llmt::io::atomic_output_file f(out);
        f.write("abandoned", 9);
    }  // no commit: the temporary file goes, the destination stays
    CHECK(slurp(out) == "new");
    CHECK(entries(dir_path.path) == 1);
    fs::remove_all(dir_path.path);
}

TEST_CASE("atomic_output_file: refuses what it must not replace before creating anything") {
    namespace fs = std::filesystem;
    temp_path dir_path("atomic-refuse");
    fs::create_directory(dir_path.path);
    const auto open = [](const fs::path& p, std::initializer_list<fs::path> inputs = {}) { llmt::io::atomic_output_file f(p, inputs); };
    const fs::path sub = dir_path.path / "empty-dir";
    fs::create_directory(sub);
    CHECK_THROWS_AS(open(sub), llmt::error);
    CHECK(fs::is_directory(sub));
    const fs::path fifo = dir_path.path / "fifo";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    CHECK_THROWS_AS(open(fifo), llmt::error);  // at once: a FIFO is never opened
    CHECK(fs::is_fifo(fifo));
    CHECK_THROWS_AS(open("/dev/null"), llmt::error);
    const fs::path input = dir_path.path / "model.gguf";
    spill(input, "weights");
    const fs::path link = dir_path.path / "hard-link.gguf";
    fs::create_hard_link(input, link);
    CHECK_THROWS_WITH_AS(open(link, {input}), doctest::Contains("is the input"), llmt::error);
    const fs::path ro = dir_path.path / "read-only.txt";
    spill(ro, "keep");
    fs::permissions(ro, fs::perms(0444));
    CHECK_THROWS_WITH_AS(open(ro), doctest::Contains("read-only"), llmt::error);
    CHECK(slurp(ro) == "keep");
    CHECK(slurp(input) == "weights");
    CHECK(entries(dir_path.path) == 5);  // no temporary file left by any refusal
    CHECK_THROWS_AS(open(dir_path.path / "no-such-dir" / "out"), llmt::error);
    fs::permissions(ro, fs::perms(0644));
    fs::remove_all(dir_path.path);
}

TEST_CASE("gguf_writer::write: a failed write leaves the previous file whole") {
    namespace fs = std::filesystem;
    temp_path out("writer-keeps");
    spill(out.path, "previous");
    llmt::io::gguf_writer w(3);
    w.set("general.name", std::string_view("x"));
    const std::uint64_t ne[] = {32};
    w.add_tensor_info("t", qtype::f32, std::span<const std::uint64_t>(ne, 1));
    CHECK_THROWS_AS(w.write(out.path, [](std::size_t, auto&&) { throw llmt::error(llmt::errc::runtime, "cancelled"); }),
                    llmt::error);
    CHECK(slurp(out.path) == "previous");
    std::vector<float> zeros(32, 0.0f);
    w.write(out.path, [&](std::size_t, auto&& put) { put(zeros.data(), zeros.size() * sizeof(float)); });
    CHECK(llmt::io::gguf_file::open(out.path).tensors().size() == 1);
}
