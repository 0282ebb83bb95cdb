// test_model: model<Spec> against llama.cpp's stories260K logits and against the scalar reference forward pass
#include <llmt/llmt.hpp>

#include "model_fixtures.hpp"
#include "reference_forward.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <vector>

namespace {
using namespace llmt_test;
const std::string models_dir = std::string(LLMT_MODELS_DIR) + "/stories260K/";
const std::string ref_dir = std::string(LLMT_TEST_DATA_DIR) + "/stories260K/";

int argmax(std::span<const float> x) { return int(std::max_element(x.begin(), x.end()) - x.begin()); }

double max_abs_diff(std::span<const float> a, std::span<const float> b) {
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::fabs(a[i] - b[i])));
    return d;
}
// max |a - b| relative to max |b|: the "1e-4 relative" of the reference comparisons.
double rel_diff(std::span<const float> a, std::span<const float> b) {
    double m = 0;
    for (float x : b) m = std::max(m, double(std::fabs(x)));
    return max_abs_diff(a, b) / std::max(m, 1e-30);
}

/// Runs the prompt as one batch, then each later input one at a time; returns the logits of every position.
template <typename Model>
std::vector<std::vector<float>> teacher_forced(Model& m, const std::vector<int>& inputs, std::size_t n_prompt) {
    const auto V = std::size_t(m.n_vocab());
    std::vector<float> prompt(n_prompt * V);
    m.forward(std::span<const int>(inputs.data(), n_prompt), 0, prompt, true);
    std::vector<std::vector<float>> out;
    for (std::size_t i = 0; i < n_prompt; ++i) out.emplace_back(prompt.begin() + std::ptrdiff_t(i * V), prompt.begin() + std::ptrdiff_t((i + 1) * V));
    for (std::size_t i = n_prompt; i < inputs.size(); ++i) {
        auto l = m.forward(std::span<const int>(&inputs[i], 1), std::int64_t(i));
        out.emplace_back(l.begin(), l.end());
    }
    return out;
}
}  // namespace

TEST_CASE("model: stories260K F32 matches llama.cpp's logits at every position within 1e-3") {
    const auto ref = read_ref_logits(ref_dir + "ref_logits_f32_kvf32_faoff_t1.txt");
    REQUIRE(ref.positions.size() == 69);
    auto m = llmt::model<llmt::presets::llama>::load(models_dir + "stories260K.gguf", {.threads = 2});
    CHECK(m.n_vocab() == 512);
    CHECK(m.params().n_head_kv == 4);
    std::vector<int> inputs;
    for (const auto& p : ref.positions) inputs.push_back(p.input);
    const auto logits = teacher_forced(m, inputs, ref.prompt_tokens.size());
    double worst = 0;
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        worst = std::max(worst, max_abs_diff(logits[i], ref.positions[i].logits));
        CHECK(argmax(logits[i]) == ref.positions[i].argmax);
    }
    MESSAGE("max |llmt - llama.cpp| over 69 positions: " << worst);
    CHECK(worst < 1e-3);
}

TEST_CASE("model: greedy generation on stories260K F32 reproduces llama.cpp's 64 tokens") {
    const auto ref = read_ref_logits(ref_dir + "ref_logits_f32_kvf32_faoff_t1.txt");
    auto m = llmt::model<llmt::presets::llama>::load(models_dir + "stories260K.gguf", {.threads = 1});
    std::vector<int> toks = ref.prompt_tokens;
    auto logits = m.forward(toks, 0);
    std::vector<int> gen;
    while (gen.size() < 64) {
        const int next = argmax(logits);
        gen.push_back(next);
        toks.push_back(next);
        logits = m.forward(std::span<const int>(&toks.back(), 1), std::int64_t(toks.size() - 1));
    }
    CHECK(gen == ref.greedy_tokens);
}

TEST_CASE("model: stories260K F32 matches the scalar reference forward pass") {
    auto file = llmt::io::gguf_file::open(models_dir + "stories260K.gguf");
    reference_model ref(file, {});
    auto m = llmt::model<llmt::presets::llama>::load(std::move(file), {.context = 64, .threads = 2});
    const std::vector<int> inputs = {1, 403, 407, 261, 378, 432, 383, 286, 261, 376};
    const auto logits = teacher_forced(m, inputs, 4);
    for (std::size_t i = 0; i < inputs.size(); ++i) CHECK(rel_diff(logits[i], ref.step(inputs[i], int(i))) < 1e-4);
}

TEST_CASE("model: a tiny GQA model matches the reference for every batch split and thread count") {
    const tiny_model spec{};
    const std::vector<int> inputs = {1, 5, 9, 47, 3, 3, 20, 11, 0, 33, 8, 2, 19, 40, 7, 6};
    reference_model ref(make_tiny(spec), {});
    std::vector<std::vector<float>> expected;
    for (std::size_t i = 0; i < inputs.size(); ++i) expected.push_back(ref.step(inputs[i], int(i)));
    for (int threads : {1, 2, 3}) {
        for (std::size_t n_prompt : {1u, 5u, 16u}) {
            for (std::int64_t batch : {3, 512}) {
                auto m = llmt::model<llmt::presets::llama>::load(make_tiny(spec), {.batch = batch, .threads = threads});
                const auto logits = teacher_forced(m, inputs, n_prompt);
                for (std::size_t i = 0; i < inputs.size(); ++i)
                    CHECK_MESSAGE(rel_diff(logits[i], expected[i]) < 1e-4,
                                  "threads " << threads << " prompt " << n_prompt << " batch " << batch << " pos " << i);
            }
        }
    }
}

TEST_CASE("model: results do not depend on the thread count") {
    const tiny_model spec{};
    const std::vector<int> inputs = {1, 5, 9, 47, 3, 3, 20, 11};
    auto a = llmt::model<llmt::presets::llama>::load(make_tiny(spec), {.threads = 1});
    auto b = llmt::model<llmt::presets::llama>::load(make_tiny(spec), {.threads = 3});
    const auto la = teacher_forced(a, inputs, 3), lb = teacher_forced(b, inputs, 3);
    for (std::size_t i = 0; i < inputs.size(); ++i) CHECK(la[i] == lb[i]);
}

TEST_CASE("model: forward refuses bad input with clear errors") {
    auto m = llmt::model<llmt::presets::llama>::load(make_tiny({}), {.context = 8, .threads = 1});
    const std::vector<int> four = {1, 2, 3, 4};
    m.forward(four, 0);
    CHECK(m.n_past() == 4);
    CHECK_THROWS_WITH_AS(m.forward(four, 5), doctest::Contains("gap"), llmt::error);
    const std::vector<int> bad = {1, 99};
    CHECK_THROWS_WITH_AS(m.forward(bad, 4), doctest::Contains("outside the vocabulary"), llmt::error);
    auto first = m.forward(four, 4);
    const std::vector<float> once(first.begin(), first.end());
    CHECK_THROWS_WITH_AS(m.forward(four, 8), doctest::Contains("context full"), llmt::error);
    // Rewinding drops the later positions and evaluates again: same logits.
    auto second = m.forward(four, 4);
    CHECK(std::vector<float>(second.begin(), second.end()) == once);
    CHECK(m.n_past() == 8);
    m.clear();
    CHECK(m.n_past() == 0);
}

// ---- policies against the reference: grouping × KV policy × KV element, windows, RoPE scalings, norms, FFNs ----

namespace {
template <typename E>
constexpr llmt::quant::qtype qtype_of = E::id;

/// Loads `file` as model<Spec> and checks every position against the reference (prompt of n_prompt tokens
/// in batches of `batch`, then one token at a time).
template <typename Spec>
void check_spec(const tiny_model& t, reference_config rc, std::size_t n_prompt, std::int64_t batch, double tol = 1e-4,
                std::int64_t window = -1) {
    std::vector<int> inputs;
    for (int i = 0; i < 20; ++i) inputs.push_back((i * 7 + 3) % t.n_vocab);
    reference_model ref(make_tiny(t), rc);
    auto m = llmt::model<Spec>::load(make_tiny(t), {.batch = batch, .threads = 2, .sliding_window = window});
    const auto logits = teacher_forced(m, inputs, n_prompt);
    for (std::size_t i = 0; i < inputs.size(); ++i)
        CHECK_MESSAGE(rel_diff(logits[i], ref.step(inputs[i], int(i))) < tol, m.describe() << " pos " << i);
}

template <typename Grouping, typename Kv>
using rms_spec = llmt::model_spec<llmt::rms_norm, Grouping, llmt::rope_normal, llmt::swiglu, Kv, llmt::weight_types<llmt::f32>>;

template <typename E, typename Grouping>
void check_kv_policies(int n_head_kv) {
    tiny_model t;
    t.n_embd = 128;  // head size 32: a q8_0 block per head
    t.n_head = 4;
    t.n_head_kv = n_head_kv;
    reference_config rc;
    rc.kv_type = qtype_of<E>;
    // q8_0 rounds each stored value to 1/127 of its block's largest: a 1e-7 difference of ordinary f32
    // arithmetic (the attention's sum order against the reference's) can move a value across a rounding
    // boundary, a step of ~1e-2 of that value, seen as ~1.5e-4 in the logits (MHA, position 18)
    const double tol = std::is_same_v<E, llmt::q8_0> ? 5e-4 : 1e-4;
    // Whole context, no window.
    check_spec<rms_spec<Grouping, llmt::kv_cache::contiguous<E>>>(t, rc, 12, 5, tol);
    // A window of 6 set by the file, shorter than the prompt: masked in a contiguous cache, a ring in a sliding one.
    t.sliding_window = 6;
    check_spec<rms_spec<Grouping, llmt::kv_cache::contiguous<E>>>(t, rc, 12, 5, tol);
    check_spec<rms_spec<Grouping, llmt::kv_cache::sliding_window<E>>>(t, rc, 12, 5, tol);
    check_spec<rms_spec<Grouping, llmt::kv_cache::sliding_window<E>>>(t, rc, 1, 512, tol);
}
}  // namespace

TEST_CASE_TEMPLATE("model: MHA, GQA and MQA with every KV policy match the reference", E, llmt::f32, llmt::f16, llmt::q8_0) {
    check_kv_policies<E, llmt::mha>(4);
    check_kv_policies<E, llmt::gqa<>>(2);
    check_kv_policies<E, llmt::gqa<2>>(2);
    check_kv_policies<E, llmt::mqa>(1);
}

TEST_CASE("model: a sliding-window model holds the blocks of its window, not of the context") {
    tiny_model t;
    t.sliding_window = 6;
    using ring = rms_spec<llmt::gqa<>, llmt::kv_cache::sliding_window<llmt::f32>>;
    using full = rms_spec<llmt::gqa<>, llmt::kv_cache::contiguous<llmt::f32>>;
    auto r = llmt::model<ring>::load(make_tiny(t), {.context = 128, .batch = 4, .threads = 1});
    auto f = llmt::model<full>::load(make_tiny(t), {.context = 128, .batch = 4, .threads = 1});
    CHECK(r.window() == 6);
    // 128 positions in steps of 4: the whole context holds its 8 blocks of 16 positions, the window of 6
    // the one or two blocks its last positions fall in (paged blocks wholly out of the window are given back)
    std::vector<int> toks(4, 1);
    for (int p = 0; p < 128; p += 4) {
        r.forward(toks, p);
        f.forward(toks, p);
        CHECK(r.kv_stats().blocks_used <= 2);
    }
    CHECK(f.kv_stats().blocks_used == 8);
    CHECK(r.kv_stats().blocks_used >= 1);
    CHECK_THROWS_WITH_AS(r.forward(toks, 60), doctest::Contains("cannot be rewound"), llmt::error);
    r.forward(toks, 124);  // within the window: fine
    // The load option overrides the file's window.
    check_spec<ring>(t, {.window = 3}, 9, 4, 1e-4, 3);
}

TEST_CASE("model: RoPE styles and the scalings GGUF files carry match the reference") {
    using normal = rms_spec<llmt::gqa<>, llmt::kv_cache::contiguous<llmt::f32>>;
    using neox = llmt::model_spec<llmt::rms_norm, llmt::gqa<>, llmt::rope_neox, llmt::swiglu, llmt::kv_cache::contiguous<llmt::f32>,
                                  llmt::weight_types<llmt::f32>>;
    tiny_model t;
    SUBCASE("neox") { check_spec<neox>(t, {.neox = true}, 8, 512); }
    SUBCASE("partial rotation") {
        t.n_rot = 8;  // of a head size of 16
        check_spec<normal>(t, {}, 8, 512);
        check_spec<neox>(t, {.neox = true}, 8, 512);
    }
    SUBCASE("linear") {
        t.rope_scaling = "linear";
        t.rope_factor = 4.0f;
        check_spec<normal>(t, {}, 8, 512);
    }
    SUBCASE("yarn") {
        t.rope_scaling = "yarn";
        t.rope_factor = 4.0f;
        t.rope_orig_ctx = 32;
        t.freq_base = 500.0f;  // a small base puts the blend range inside the 8 frequencies
        check_spec<neox>(t, {.neox = true}, 8, 512);
    }
    SUBCASE("llama3 rope_freqs") {
        t.rope_freqs = true;
        check_spec<normal>(t, {}, 8, 512);
    }
}

TEST_CASE("model: the scaled angles really differ from the unscaled ones") {
    tiny_model t;
    auto plain = llmt::model<llmt::presets::llama>::load(make_tiny(t), {.threads = 1});
    t.rope_scaling = "yarn";
    t.rope_factor = 4.0f;
    t.rope_orig_ctx = 32;
    auto yarn = llmt::model<llmt::presets::llama>::load(make_tiny(t), {.threads = 1});
    CHECK(yarn.params().rope.scaling == llmt::rope_scaling::yarn);
    CHECK(yarn.params().rope.ext_factor == 1.0f);
    const std::vector<int> in = {1, 2, 3, 4, 5, 6, 7, 8};
    const auto a = teacher_forced(plain, in, 8), b = teacher_forced(yarn, in, 8);
    CHECK(rel_diff(a[7], b[7]) > 1e-3);
}

TEST_CASE("model: layer_norm, gelu_mlp, geglu, biases and tied embeddings match the reference") {
    SUBCASE("layer_norm + gelu_mlp + biases + tied output") {
        tiny_model t;
        t.arch = "tinyln";
        t.layer_norm = true;
        t.gated = false;
        t.biases = true;
        t.tied = true;
        t.n_head_kv = 4;
        using spec = llmt::model_spec<llmt::layer_norm, llmt::mha, llmt::rope_neox, llmt::gelu_mlp,
                                      llmt::kv_cache::contiguous<llmt::f16>, llmt::weight_types<llmt::f32>>;
        check_spec<spec>(t, {.norm = reference_config::norm_kind::layer, .ffn = reference_config::ffn_kind::gelu_mlp,
                             .neox = true, .kv_type = llmt::quant::qtype::f16},
                         6, 4);
    }
    SUBCASE("geglu") {
        using spec = llmt::model_spec<llmt::rms_norm, llmt::gqa<>, llmt::rope_normal, llmt::geglu,
                                      llmt::kv_cache::contiguous<llmt::f32>, llmt::weight_types<llmt::f32>>;
        check_spec<spec>(tiny_model{}, {.ffn = reference_config::ffn_kind::geglu}, 6, 512);
    }
}

TEST_CASE("model: quantized weight formats resolve per tensor and stay close to the dequantized reference") {
    for (auto q : {llmt::quant::qtype::q8_0, llmt::quant::qtype::f16, llmt::quant::qtype::q4_0}) {
        tiny_model t;
        t.wtype = q;
        // Activations are quantized to the format's vec_dot_type (f16 for f16, q8_0: ~0.4% per value for the
        // others), the reference keeps them in f32; a wrong format or kernel is off by O(1).
        INFO("weights ", llmt::quant::name(q));
        check_spec<llmt::presets::llama>(t, {}, 6, 512, q == llmt::quant::qtype::f16 ? 0.005 : q == llmt::quant::qtype::q8_0 ? 0.04 : 0.08);
    }
}

TEST_CASE("model: pins, formats and architectures are checked against the file at load") {
    const tiny_model gqa_file{};  // 4 heads, 2 KV heads
    auto load = [&](auto spec_tag, const tiny_model& t, llmt::load_options o = {}) {
        using S = typename decltype(spec_tag)::type;
        return llmt::model<S>::load(make_tiny(t), o);
    };
    using contiguous = llmt::kv_cache::contiguous<llmt::f32>;
    CHECK_NOTHROW(load(std::type_identity<rms_spec<llmt::gqa<2>, contiguous>>{}, gqa_file));
    CHECK_THROWS_WITH_AS(load(std::type_identity<rms_spec<llmt::gqa<4>, contiguous>>{}, gqa_file),
                         doctest::Contains("pins llmt::gqa<4>"), llmt::error);
    CHECK_THROWS_WITH_AS(load(std::type_identity<rms_spec<llmt::mha, contiguous>>{}, gqa_file),
                         doctest::Contains("uses llmt::mha (n_head_kv == n_head) but the file has n_head 4 and n_head_kv 2"), llmt::error);
    CHECK_THROWS_WITH_AS(load(std::type_identity<rms_spec<llmt::mqa, contiguous>>{}, gqa_file), doctest::Contains("uses llmt::mqa"),
                         llmt::error);
    tiny_model q8 = gqa_file;
    q8.wtype = llmt::quant::qtype::q8_0;
    CHECK_THROWS_WITH_AS(load(std::type_identity<rms_spec<llmt::gqa<>, contiguous>>{}, q8),
                         doctest::Contains("tensor 'token_embd.weight' has type q8_0, which this model type does not support: add llmt::quant::q8_0"),
                         llmt::error);
    tiny_model ungated = gqa_file;
    ungated.gated = false;
    CHECK_THROWS_WITH_AS(load(std::type_identity<llmt::presets::llama>{}, ungated), doctest::Contains("'blk.0.ffn_gate.weight' is missing"),
                         llmt::error);
    CHECK_THROWS_WITH_AS(load(std::type_identity<rms_spec<llmt::gqa<>, llmt::kv_cache::sliding_window<llmt::f32>>>{}, gqa_file),
                         doctest::Contains("needs an attention window"), llmt::error);
    CHECK_THROWS_WITH_AS(load(std::type_identity<rms_spec<llmt::gqa<>, llmt::kv_cache::contiguous<llmt::q8_0>>>{}, gqa_file),
                         doctest::Contains("head_dim 16 is not a multiple of the q8_0 block size 32"), llmt::error);
    tiny_model other = gqa_file;
    other.arch = "tinyln";
    CHECK_THROWS_WITH_AS(load(std::type_identity<llmt::presets::llama>{}, other),
                         doctest::Contains("architecture 'tinyln' does not match this model type (expects llama)"), llmt::error);
}

TEST_CASE("load_any: picks the preset from general.architecture; an unknown one is a clear error") {
    auto m = llmt::load_any(models_dir + "stories260K.gguf", {.threads = 1});
    CHECK(m->params().arch == "llama");
    CHECK(m->describe() == "rms_norm gqa rope_normal swiglu kv_cache::contiguous<f16>");  // f16: the default
    std::vector<float> logits(512);
    const std::vector<int> bos = {1};
    m->forward(bos, 0, logits, false);
    CHECK(argmax(logits) == 403);  // llama.cpp's argmax after BOS
    tiny_model t;
    t.arch = "tinyln";
    try {
        llmt::load_any(make_tiny(t));
        FAIL("load_any accepted an unknown architecture");
    } catch (const llmt::error& e) {
        CHECK(e.code() == llmt::errc::unsupported);
        CHECK(std::string(e.what()).find("architecture 'tinyln' is not supported (llmt knows: llama, qwen2, qwen3, gemma3, phi3)") != std::string::npos);
    }
}

TEST_CASE("model: matrices packed for decode at load give the same logits, read into memory or mapped") {
    tiny_model t;
    t.n_embd = 128;  // rows of 128 and 256 values: q4_0's decode layout applies on AVX-512 VNNI
    t.n_ff = 256;
    t.n_vocab = 72;
    t.wtype = llmt::quant::qtype::q4_0;
    std::vector<int> inputs;
    for (int i = 0; i < 16; ++i) inputs.push_back((i * 5 + 1) % t.n_vocab);
    const auto path = std::filesystem::temp_directory_path() / "llmt-test-packed.gguf";
    {
        const auto file = make_tiny(t);
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(file.bytes().data()), std::streamsize(file.bytes().size()));
        REQUIRE(out.good());
    }
    using M = llmt::model<llmt::presets::llama>;
    auto plain = M::load(make_tiny(t), {.batch = 512, .threads = 2, .repack = false});
    const auto want = teacher_forced(plain, inputs, 10);
    for (int threads : {1, 2, 3}) {
        CAPTURE(threads);
        auto in_memory = M::load(make_tiny(t), {.batch = 512, .threads = threads});
        CHECK(teacher_forced(in_memory, inputs, 10) == want);
        for (auto mode : {llmt::io::load_mode::mmap_only, llmt::io::load_mode::read_only}) {
            auto loaded = M::load(path, {.batch = 512, .threads = threads, .mode = mode});
            CHECK(loaded.gguf().is_mapped() == (mode == llmt::io::load_mode::mmap_only));
            CHECK(teacher_forced(loaded, inputs, 10) == want);
        }
    }
    // a mapped file keeps its bytes; one read into memory holds the packed layout where it applies
    auto mapped = M::load(path, {.threads = 1, .mode = llmt::io::load_mode::mmap_only});
    auto read = M::load(path, {.threads = 1, .mode = llmt::io::load_mode::read_only});
    const auto original = make_tiny(t);
    const auto* q = original.find_tensor("blk.0.attn_q.weight");
    REQUIRE(q != nullptr);
    const auto o = original.tensor_data(*q);
    const auto m1 = mapped.gguf().tensor_data(*mapped.gguf().find_tensor("blk.0.attn_q.weight"));
    const auto m2 = read.gguf().tensor_data(*read.gguf().find_tensor("blk.0.attn_q.weight"));
    CHECK(std::equal(o.begin(), o.end(), m1.begin(), m1.end()));
    CHECK(std::equal(o.begin(), o.end(), m2.begin(), m2.end()) == (llmt::simd::active_isa() < llmt::simd::isa::avx512vnni));
    std::filesystem::remove(path);
}

TEST_CASE("model: a sequence's logits are the same bits however its prompt is chunked, for every weight format and thread count") {
    // DESIGN.md §8 (issue 14, exactness): a token's logits must not depend on the batch it was computed in.
    // The prompt as one batch, in chunks of 3 and 7, and one token at a time, on 1, 2 and 3 threads,
    // packed for decode and not: every logit bit for bit equal. Block-size-1 formats get an n_ff that is
    // not a multiple of any vector width (the activations' tail); the K-quants need rows of 256 values.
    using llmt::quant::qtype;
    for (auto q : {qtype::f32, qtype::f16, qtype::bf16, qtype::q8_0, qtype::q4_0, qtype::q4_1, qtype::q5_0, qtype::iq4_nl, qtype::q2_k,
                   qtype::q3_k, qtype::q4_k, qtype::q5_k, qtype::q6_k}) {
        tiny_model t;
        t.wtype = q;
        const int bs = llmt::quant::block_size(q);
        t.n_embd = bs == 256 ? 256 : 128;
        t.n_ff = bs == 1 ? 172 : bs == 32 ? 224 : 512;
        t.n_vocab = 72;
        CAPTURE(llmt::quant::name(q));
        std::vector<int> inputs;
        for (int i = 0; i < 12; ++i) inputs.push_back((i * 7 + 3) % t.n_vocab);
        using M = llmt::model<llmt::presets::llama>;
        auto whole = M::load(make_tiny(t), {.batch = 512, .threads = 2});
        const auto want = teacher_forced(whole, inputs, inputs.size());
        for (int threads : {1, 2, 3})
            for (std::int64_t batch : {1, 3, 7, 512})
                for (bool repack : {true, false}) {
                    CAPTURE(threads);
                    CAPTURE(batch);
                    CAPTURE(repack);
                    auto m = M::load(make_tiny(t), {.batch = batch, .threads = threads, .repack = repack});
                    const auto got = teacher_forced(m, inputs, batch == 1 ? 1 : inputs.size());
                    for (std::size_t i = 0; i < inputs.size(); ++i) CHECK_MESSAGE(got[i] == want[i], "position " << i);
                }
    }
}
