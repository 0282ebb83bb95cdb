// test_arch: each architecture of model/arch/ (qwen2, qwen3, gemma3, phi3) against the scalar reference forward
#include <llmt/llmt.hpp>

#include "model_fixtures.hpp"
#include "reference_forward.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

namespace {
using namespace llmt_test;

double rel_diff_arch(std::span<const float> a, std::span<const float> b) {
    double m = 0, d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        m = std::max(m, double(std::fabs(b[i])));
        d = std::max(d, double(std::fabs(a[i] - b[i])));
    }
    return d / std::max(m, 1e-30);
}

/// model<Preset> on the tiny file t, 20 inputs: a prompt of n_prompt tokens in batches of `batch`,
/// then one at a time; every position's logits within 1e-4 (relative) of the reference forward.
template <typename Preset>
void check_arch(const tiny_model& t, reference_config rc, std::size_t n_prompt, std::int64_t batch, double tol = 1e-4) {
    std::vector<int> inputs;
    for (int i = 0; i < 20; ++i) inputs.push_back((i * 7 + 3) % t.n_vocab);
    reference_model ref(make_tiny(t), rc);
    auto m = llmt::model<Preset>::load(make_tiny(t), {.batch = batch, .threads = 2});
    const auto V = std::size_t(m.n_vocab());
    std::vector<float> prompt(n_prompt * V);
    m.forward(std::span<const int>(inputs.data(), n_prompt), 0, prompt, true);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        std::vector<float> got;
        if (i < n_prompt) got.assign(prompt.begin() + std::ptrdiff_t(i * V), prompt.begin() + std::ptrdiff_t((i + 1) * V));
        else {
            const auto l = m.forward(std::span<const int>(&inputs[i], 1), std::int64_t(i));
            got.assign(l.begin(), l.end());
        }
        CHECK_MESSAGE(rel_diff_arch(got, ref.step(inputs[i], int(i))) < tol, t.arch << " pos " << i);
    }
}
}  // namespace

TEST_CASE("arch: qwen2 (biases on Q, K, V; NeoX RoPE) matches the reference") {
    tiny_model t;
    t.arch = "qwen2";
    t.biases = true;
    check_arch<llmt::presets::qwen2>(t, {.neox = true}, 12, 5);
    check_arch<llmt::presets::qwen2>(t, {.neox = true}, 1, 512);
}

TEST_CASE("arch: qwen3 (per-head QK RMSNorm, head size from key_length) matches the reference") {
    tiny_model t;
    t.arch = "qwen3";
    t.qk_norm = true;
    t.head_dim = 24;  // n_head × head size = 96 ≠ n_embd 64
    check_arch<llmt::presets::qwen3>(t, {.neox = true}, 12, 5);
}

TEST_CASE("arch: gemma3 (scaled embeddings, sandwich norms, QK-norm, local and global layers) matches the reference") {
    tiny_model t;
    t.arch = "gemma3";
    t.n_layer = 4;
    t.qk_norm = true;
    t.sandwich = true;
    t.sliding_window = 5;  // shorter than the 20 positions: the local layers' window matters
    t.swa_pattern = 2;     // local, global, local, global
    t.freq_base = 1e6f;
    t.freq_base_swa = 1e4f;
    check_arch<llmt::presets::gemma3>(t, {.ffn = reference_config::ffn_kind::geglu, .neox = true}, 12, 5);
    check_arch<llmt::presets::gemma3>(t, {.ffn = reference_config::ffn_kind::geglu, .neox = true}, 1, 512);
    // The default pattern (6: five local layers, then a global one) and head size from the file.
    t.n_layer = 6;
    t.swa_pattern = 0;
    t.head_dim = 32;
    check_arch<llmt::presets::gemma3>(t, {.ffn = reference_config::ffn_kind::geglu, .neox = true}, 12, 5);
    auto m = llmt::model<llmt::presets::gemma3>::load(make_tiny(t), {.threads = 1});
    for (int l = 0; l < 6; ++l) CHECK(m.params().layer[std::size_t(l)].window == (l == 5 ? 0 : 5));
    CHECK(m.params().embed_scale == doctest::Approx(std::sqrt(64.0)));
}

TEST_CASE("arch: phi3 (fused QKV and gate-up, LongRoPE short factors) matches the reference") {
    tiny_model t;
    t.arch = "phi3";
    t.fused = true;
    t.longrope = true;
    t.rope_orig_ctx = 128;  // the context (128) is within it: the short factors
    check_arch<llmt::presets::phi3>(t, {.neox = true}, 12, 5);
    check_arch<llmt::presets::phi3>(t, {.neox = true}, 1, 512);
    // Q8_0 fused matrices: row ranges of quantized blocks. The model dots them with Q8_0-rounded
    // activations, the reference with exact ones: 2e-2 measured, where a misplaced range gives O(1).
    t.longrope = false;
    t.wtype = llmt::quant::qtype::q8_0;
    t.n_embd = 128;
    check_arch<llmt::presets::phi3>(t, {.neox = true}, 12, 5, 0.05);
}

TEST_CASE("arch: load_any picks the architecture's preset, and names the known ones for another") {
    for (const std::string a : {"qwen2", "qwen3", "gemma3", "phi3"}) {
        tiny_model t;
        t.arch = a;
        t.qk_norm = a == "qwen3" || a == "gemma3";
        t.sandwich = a == "gemma3";
        t.fused = a == "phi3";
        auto m = llmt::load_any(make_tiny(t), {.threads = 1});
        CHECK(m->params().arch == a);
    }
    tiny_model t;
    t.arch = "olmo2";
    try {
        (void)llmt::load_any(make_tiny(t), {.threads = 1});
        FAIL("olmo2 loaded");
    } catch (const llmt::error& e) {
        CHECK(std::string(e.what()).find("architecture 'olmo2' is not supported (llmt knows: llama, qwen2, qwen3, gemma3, phi3)") !=
              std::string::npos);
    }
    // A gemma3 file without its QK-norm tensors is refused naming the missing one.
    t.arch = "gemma3";
    t.sandwich = true;
    CHECK_THROWS_WITH_AS((void)llmt::model<llmt::presets::gemma3>::load(make_tiny(t), {.threads = 1}),
                         doctest::Contains("'blk.0.attn_q_norm.weight' is missing"), llmt::error);
}
