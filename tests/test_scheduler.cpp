// test_scheduler: continuous batching gives each request the tokens it gets alone; admission, preemption, cancel, forks, prefixes
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace {
using namespace llmt;
using runtime::request;
using runtime::request_result;
using runtime::scheduler;
using runtime::stop_reason;
const std::string stories = std::string(LLMT_MODELS_DIR) + "/stories260K/stories260K.gguf";

std::vector<token_id> make_prompt(int len, int salt) {
    std::vector<token_id> p{1};  // BOS
    for (int j = 1; j < len; ++j) p.push_back(token_id(3 + (salt * 37 + j * 11) % 500));
    return p;
}

request make_request(int i, bool ignore_eos = false) {
    request r;
    r.prompt = make_prompt(1 + (i * 7) % 40, i);
    r.max_tokens = 5 + (i * 13) % 40;
    r.seed = 100 + std::uint64_t(i);
    r.ignore_eos = ignore_eos;
    if (i % 2) r.sampler = sampling::chain{top_k{40}, temperature{0.9f}};
    else r.sampler = sampling::chain{greedy{}};
    return r;
}

struct fixture {
    std::unique_ptr<model_base> m = load_any(stories, {.threads = 1});
    tokenizer::tokenizer tok = tokenizer::tokenizer::from_gguf(m->gguf());
};

/// Each request on a fresh context of its own, one at a time.
std::vector<request_result> alone(fixture& f, const std::vector<request>& reqs) {
    std::vector<request_result> out;
    for (const auto& r : reqs) {
        auto ctx = f.m->make_context({});
        scheduler s(*ctx, f.tok);
        const auto id = s.submit(r);
        s.run_until_idle();
        auto res = s.result(id);
        REQUIRE(res);
        out.push_back(std::move(*res));
    }
    return out;
}

void check_same(const std::vector<request_result>& a, const std::vector<request_result>& b) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CAPTURE(i);
        REQUIRE(a[i].samples.size() == b[i].samples.size());
        for (std::size_t k = 0; k < a[i].samples.size(); ++k) {
            CHECK(a[i].samples[k].tokens == b[i].samples[k].tokens);
            CHECK(a[i].samples[k].text == b[i].samples[k].text);
            CHECK(a[i].samples[k].reason == b[i].samples[k].reason);
        }
    }
}
}  // namespace

TEST_CASE("scheduler: 16 requests together give the tokens of each alone") {
    fixture f;
    std::vector<request> reqs;
    for (int i = 0; i < 16; ++i) reqs.push_back(make_request(i));
    const auto solo = alone(f, reqs);
    for (std::int64_t budget : {0, 7}) {  // whole steps, and chunked prefill with a budget of 7 tokens per step
        CAPTURE(budget);
        auto ctx = f.m->make_context({.kv_blocks = 200});
        scheduler s(*ctx, f.tok, {.token_budget = budget});
        std::vector<std::string> streamed(16);
        std::vector<runtime::request_id> ids;
        for (int i = 0; i < 16; ++i) {
            request r = reqs[std::size_t(i)];
            r.on_token = [&streamed, i](int sample, token_id, std::string_view piece) {
                CHECK(sample == 0);
                streamed[std::size_t(i)] += piece;
            };
            ids.push_back(s.submit(std::move(r)));
        }
        s.run_until_idle();
        std::vector<request_result> together;
        for (auto id : ids) together.push_back(*s.result(id));
        check_same(solo, together);
        for (int i = 0; i < 16; ++i) CHECK(streamed[std::size_t(i)] == together[std::size_t(i)].samples[0].text);
        const auto st = s.stats();
        CHECK(st.finished == 16);
        CHECK(st.context.blocks_used == 0);
        CHECK(st.max_batch > 1);
        if (budget == 7) CHECK(st.max_batch <= 7);
        for (const auto& r : together) {
            CHECK(r.samples[0].ttft_ms >= 0);
            CHECK(r.samples[0].token_ms.size() == r.samples[0].tokens.size());
        }
    }
}

TEST_CASE("scheduler: few KV blocks: admission waits, the newest is preempted, the outputs are unchanged") {
    fixture f;
    std::vector<request> reqs;
    for (int i = 0; i < 6; ++i) {
        request r = make_request(i, true);
        r.prompt = make_prompt(40 + i, i);  // 3 blocks of 16 positions: 4 prompts fit the pool of 12
        r.max_tokens = 60;                  // 100+ positions: 7 blocks each, 42 in all
        reqs.push_back(std::move(r));
    }
    const auto solo = alone(f, reqs);
    auto ctx = f.m->make_context({.kv_blocks = 12});
    scheduler s(*ctx, f.tok, {.token_budget = 16});
    std::vector<runtime::request_id> ids;
    for (const auto& r : reqs) ids.push_back(s.submit(r));
    std::int64_t max_running = 0, max_waiting = 0;
    while (s.step()) {
        const auto st = s.stats();
        max_running = std::max(max_running, st.running);
        max_waiting = std::max(max_waiting, st.waiting);
        CHECK(st.context.blocks_used <= 12);
    }
    std::vector<request_result> got;
    for (auto id : ids) got.push_back(*s.result(id));
    check_same(solo, got);
    const auto st = s.stats();
    CHECK(max_running < 6);
    CHECK(max_waiting > 0);
    CHECK(st.preemptions > 0);
    std::int64_t preempted = 0;
    for (const auto& r : got) {
        CHECK(r.samples[0].tokens.size() == 60);
        CHECK(r.samples[0].reason == stop_reason::max_tokens);
        preempted += r.samples[0].preemptions;
    }
    CHECK(preempted == st.preemptions);
    CHECK(st.context.blocks_used == 0);
}

TEST_CASE("scheduler: other threads submit and cancel while the scheduler thread steps") {
    fixture f;
    auto ctx = f.m->make_context({.kv_blocks = 40});
    scheduler s(*ctx, f.tok);
    s.start();
    std::atomic<int> cancelled_seen{0}, done_seen{0};
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c)
        clients.emplace_back([&, c] {
            for (int k = 0; k < 3; ++k) {
                request r = make_request(c * 3 + k, true);
                r.prompt = make_prompt(5 + k, c);
                r.max_tokens = 100;
                std::atomic<int> produced{0};
                r.on_token = [&produced](int, token_id, std::string_view) { produced.fetch_add(1); };
                const bool cancel = (c + k) % 2 == 0;
                const auto id = s.submit(std::move(r));
                if (cancel) {
                    while (produced.load() < 3 + k) std::this_thread::yield();
                    s.cancel(id);
                }
                const auto res = s.wait(id);
                if (cancel) {
                    if (res.samples[0].reason == stop_reason::cancelled && res.samples[0].tokens.size() < 100) ++cancelled_seen;
                } else if (res.samples[0].reason == stop_reason::max_tokens && res.samples[0].tokens.size() == 100) {
                    ++done_seen;
                }
            }
        });
    // a request cancelled through its own flag, before it is ever stepped
    std::atomic<bool> flag{true};
    request r = make_request(3);
    r.cancel = &flag;
    const auto flagged = s.submit(std::move(r));
    for (auto& t : clients) t.join();
    const auto fr = s.wait(flagged);
    CHECK(fr.samples[0].reason == stop_reason::cancelled);
    CHECK(fr.samples[0].tokens.empty());
    while (!s.idle()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s.stop();
    CHECK(cancelled_seen == 6);
    CHECK(done_seen == 6);
    const auto st = s.stats();
    CHECK(st.cancelled == 7);
    CHECK(st.finished == 13);
    CHECK(st.context.blocks_used == 0);
    CHECK(st.context.sequences == 0);
}

TEST_CASE("scheduler: n = 4 samples evaluate the prompt once and fork it") {
    fixture f;
    const auto prompt = make_prompt(37, 5);
    for (bool greedy_sampling : {true, false}) {
        CAPTURE(greedy_sampling);
        request r;
        r.prompt = prompt;
        r.max_tokens = 30;
        r.n = 4;
        r.seed = 7;
        r.ignore_eos = true;
        r.sampler = greedy_sampling ? sampling::chain{greedy{}} : sampling::chain{temperature{1.0f}};
        auto ctx = f.m->make_context({});
        scheduler s(*ctx, f.tok);
        const auto id = s.submit(r);
        s.run_until_idle();
        const auto res = *s.result(id);
        const auto st = s.stats();
        CHECK(st.forks == 3);
        CHECK(st.prefill_tokens == std::int64_t(prompt.size()));
        CHECK(st.context.blocks_used == 0);
        REQUIRE(res.samples.size() == 4);
        bool all_same = true;
        for (const auto& smp : res.samples) {
            CHECK(smp.tokens.size() == 30);
            all_same = all_same && smp.tokens == res.samples[0].tokens;
        }
        CHECK(all_same == greedy_sampling);
        // sample i is what a request of one sample seeded seed + i gives
        std::vector<request> singles;
        for (int i = 0; i < 4; ++i) {
            request one = r;
            one.n = 1;
            one.seed = r.seed + std::uint64_t(i);
            singles.push_back(one);
        }
        const auto solo = alone(f, singles);
        for (int i = 0; i < 4; ++i) CHECK(solo[std::size_t(i)].samples[0].tokens == res.samples[std::size_t(i)].tokens);
    }
}

TEST_CASE("scheduler: a later request reuses the cached blocks of a shared system prompt") {
    fixture f;
    const auto system = make_prompt(70, 9);
    auto with_suffix = [&](int salt) {
        request r;
        r.prompt = system;
        for (int j = 0; j < 5 + salt; ++j) r.prompt.push_back(token_id(3 + (salt * 101 + j * 7) % 500));
        r.max_tokens = 20;
        r.sampler = sampling::chain{greedy{}};
        return r;
    };
    const std::vector<request> reqs{with_suffix(1), with_suffix(2)};
    const auto solo = alone(f, reqs);
    auto ctx = f.m->make_context({});
    scheduler s(*ctx, f.tok);
    const auto a = s.submit(reqs[0]);
    s.run_until_idle();
    CHECK(s.stats().prefix_tokens_reused == 0);
    const auto b = s.submit(reqs[1]);
    s.run_until_idle();
    const auto st = s.stats();
    CHECK(st.prefix_tokens_reused >= 64);  // 4 full blocks of 16 positions of the 70-token system prompt
    CHECK(st.context.prefix_tokens_reused >= 64);
    check_same(solo, {*s.result(a), *s.result(b)});
}

TEST_CASE("scheduler: a short request does not wait behind a long prompt for more than a step") {
    fixture f;
    auto ctx = f.m->make_context({});
    scheduler s(*ctx, f.tok, {.token_budget = 16});
    request lng = make_request(0, true), shrt = make_request(2, true);
    lng.prompt = make_prompt(100, 3);
    lng.max_tokens = 3;
    shrt.prompt = make_prompt(5, 4);
    shrt.max_tokens = 3;
    std::int64_t long_first = -1, short_first = -1;
    lng.on_token = [&](int, token_id, std::string_view) {
        if (long_first < 0) long_first = s.stats().steps;
    };
    shrt.on_token = [&](int, token_id, std::string_view) {
        if (short_first < 0) short_first = s.stats().steps;
    };
    const auto a = s.submit(lng), b = s.submit(shrt);
    s.run_until_idle();
    CHECK(short_first == 2);  // admitted in the second step, beside the long prompt's chunk
    CHECK(long_first >= 7);   // 100 tokens at most 16 per step
    const auto solo = alone(f, {lng, shrt});
    check_same(solo, {*s.result(a), *s.result(b)});
}

TEST_CASE("scheduler: stop strings cut the text; max_tokens 0 samples nothing") {
    fixture f;
    request r = make_request(0, true);
    r.max_tokens = 40;
    const auto first = alone(f, {r})[0].samples[0];
    REQUIRE(first.text.size() > 20);
    const std::string stop = first.text.substr(10, 4);
    r.stop = {stop};
    const auto cut = alone(f, {r})[0].samples[0];
    CHECK(cut.reason == stop_reason::stop_string);
    CHECK(cut.text == first.text.substr(0, first.text.find(stop)));
    r.max_tokens = 0;
    const auto none = alone(f, {r})[0].samples[0];
    CHECK(none.tokens.empty());
    CHECK(none.reason == stop_reason::max_tokens);
}

TEST_CASE("scheduler: a callback that throws on the background thread makes wait() throw") {
    fixture f;
    auto ctx = f.m->make_context({});
    scheduler s(*ctx, f.tok);
    request r = make_request(0, true);
    r.on_token = [](int, token_id, std::string_view) { throw llmt::error(errc::runtime, "client gone"); };
    const auto id = s.submit(std::move(r));
    s.start();
    CHECK_THROWS_WITH_AS(s.wait(id), "client gone", llmt::error);
    s.stop();
}

TEST_CASE("scheduler: bad requests are errors at submit") {
    fixture f;
    auto ctx = f.m->make_context({});
    scheduler s(*ctx, f.tok);
    auto bad = [&](auto change) {
        request r = make_request(1);
        change(r);
        CHECK_THROWS_AS(s.submit(std::move(r)), llmt::error);
    };
    bad([](request& r) { r.prompt.clear(); });
    bad([&](request& r) { r.prompt.push_back(token_id(f.m->n_vocab())); });
    bad([](request& r) { r.prompt.push_back(-1); });
    bad([](request& r) { r.n = 0; });
    bad([](request& r) { r.max_tokens = -1; });
    bad([&](request& r) { r.prompt = make_prompt(int(ctx->n_ctx()), 1); });
    CHECK(s.stats().submitted == 0);
    CHECK_THROWS_AS(scheduler(*ctx, f.tok, {.token_budget = -1}), llmt::error);
    CHECK(s.idle());
}

TEST_CASE("scheduler: log-probabilities of the sampled tokens, cached prompt tokens, the done callback") {
    fixture f;
    const auto system = make_prompt(70, 9);
    request r;
    r.prompt = system;
    r.prompt.push_back(17);
    r.max_tokens = 12;
    r.ignore_eos = true;
    r.top_logprobs = 5;
    r.sampler = sampling::chain{greedy{}};
    int streamed = 0, done = 0;
    r.on_logprob = [&](int sample, const runtime::token_logprob& lp) {
        CHECK(sample == 0);
        CHECK(lp.top.size() == 5);
        ++streamed;
    };
    r.on_done = [&] { ++done; };
    auto ctx = f.m->make_context({});
    scheduler s(*ctx, f.tok);
    const auto a = s.submit(r);
    s.run_until_idle();
    CHECK(done == 1);
    const auto ra = *s.result(a);
    CHECK(ra.cached_tokens == 0);
    const auto& smp = ra.samples[0];
    REQUIRE(smp.logprobs.size() == smp.tokens.size());
    CHECK(streamed == int(smp.tokens.size()));
    // the logits of the first sampled token, evaluated alone
    std::vector<float> lg(std::size_t(f.m->n_vocab()));
    auto solo = f.m->make_context({});
    const auto seq = solo->create();
    solo->forward(seq, r.prompt, 0, lg, false);
    double total = 0;
    for (const float x : lg) total += std::exp(double(x - lg[std::size_t(smp.tokens[0])]));
    CHECK(smp.logprobs[0].logprob == doctest::Approx(-std::log(total)).epsilon(1e-4));
    for (std::size_t k = 0; k < smp.tokens.size(); ++k) {
        const auto& lp = smp.logprobs[k];
        CHECK(lp.token == smp.tokens[k]);
        CHECK(lp.logprob <= 0.0f);
        REQUIRE(lp.top.size() == 5);
        CHECK(lp.top[0].first == lp.token);  // greedy picks the most likely token
        CHECK(lp.top[0].second == doctest::Approx(lp.logprob));
        for (std::size_t j = 1; j < 5; ++j) CHECK(lp.top[j].second <= lp.top[j - 1].second);
    }
    // the same system prompt again: its full blocks come from the prefix cache
    r.prompt.back() = 23;
    r.top_logprobs = -1;
    r.on_logprob = {};
    const auto b = s.submit(r);
    s.run_until_idle();
    CHECK(done == 2);
    const auto rb = *s.result(b);
    CHECK(rb.cached_tokens >= 64);
    CHECK(rb.samples[0].logprobs.empty());
    request bad = r;
    bad.top_logprobs = 65;
    CHECK_THROWS_AS(s.submit(bad), llmt::error);
}
