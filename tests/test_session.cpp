// test_session: the text stream (UTF-8-safe, stop strings) and the generation session on stories260K
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <vector>

namespace {
using namespace llmt;
const std::string stories = std::string(LLMT_MODELS_DIR) + "/stories260K/stories260K.gguf";
}  // namespace

TEST_CASE("text_stream: never splits a UTF-8 character, never shows part of a stop string") {
    CHECK(runtime::utf8_complete_prefix("ab\xE2\x82") == 2);
    CHECK(runtime::utf8_complete_prefix("ab\xE2\x82\xAC") == 5);
    CHECK(runtime::utf8_complete_prefix("\xF0\x9F\x98") == 0);
    CHECK(runtime::utf8_complete_prefix("\x80\x80") == 2);  // malformed: passed through
    runtime::text_stream s({"STOP"});
    CHECK(s.push("a\xE2") == "a");
    CHECK(s.push("\x82") == "");
    CHECK(s.push("\xAC b S") == "\xE2\x82\xAC b ");
    CHECK(s.push("T") == "");
    CHECK(s.find_stop(0) == std::string::npos);
    CHECK(s.push("x") == "STx");
    CHECK(s.push("ST") == "");
    CHECK(s.push("OP!") == "");
    const auto at = s.find_stop(0);
    REQUIRE(at != std::string::npos);
    CHECK(s.finish(at) == "");
    CHECK(s.text() == "a\xE2\x82\xAC b STx");
}

TEST_CASE("session: greedy generation, max tokens, timings, stop strings, streaming") {
    auto m = load_any(stories, {.threads = 1});
    session s(*m, sampling::chain{greedy{}}, 1);
    std::string streamed;
    auto r = s.generate("Once upon a time", {.max_tokens = 64}, [&](std::string_view p) { streamed += p; });
    CHECK(r.reason == runtime::stop_reason::max_tokens);
    CHECK(r.tokens.size() == 64);
    CHECK(r.time.n_prompt == 5);
    CHECK(r.time.n_gen == 64);
    CHECK(streamed == r.text);
    CHECK(r.text.rfind(", there was a little girl named Lily.", 0) == 0);

    s.reset();
    streamed.clear();
    r = s.generate("Once upon a time", {.max_tokens = 64, .stop = {"little"}}, [&](std::string_view p) { streamed += p; });
    CHECK(r.reason == runtime::stop_reason::stop_string);
    CHECK(r.text == ", there was a ");
    CHECK(streamed == r.text);
}

TEST_CASE("session: end-of-generation token, cancellation, context full and context shift") {
    auto m = load_any(stories, {.context = 16, .threads = 1});
    const token_id eos = 2;
    session forced(*m, sampling::chain{logit_bias{{{eos, 1000.0f}}}, greedy{}}, 1);
    auto r = forced.generate("Once upon a time", {.max_tokens = 10});
    CHECK(r.reason == runtime::stop_reason::end_of_generation);
    CHECK(r.tokens == std::vector<token_id>{eos});
    CHECK(r.text.empty());

    session s(*m, sampling::chain{greedy{}}, 1);
    std::atomic<bool> cancel{false};
    int pieces = 0;
    r = s.generate("Once upon a time", {.max_tokens = 8, .cancel = &cancel}, [&](std::string_view) {
        if (++pieces == 2) cancel = true;
    });
    CHECK(r.reason == runtime::stop_reason::cancelled);
    CHECK(r.tokens.size() < 8);

    s.reset();
    CHECK_THROWS_WITH_AS(s.generate("Once upon a time", {.max_tokens = 40}), doctest::Contains("context full"), llmt::error);
    s.reset();
    r = s.generate("Once upon a time", {.max_tokens = 40, .context_full = runtime::on_context_full::shift});
    CHECK(r.reason == runtime::stop_reason::max_tokens);
    CHECK(r.tokens.size() == 40);
    CHECK(m->n_past() <= 16);  // the last sampled token is not evaluated yet
    CHECK(s.sequence().front() == 1);  // the BOS is kept by the shift
}

TEST_CASE("session: a continued conversation equals evaluating the whole sequence at once") {
    auto m = load_any(stories, {.threads = 1});
    session s(*m, sampling::chain{greedy{}}, 1);
    s.generate("Once upon a time", {.max_tokens = 6});
    auto r2 = s.generate(" The end.", {.max_tokens = 6});
    const auto seq = s.sequence();

    auto m2 = load_any(stories, {.threads = 2});
    session fresh(*m2, sampling::chain{greedy{}}, 1);
    const std::vector<token_id> prefix(seq.begin(), seq.end() - 6);
    auto r3 = fresh.generate_from(prefix, {.max_tokens = 6});
    CHECK(r3.tokens == r2.tokens);
    // Rendering the same conversation again reuses the cache: only the new token is evaluated.
    auto r4 = fresh.generate_from(fresh.sequence(), {.max_tokens = 1});
    CHECK(r4.time.n_prompt == 1);
}

TEST_CASE("session: the same seed gives the same tokens whatever the thread count") {
    std::vector<token_id> first;
    for (int threads : {1, 2, 3}) {
        auto m = load_any(stories, {.threads = threads});
        session s(*m, sampling::chain{top_k{40}, top_p{0.95f}, min_p{0.05f}, temperature{0.8f}}, 1234);
        const auto r = s.generate("Once upon a time", {.max_tokens = 48});
        if (first.empty()) first = r.tokens;
        CHECK(r.tokens == first);
    }
    auto m = load_any(stories, {.threads = 1});
    session other(*m, sampling::chain{top_k{40}, top_p{0.95f}, min_p{0.05f}, temperature{0.8f}}, 99);
    CHECK(other.generate("Once upon a time", {.max_tokens = 48}).tokens != first);
}
