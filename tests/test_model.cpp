// test_model: model<Spec> against llama.cpp's stories260K logits and against the scalar reference forward pass
#include <llmt/llmt.hpp>

#include "model_fixtures.hpp"
#include "reference_forward.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
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
