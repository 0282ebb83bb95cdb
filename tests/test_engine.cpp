// test_engine: many sequences on one model: batches of mixed sequences, prefix reuse and forks give the bits of one sequence alone
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include "model_fixtures.hpp"

#include <cstdint>
#include <cstring>
#include <algorithm>
#include <cmath>
#include <random>
#include <map>
#include <string>
#include <vector>

namespace {
using namespace llmt;
using llmt_test::make_tiny;
using llmt_test::tiny_model;
const std::string stories = std::string(LLMT_MODELS_DIR) + "/stories260K/stories260K.gguf";
const std::string stories_q4 = std::string(LLMT_MODELS_DIR) + "/stories260K/stories260K-Q4_0.gguf";

bool same_bits(std::span<const float> a, std::span<const float> b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

/// A request: a prompt, then greedy or seeded sampling for n tokens; every logit row it saw.
struct request {
    std::vector<token_id> prompt;
    int n_gen = 0;
    std::uint64_t seed = 0;
    bool greedy = true;
    // results
    std::vector<token_id> out;
    std::vector<std::vector<float>> logits;  // the logits of the last prompt token, then of every generated one
};

token_id pick(std::span<const float> l, request& r, std::mt19937_64& rng) {
    if (r.greedy) return token_id(std::max_element(l.begin(), l.end()) - l.begin());
    // a seeded draw from the softmax: the same logits give the same token
    const float mx = *std::max_element(l.begin(), l.end());
    double sum = 0;
    std::vector<double> p(l.size());
    for (std::size_t i = 0; i < l.size(); ++i) sum += p[i] = std::exp(double(l[i] - mx));
    double u = double(rng() >> 11) * 0x1p-53 * sum;
    for (std::size_t i = 0; i < l.size(); ++i)
        if ((u -= p[i]) <= 0) return token_id(i);
    return token_id(l.size() - 1);
}

/// Runs the requests on ctx: all together (prompts fed in chunks of `chunk` tokens per sequence per step,
/// mixed with the decode tokens of the others), or one at a time when `together` is false.
void run(context_base& ctx, std::vector<request>& reqs, bool together, std::int64_t chunk) {
    struct live {
        seq_id s;
        std::size_t fed = 0;  // prompt tokens fed
        std::mt19937_64 rng;
        token_id next = -1;
    };
    auto go = [&](std::vector<std::size_t> idx) {
        std::vector<live> L;
        for (std::size_t i : idx) L.push_back({ctx.create(), 0, std::mt19937_64(reqs[i].seed), -1});
        batch b;
        for (;;) {
            b.clear();
            std::vector<std::pair<std::size_t, std::size_t>> wants;  // (request, batch index)
            for (std::size_t k = 0; k < idx.size(); ++k) {
                request& r = reqs[idx[k]];
                live& l = L[k];
                if (int(r.out.size()) >= r.n_gen) continue;
                if (l.fed < r.prompt.size()) {
                    const std::size_t m = std::min<std::size_t>(std::size_t(chunk), r.prompt.size() - l.fed);
                    for (std::size_t j = 0; j < m; ++j) {
                        const bool last = l.fed + j + 1 == r.prompt.size();
                        if (last) wants.emplace_back(idx[k], b.size());
                        b.add(r.prompt[l.fed + j], std::int64_t(l.fed + j), l.s, last);
                    }
                    l.fed += m;
                } else {
                    wants.emplace_back(idx[k], b.size());
                    b.add(l.next, ctx.size(l.s), l.s, true);
                }
            }
            if (b.empty()) break;
            ctx.decode(b);
            for (auto [ri, bi] : wants) {
                request& r = reqs[ri];
                const auto lg = ctx.logits(bi);
                r.logits.emplace_back(lg.begin(), lg.end());
                std::size_t k = std::size_t(std::find(idx.begin(), idx.end(), ri) - idx.begin());
                L[k].next = pick(lg, r, L[k].rng);
                r.out.push_back(L[k].next);
            }
        }
        for (auto& l : L) ctx.remove(l.s);
    };
    if (together) {
        std::vector<std::size_t> all;
        for (std::size_t i = 0; i < reqs.size(); ++i) all.push_back(i);
        go(all);
    } else {
        for (std::size_t i = 0; i < reqs.size(); ++i) go({i});
    }
}

std::vector<request> eight_requests(std::int64_t n_vocab) {
    std::vector<request> reqs;
    for (int i = 0; i < 8; ++i) {
        request r;
        const int len = 1 + (i * 5) % 23;
        for (int j = 0; j < len; ++j) r.prompt.push_back(token_id((1 + i * 37 + j * 11) % n_vocab));
        r.n_gen = 6 + i * 3;
        r.seed = 1000 + std::uint64_t(i);
        r.greedy = i % 2 == 0;
        reqs.push_back(std::move(r));
    }
    return reqs;
}

void check_same(const std::vector<request>& a, const std::vector<request>& b, const std::string& what) {
    REQUIRE(a.size() == b.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        CAPTURE(what);
        CAPTURE(i);
        CHECK(a[i].out == b[i].out);
        REQUIRE(a[i].logits.size() == b[i].logits.size());
        for (std::size_t j = 0; j < a[i].logits.size(); ++j)
            CHECK_MESSAGE(same_bits(a[i].logits[j], b[i].logits[j]), "request " << i << " logits row " << j << " differ");
    }
}
}  // namespace

TEST_CASE("engine: 8 sequences together give every token and logit bit of each alone") {
    for (const std::string& path : {stories, stories_q4}) {
        CAPTURE(path);
        for (int threads : {1, 2}) {
            auto m = load_any(path, {.threads = threads});
            auto ctx = m->make_context({.batch = 64, .kv_blocks = 64});
            auto alone = eight_requests(m->n_vocab());
            run(*ctx, alone, false, 1000);
            // together, prompts whole or in chunks of 3 (chunked prefill mixed with decode tokens)
            for (std::int64_t chunk : {1000, 3}) {
                auto together = eight_requests(m->n_vocab());
                run(*ctx, together, true, chunk);
                check_same(alone, together, chunk == 3 ? "together, chunks of 3" : "together");
            }
            // a context whose step is smaller than the batch (decode splits it) and other threads
            auto small = m->make_context({.batch = 5, .kv_blocks = 64, .threads = 3 - threads});
            auto split = eight_requests(m->n_vocab());
            run(*small, split, true, 1000);
            check_same(alone, split, "split batches, other thread count");
        }
    }
}

TEST_CASE("engine: two sessions on one model keep their own conversations") {
    auto m = load_any(stories, {.threads = 1});
    session a(*m, sampling::chain{greedy{}}, 1), b(*m, sampling::chain{greedy{}}, 1);
    const auto ra = a.generate("Once upon a time", {.max_tokens = 12});
    const auto rb = b.generate("The little dog", {.max_tokens = 12});
    const auto ra2 = a.generate(" Then", {.max_tokens = 12});
    // the same conversation in a fresh session, alone
    session c(*m, sampling::chain{greedy{}}, 1);
    c.generate("Once upon a time", {.max_tokens = 12});
    const auto rc2 = c.generate(" Then", {.max_tokens = 12});
    CHECK(ra2.tokens == rc2.tokens);
    session d(*m, sampling::chain{greedy{}}, 1);
    CHECK(d.generate("The little dog", {.max_tokens = 12}).tokens == rb.tokens);
    CHECK(ra.tokens.size() == 12);
}

TEST_CASE("engine: a prefix mapped from the cache and a fork give the bits of a full evaluation") {
    auto m = load_any(stories, {.threads = 2});
    auto ctx = m->make_context({.batch = 64});
    std::vector<token_id> prompt;
    for (int j = 0; j < 45; ++j) prompt.push_back(token_id((7 + j * 13) % m->n_vocab()));
    auto eval = [&](seq_id s, std::int64_t from) {
        batch b;
        for (std::size_t j = std::size_t(from); j < prompt.size(); ++j) b.add(prompt[j], std::int64_t(j), s, j + 1 == prompt.size());
        ctx->decode(b);
        const auto l = ctx->logits(b.size() - 1);
        return std::vector<float>(l.begin(), l.end());
    };
    const seq_id a = ctx->create();
    const auto full = eval(a, 0);
    // a second sequence with the same prompt maps the two full blocks (32 positions) a is still using
    const seq_id b = ctx->create();
    const std::int64_t mapped = ctx->match_prefix(b, prompt);
    CHECK(mapped == 32);
    CHECK(ctx->size(b) == 32);
    CHECK(same_bits(eval(b, mapped), full));
    const auto st = ctx->stats();
    CHECK(st.prefix_hits == 1);
    CHECK(st.prefix_tokens_reused == 32);
    // a fork continues exactly as its parent would
    const seq_id f = ctx->fork(a);
    CHECK(ctx->size(f) == 45);
    batch one;
    one.add(5, 45, a, true);
    ctx->decode(one);
    const auto la = std::vector<float>(ctx->logits(0).begin(), ctx->logits(0).end());
    one.clear();
    one.add(5, 45, f, true);
    ctx->decode(one);
    CHECK(same_bits(ctx->logits(0), la));
    CHECK(ctx->tokens(f).size() == 46);
}

TEST_CASE("engine: bad batches are clear errors and leave the context usable") {
    auto m = load_any(stories, {.threads = 1});
    auto ctx = m->make_context({.context = 64, .batch = 16, .kv_blocks = 3});
    const seq_id s = ctx->create();
    batch b;
    b.add(1, 0, 77, true);
    CHECK_THROWS_WITH_AS(ctx->decode(b), doctest::Contains("sequence 77, which does not exist"), llmt::error);
    b.clear();
    b.add(1, 1, s, true);
    CHECK_THROWS_WITH_AS(ctx->decode(b), doctest::Contains("next position is 0"), llmt::error);
    b.clear();
    b.add(1, 0, s, false);
    b.add(int(m->n_vocab()), 1, s, true);
    CHECK_THROWS_WITH_AS(ctx->decode(b), doctest::Contains("outside the vocabulary"), llmt::error);
    CHECK(ctx->size(s) == 0);
    CHECK_THROWS_WITH_AS(ctx->decode(batch{}), doctest::Contains("empty"), llmt::error);
    // 3 blocks of 16 positions: 40 tokens fit, 60 do not; nothing changes when they do not
    b.clear();
    for (int j = 0; j < 60; ++j) b.add(token_id(1 + j % 50), j, s, j == 59);
    CHECK_THROWS_WITH_AS(ctx->decode(b), doctest::Contains("kv cache full"), llmt::error);
    CHECK(ctx->size(s) == 0);
    b.clear();
    for (int j = 0; j < 40; ++j) b.add(token_id(1 + j % 50), j, s, j == 39);
    ctx->decode(b);
    CHECK(ctx->size(s) == 40);
    CHECK(ctx->logits(39).size() == std::size_t(m->n_vocab()));
    CHECK_THROWS_WITH_AS((void)ctx->logits(3), doctest::Contains("did not ask for its logits"), llmt::error);
    // a budget smaller than one block is refused when the context is made
    CHECK_THROWS_WITH_AS((void)m->make_context({.kv_bytes = 100}), doctest::Contains("less than one KV block"), llmt::error);
    CHECK_THROWS_WITH_AS((void)m->make_context({.context = 1 << 20}), doctest::Contains("context_options::context"), llmt::error);
}
