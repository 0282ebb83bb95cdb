// test_sampling: each sampler's effect, the chain order, seeded reproducibility and statistics
#include <llmt/sampling/chain.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <vector>

namespace {
namespace smp = llmt::sampling;
using llmt::token_id;
constexpr float neg_inf = -std::numeric_limits<float>::infinity();

std::vector<float> random_logits(std::size_t n, std::uint64_t seed) {
    smp::rng g(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = float(g.uniform() * 20.0 - 10.0);
    return v;
}

std::vector<float> logits_of(const std::vector<double>& probs) {
    std::vector<float> v;
    for (double p : probs) v.push_back(p > 0 ? float(std::log(p)) : neg_inf);
    return v;
}

smp::candidate_array filled(const std::vector<float>& logits) {
    smp::candidate_array c;
    c.fill(logits);
    return c;
}

std::vector<token_id> ids(const smp::candidate_array& c) {
    std::vector<token_id> r;
    for (const auto& x : c.view()) r.push_back(x.id);
    return r;
}

// Ids of the k highest logits, by an independent full sort.
std::vector<token_id> reference_top(const std::vector<float>& logits, std::size_t k) {
    std::vector<token_id> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](token_id a, token_id b) { return logits[a] > logits[b]; });
    order.resize(std::min(k, order.size()));
    return order;
}

std::vector<double> softmax_ref(const std::vector<float>& logits) {
    const double m = *std::max_element(logits.begin(), logits.end());
    std::vector<double> p;
    double s = 0;
    for (float l : logits) s += std::exp(l - m);
    for (float l : logits) p.push_back(std::exp(l - m) / s);
    return p;
}

template <typename F>
llmt::errc error_code_of(F&& f) {
    try {
        f();
    } catch (const llmt::error& e) {
        return e.code();
    }
    FAIL("no llmt::error thrown");
    return llmt::errc::runtime;
}
}  // namespace

TEST_CASE("rng: xoshiro256** reference vectors, seeding, uniform range") {
    smp::rng g;
    g.set_state({1, 2, 3, 4});
    // First outputs of xoshiro256** from state {1, 2, 3, 4} (the reference implementation's stream).
    CHECK(g.next() == 11520u);
    CHECK(g.next() == 0u);
    CHECK(g.next() == 1509978240u);
    CHECK(g.next() == 1215971899390074240u);

    smp::rng a(7), b(7), c(8);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const auto x = a.next();
        CHECK(x == b.next());
        differs |= x != c.next();
    }
    CHECK(differs);
    a.reseed(7);
    b.reseed(7);
    for (int i = 0; i < 1000; ++i) {
        const double u = a.uniform();
        CHECK(u >= 0.0);
        CHECK(u < 1.0);
        CHECK(u == b.uniform());
    }
}

TEST_CASE("candidates: bad logits are clear errors") {
    smp::candidate_array c;
    CHECK(error_code_of([&] { c.fill({}); }) == llmt::errc::invalid_argument);
    const std::vector<float> all_inf(10, neg_inf);
    CHECK(error_code_of([&] { c.fill(all_inf); }) == llmt::errc::invalid_argument);
    const std::vector<float> with_nan{1.0f, std::nanf(""), 0.0f};
    CHECK(error_code_of([&] { c.fill(with_nan); }) == llmt::errc::invalid_argument);

    smp::chain ch;
    CHECK_THROWS_AS(ch.sample(std::span<const float>{}), llmt::error);
    CHECK_THROWS_AS(ch.sample(all_inf), llmt::error);
    smp::chain g{smp::greedy{}};
    CHECK_THROWS_AS(g.sample(all_inf), llmt::error);
    // One finite logit among -inf: always that one.
    std::vector<float> one(50, neg_inf);
    one[17] = -3.0f;
    for (int i = 0; i < 20; ++i) CHECK(ch.sample(one) == 17);
}

TEST_CASE("top_k keeps exactly the k highest, sorted") {
    const auto logits = random_logits(1000, 1);
    for (int k : {1, 2, 40, 999, 1000}) {
        auto c = filled(logits);
        smp::top_k{k}.apply(c);
        REQUIRE(c.size() == std::size_t(k));
        CHECK(c.sorted());
        CHECK(ids(c) == reference_top(logits, std::size_t(k)));
        for (std::size_t i = 1; i < c.size(); ++i) CHECK(c[i - 1].logit >= c[i].logit);
    }
    SUBCASE("k > vocab keeps everything") {
        auto c = filled(logits);
        smp::top_k{5000}.apply(c);
        CHECK(c.size() == 1000);
        CHECK(ids(c) == reference_top(logits, 1000));
    }
    SUBCASE("k <= 0 is off") {
        auto c = filled(logits);
        smp::top_k{0}.apply(c);
        CHECK(c.size() == 1000);
        CHECK(c.identity());
        CHECK_FALSE(c.sorted());
    }
}

TEST_CASE("top_p keeps the smallest sorted prefix with mass >= p") {
    const auto logits = logits_of({0.1, 0.5, 0.15, 0.25});
    auto run = [&](float p) {
        auto c = filled(logits);
        smp::top_p{p}.apply(c);
        return ids(c);
    };
    CHECK(run(0.4f) == std::vector<token_id>{1});
    CHECK(run(0.7f) == std::vector<token_id>{1, 3});
    CHECK(run(0.8f) == std::vector<token_id>{1, 3, 2});
    CHECK(run(0.95f) == std::vector<token_id>{1, 3, 2, 0});
    CHECK(run(0.0f) == std::vector<token_id>{1});
    {  // p = 1 is off: nothing removed, not even sorted
        auto c = filled(logits);
        smp::top_p{1.0f}.apply(c);
        CHECK(c.size() == 4);
        CHECK(c.identity());
    }
    {  // min_keep
        auto c = filled(logits);
        smp::top_p{0.4f, 3}.apply(c);
        CHECK(c.size() == 3);
    }
    // Property on random logits: the prefix reaches p, one less does not.
    const auto big = random_logits(500, 2);
    const auto probs = softmax_ref(big);
    for (float p : {0.3f, 0.6f, 0.9f, 0.99f}) {
        auto c = filled(big);
        smp::top_p{p}.apply(c);
        double mass = 0, before_last = 0;
        for (std::size_t i = 0; i < c.size(); ++i) {
            before_last = mass;
            mass += probs[std::size_t(c[i].id)];
        }
        CHECK(mass >= p - 1e-5);
        CHECK(before_last < p + 1e-5);
        CHECK(ids(c) == reference_top(big, c.size()));
    }
    CHECK_THROWS_AS(smp::top_p{-0.5f}, llmt::error);
}

TEST_CASE("top_p and typical on a large flat vocabulary (the head grows several times)") {
    smp::rng g(11);
    std::vector<float> flat(20000);
    for (auto& x : flat) x = float(g.uniform() * 0.5);
    const auto probs = softmax_ref(flat);
    for (float p : {0.01f, 0.2f, 0.9f}) {
        auto c = filled(flat);
        smp::top_p{p}.apply(c);
        CHECK(c.sorted());
        CHECK(ids(c) == reference_top(flat, c.size()));
        double mass = 0;
        for (const auto& x : c.view()) mass += probs[std::size_t(x.id)];
        CHECK(mass >= p - 1e-4);
        CHECK(mass - probs[std::size_t(c[c.size() - 1].id)] < p + 1e-4);
    }
    // Typical against a direct implementation: full sort by |surprise - entropy|.
    double h = 0;
    for (double q : probs) h -= q * std::log(q);
    std::vector<token_id> order(flat.size());
    std::iota(order.begin(), order.end(), 0);
    auto key = [&](token_id t) { return std::fabs(-std::log(probs[std::size_t(t)]) - h); };
    std::stable_sort(order.begin(), order.end(), [&](token_id a, token_id b) { return key(a) < key(b); });
    for (float p : {0.05f, 0.5f}) {
        auto c = filled(flat);
        smp::typical{p}.apply(c);
        double mass = 0;
        std::size_t n = 0;
        while (mass <= p) mass += probs[std::size_t(order[n++])];
        CHECK(c.size() == doctest::Approx(double(n)).epsilon(0.01));  // float vs double near the boundary
        const auto got_ids = ids(c);
        std::set<token_id> got(got_ids.begin(), got_ids.end());
        std::size_t same = 0;
        for (std::size_t i = 0; i < std::min(n, c.size()); ++i) same += got.count(order[i]);
        CHECK(double(same) >= 0.99 * double(std::min(n, c.size())));
    }
}

TEST_CASE("min_p keeps tokens with p >= min_p * p_max") {
    const auto logits = logits_of({0.1, 0.5, 0.15, 0.25});
    SUBCASE("unsorted input keeps the order") {
        auto c = filled(logits);
        smp::min_p{0.28f}.apply(c);  // threshold 0.14
        CHECK(ids(c) == std::vector<token_id>{1, 2, 3});
        auto d = filled(logits);
        smp::min_p{0.31f}.apply(d);  // threshold 0.155
        CHECK(ids(d) == std::vector<token_id>{1, 3});
    }
    SUBCASE("sorted input is cut as a prefix") {
        auto c = filled(logits);
        c.sort();
        smp::min_p{0.28f}.apply(c);
        CHECK(ids(c) == std::vector<token_id>{1, 3, 2});
        CHECK(c.sorted());
    }
    SUBCASE("random logits against the definition") {
        const auto big = random_logits(800, 3);
        const auto probs = softmax_ref(big);
        const double pmax = *std::max_element(probs.begin(), probs.end());
        auto c = filled(big);
        smp::min_p{0.05f}.apply(c);
        const auto kept_ids = ids(c);
        std::set<token_id> kept(kept_ids.begin(), kept_ids.end()), expect;
        for (std::size_t i = 0; i < probs.size(); ++i)
            if (probs[i] >= 0.05 * pmax * (1 + 1e-6)) expect.insert(token_id(i));
        for (token_id t : expect) CHECK(kept.count(t) == 1);
        for (token_id t : kept) CHECK(probs[std::size_t(t)] >= 0.05 * pmax * (1 - 1e-5));
    }
    SUBCASE("p = 0 is off") {
        auto c = filled(logits);
        smp::min_p{0.0f}.apply(c);
        CHECK(c.size() == 4);
    }
}

TEST_CASE("typical keeps the tokens whose surprise is closest to the entropy") {
    // p = {0.4, 0.3, 0.2, 0.1}: H = 1.2799; |-ln p - H| = {0.364, 0.076, 0.329, 1.023}.
    const auto logits = logits_of({0.4, 0.3, 0.2, 0.1});
    auto run = [&](float p) {
        auto c = filled(logits);
        smp::typical{p}.apply(c);
        return ids(c);
    };
    CHECK(run(0.25f) == std::vector<token_id>{1});
    CHECK(run(0.45f) == std::vector<token_id>{1, 2});
    CHECK(run(0.85f) == std::vector<token_id>{1, 2, 0});
    CHECK(run(0.95f) == std::vector<token_id>{1, 2, 0, 3});
    CHECK(run(1.0f) == std::vector<token_id>{0, 1, 2, 3});  // off
}

TEST_CASE("temperature sharpens below 1, flattens above, keeps the argmax at 0") {
    const auto logits = random_logits(100, 4);
    auto entropy_at = [&](float t) {
        auto c = filled(logits);
        smp::temperature{t}.apply(c);
        for (std::size_t i = 0; i < c.size(); ++i) CHECK(c[i].logit == doctest::Approx(logits[i] / t));
        c.softmax(false);
        double h = 0;
        for (const auto& x : c.view())
            if (x.p > 0) h -= x.p * std::log(x.p);
        return h;
    };
    const double h1 = entropy_at(1.0f), h_sharp = entropy_at(0.5f), h_flat = entropy_at(2.0f);
    CHECK(h_sharp < h1);
    CHECK(h_flat > h1);
    auto c = filled(logits);
    smp::temperature{0.0f}.apply(c);
    REQUIRE(c.size() == 1);
    CHECK(c[0].id == reference_top(logits, 1)[0]);
    CHECK_THROWS_AS(smp::temperature{std::nanf("")}, llmt::error);
}

TEST_CASE("penalties change exactly the tokens in the window") {
    std::vector<float> logits(10);
    for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = float(i) - 4.0f;  // -4 .. 5
    smp::penalties pen{3, 2.0f, 0.5f, 0.25f};
    for (token_id t : {8, 1, 8, 8}) pen.accept(t);  // window of 3: {1, 8, 8}; the first 8 left
    CHECK(pen.count(8) == 2);
    CHECK(pen.count(1) == 1);
    auto c = filled(logits);
    pen.apply(c);
    for (std::size_t i = 0; i < logits.size(); ++i) {
        float expect = logits[i];
        if (i == 8) expect = 4.0f / 2.0f - 2 * 0.5f - 0.25f;     // positive: divided
        if (i == 1) expect = -3.0f * 2.0f - 1 * 0.5f - 0.25f;    // negative: multiplied
        CHECK(c[i].logit == doctest::Approx(expect));
    }
    pen.accept(3);  // window {8, 8, 3}: token 1 leaves
    CHECK(pen.count(1) == 0);
    CHECK(pen.count(3) == 1);
    pen.reset();
    CHECK(pen.count(8) == 0);
    auto d = filled(logits);
    pen.apply(d);
    for (std::size_t i = 0; i < logits.size(); ++i) CHECK(d[i].logit == logits[i]);

    SUBCASE("negative window = whole history") {
        smp::penalties all{-1, 1.5f};
        for (int i = 0; i < 100; ++i) all.accept(2);
        all.accept(7);
        CHECK(all.count(2) == 100);
        auto e = filled(logits);
        all.apply(e);
        CHECK(e[2].logit == doctest::Approx(-2.0f * 1.5f));
        CHECK(e[7].logit == doctest::Approx(3.0f / 1.5f));
        CHECK(e[5].logit == logits[5]);
    }
    SUBCASE("in a chain, accept() feeds the window; repetition is avoided") {
        std::vector<float> flat{1.0f, 0.99f, 0.98f};
        smp::chain ch{smp::penalties{2, 10.0f}, smp::greedy{}};
        const token_id a = ch.sample(flat);
        CHECK(a == 0);
        ch.accept(a);
        const token_id b = ch.sample(flat);
        CHECK(b == 1);
        ch.accept(b);
        CHECK(ch.sample(flat) == 2);
        ch.reset();
        CHECK(ch.sample(flat) == 0);
    }
    CHECK_THROWS_AS(smp::penalties(64, 0.0f), llmt::error);
    CHECK_THROWS_AS(pen.accept(-1), llmt::error);
}

TEST_CASE("logit_bias adds to chosen tokens; -inf bans") {
    const std::vector<float> logits{0.0f, 1.0f, 2.0f, 3.0f};
    auto c = filled(logits);
    smp::logit_bias{{{0, 5.0f}, {3, neg_inf}}}.apply(c);
    CHECK(c[0].logit == 5.0f);
    CHECK(c[1].logit == 1.0f);
    CHECK(c[3].logit == neg_inf);
    // After a reorder the token is found by id.
    auto d = filled(logits);
    smp::top_k{3}.apply(d);
    smp::logit_bias{{{1, 10.0f}}}.apply(d);
    CHECK(d[2].id == 1);
    CHECK(d[2].logit == 11.0f);

    smp::chain ban{smp::logit_bias{{{3, neg_inf}}}, smp::greedy{}};
    CHECK(ban.sample(logits) == 2);
    smp::chain oob{smp::logit_bias{{{4, 1.0f}}}, smp::greedy{}};
    CHECK(error_code_of([&] { oob.sample(logits); }) == llmt::errc::invalid_argument);
    smp::chain all_banned{smp::logit_bias{{{0, neg_inf}, {1, neg_inf}, {2, neg_inf}, {3, neg_inf}}}};
    CHECK_THROWS_AS(all_banned.sample(logits), llmt::error);
    CHECK_THROWS_AS(smp::logit_bias({{1, std::numeric_limits<float>::infinity()}}), llmt::error);
}

TEST_CASE("greedy is the argmax, lower id on ties") {
    smp::chain g{smp::greedy{}};
    for (std::uint64_t s = 10; s < 20; ++s) {
        const auto logits = random_logits(3000, s);
        CHECK(g.sample(logits) == reference_top(logits, 1)[0]);
    }
    CHECK(g.sample(std::vector<float>{1.0f, 3.0f, 3.0f, 2.0f}) == 1);
    smp::params cold_params;
    cold_params.temp = 0.0f;
    smp::chain cold = smp::chain::from_params(cold_params);
    const auto logits = random_logits(3000, 5);
    CHECK(cold.sample(logits) == reference_top(logits, 1)[0]);
}

TEST_CASE("dist: reproducible with a seed, follows the distribution") {
    const auto logits = random_logits(2000, 6);
    auto draw_seq = [&](smp::chain& ch, int n) {
        std::vector<token_id> seq;
        for (int i = 0; i < n; ++i) seq.push_back(ch.sample(logits));
        return seq;
    };
    smp::chain a{smp::dist{42}}, b{smp::dist{42}}, c{smp::dist{43}};
    const auto sa = draw_seq(a, 200);
    CHECK(sa == draw_seq(b, 200));
    CHECK(sa != draw_seq(c, 200));
    a.reset();
    CHECK(draw_seq(a, 200) == sa);
    c.set_seed(42);
    CHECK(draw_seq(c, 200) == sa);
    // The main candidate array is allocated once.
    const auto* storage = a.candidates().view().data();
    draw_seq(a, 10);
    CHECK(a.candidates().view().data() == storage);

    // Chi-square over 20000 draws, 4 degrees of freedom: 18.47 is the 0.1% critical value.
    const std::vector<double> probs{0.5, 0.2, 0.15, 0.1, 0.05};
    const auto small = logits_of(probs);
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        smp::chain d{smp::dist{seed}};
        std::vector<int> counts(probs.size(), 0);
        constexpr int n = 20000;
        for (int i = 0; i < n; ++i) ++counts[std::size_t(d.sample(small))];
        double chi2 = 0;
        for (std::size_t i = 0; i < probs.size(); ++i) {
            const double e = n * probs[i];
            chi2 += (counts[i] - e) * (counts[i] - e) / e;
        }
        CHECK(chi2 < 18.47);
    }
}

TEST_CASE("mirostat v1 and v2 keep mu updated and hold the surprise near tau") {
    // Zipf-like distribution over 1000 tokens.
    std::vector<float> logits(1000);
    for (std::size_t i = 0; i < logits.size(); ++i) logits[i] = -1.1f * std::log(float(i + 1));
    const auto probs = softmax_ref(logits);

    auto check_step = [&](smp::chain& ch, auto tag) {
        using M = decltype(tag);
        const float mu0 = ch.find<M>()->mu();
        const token_id t = ch.sample(logits);
        const auto& c = ch.candidates();
        const float p = c[std::size_t(c.selected)].p;
        CHECK(c[std::size_t(c.selected)].id == t);
        const float expect = mu0 - 0.1f * (-std::log2(p) - 5.0f);
        CHECK(ch.find<M>()->mu() == doctest::Approx(expect));
    };

    SUBCASE("v1") {
        smp::chain ch{smp::mirostat{5.0f, 0.1f, 7}};
        CHECK(ch.find<smp::mirostat>()->mu() == 10.0f);
        for (int i = 0; i < 5; ++i) check_step(ch, smp::mirostat{});
        double surprise = 0;
        constexpr int n = 3000;
        for (int i = 0; i < n; ++i) surprise += -std::log2(probs[std::size_t(ch.sample(logits))]);
        CHECK(surprise / n == doctest::Approx(5.0).epsilon(0.1));
        ch.reset();
        CHECK(ch.find<smp::mirostat>()->mu() == 10.0f);
    }
    SUBCASE("v2 truncates at surprise mu") {
        smp::chain ch{smp::mirostat_v2{5.0f, 0.1f, 7}};
        CHECK(ch.find<smp::mirostat_v2>()->mu() == 10.0f);
        ch.sample(logits);
        std::size_t expect_kept = 0;
        for (double p : probs) expect_kept += -std::log2(p) <= 10.0;
        CHECK(ch.candidates().size() == expect_kept);
        for (int i = 0; i < 5; ++i) check_step(ch, smp::mirostat_v2{});
        double surprise = 0;
        constexpr int n = 3000;
        for (int i = 0; i < n; ++i) surprise += -std::log2(probs[std::size_t(ch.sample(logits))]);
        CHECK(surprise / n == doctest::Approx(5.0).epsilon(0.1));
    }
    SUBCASE("reproducible with a seed") {
        smp::chain a{smp::temperature{0.9f}, smp::mirostat_v2{4.0f, 0.2f, 99}};
        smp::chain b{smp::temperature{0.9f}, smp::mirostat_v2{4.0f, 0.2f, 99}};
        for (int i = 0; i < 100; ++i) CHECK(a.sample(logits) == b.sample(logits));
    }
}

TEST_CASE("chain: from_params order, implicit dist, edge cases") {
    auto kinds = [](const smp::chain& ch) {
        std::vector<std::size_t> k;
        for (const auto& s : ch.stages()) k.push_back(s.index());
        return k;
    };
    using V = smp::any_sampler;
    auto idx = [](auto s) { return V(std::move(s)).index(); };
    const auto def = smp::chain::from_params({});
    CHECK(kinds(def) == std::vector<std::size_t>{idx(smp::top_k{}), idx(smp::typical{}), idx(smp::top_p{}),
                                                  idx(smp::min_p{}), idx(smp::temperature{}), idx(smp::dist{})});
    smp::params p;
    p.repeat_penalty = 1.1f;
    p.logit_bias = {{2, 1.0f}};
    p.mirostat = 2;
    CHECK(kinds(smp::chain::from_params(p)) ==
          std::vector<std::size_t>{idx(smp::penalties{}), idx(smp::logit_bias{}), idx(smp::temperature{}),
                                   idx(smp::mirostat_v2{})});
    p.mirostat = 1;
    CHECK(kinds(smp::chain::from_params(p)).back() == idx(smp::mirostat{}));
    p.mirostat = 3;
    CHECK(error_code_of([&] { (void)smp::chain::from_params(p); }) == llmt::errc::invalid_argument);

    // No selecting stage: a dist is appended.
    smp::chain top1{llmt::top_k{1}};
    CHECK(top1.stages().size() == 2);
    const auto logits = random_logits(300, 8);
    for (int i = 0; i < 10; ++i) CHECK(top1.sample(logits) == reference_top(logits, 1)[0]);
    CHECK(smp::chain{}.stages().size() == 1);

    // Same seed through from_params: same tokens.
    smp::params q;
    q.seed = 1234;
    auto c1 = smp::chain::from_params(q), c2 = smp::chain::from_params(q);
    for (int i = 0; i < 50; ++i) CHECK(c1.sample(logits) == c2.sample(logits));

    // The default chain only ever returns tokens that survive top-k 40.
    const auto top40 = reference_top(logits, 40);
    auto c3 = smp::chain::from_params({});
    for (int i = 0; i < 200; ++i) CHECK(std::find(top40.begin(), top40.end(), c3.sample(logits)) != top40.end());

    // k > vocab, p = 1: the whole vocabulary stays possible.
    smp::chain wide{smp::top_k{100000}, smp::top_p{1.0f}, smp::min_p{0.0f}, smp::greedy{}};
    CHECK(wide.sample(std::vector<float>{0.5f, 0.25f}) == 0);
    CHECK(wide.candidates().size() == 2);

    // A vocabulary of one.
    smp::chain one = smp::chain::from_params({});
    CHECK(one.sample(std::vector<float>{-100.0f}) == 0);

    // A custom stage that selects.
    smp::chain last{smp::custom{[](smp::candidate_array& c) { c.selected = std::ptrdiff_t(c.size() - 1); }}};
    CHECK(last.stages().size() == 2);
    CHECK(last.sample(std::vector<float>{1.0f, 2.0f, 3.0f}) == 2);
}

TEST_CASE("params::validate: NaN, infinite and out-of-range values are refused, naming the option") {
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    auto message_of = [](const smp::params& p) -> std::string {
        try {
            (void)smp::chain::from_params(p);
        } catch (const llmt::error& e) {
            CHECK(e.code() == llmt::errc::invalid_argument);
            return e.what();
        }
        return "accepted";
    };
    struct bad {
        void (*set)(smp::params&, float);
        std::vector<float> values;
        std::string field;
    };
    const std::vector<bad> cases = {
        {[](smp::params& p, float v) { p.temp = v; }, {nan, inf, -inf}, "temp is "},
        {[](smp::params& p, float v) { p.top_p = v; }, {nan, inf, -0.1f, 1.5f}, "top-p is "},
        {[](smp::params& p, float v) { p.min_p = v; }, {nan, -inf, -0.5f, 2.0f}, "min-p is "},
        {[](smp::params& p, float v) { p.typical_p = v; }, {nan, 0.0f, -1.0f, 1.01f}, "typical (typical_p) is "},
        {[](smp::params& p, float v) { p.repeat_penalty = v; }, {nan, inf, 0.0f, -1.0f}, "repeat-penalty is "},
        {[](smp::params& p, float v) { p.freq_penalty = v; }, {nan, inf}, "frequency-penalty is "},
        {[](smp::params& p, float v) { p.presence_penalty = v; }, {nan, -inf}, "presence-penalty is "},
        {[](smp::params& p, float v) { p.mirostat_tau = v; }, {nan, inf, 0.0f, -2.0f}, "mirostat-ent (mirostat_tau) is "},
        {[](smp::params& p, float v) { p.mirostat_eta = v; }, {nan, inf, -0.1f}, "mirostat-lr (mirostat_eta) is "},
        {[](smp::params& p, float v) { p.repeat_last_n = int(v); }, {-2.0f, -1000.0f}, "repeat-last-n is "},
        {[](smp::params& p, float v) { p.mirostat = int(v); }, {-1.0f, 3.0f}, "mirostat is "},
        {[](smp::params& p, float v) { p.logit_bias = {{5, v}}; }, {nan, inf}, "logit-bias: the bias of token 5 is "},
        {[](smp::params& p, float v) { p.logit_bias = {{token_id(v), 1.0f}}; }, {-1.0f}, "logit-bias: the token id -1"},
    };
    for (const auto& c : cases)
        for (float v : c.values) {
            smp::params p;
            c.set(p, v);
            CAPTURE(c.field);
            CAPTURE(v);
            CHECK(message_of(p).rfind(c.field, 0) == 0);
        }
    smp::params p;
    p.temp = nan;
    CHECK(message_of(p) == "temp is nan; expected a finite number (<= 0 means greedy)");
    // The edges of each range are accepted.
    p = {};
    p.temp = -1.0f;
    p.top_p = 0.0f;
    p.min_p = 1.0f;
    p.typical_p = 1.0f;
    p.repeat_last_n = -1;
    p.mirostat_eta = 0.0f;
    p.logit_bias = {{1, -inf}};
    CHECK_NOTHROW(p.validate());
    p.top_p = 1.0f;
    p.min_p = 0.0f;
    p.typical_p = 1e-6f;
    CHECK_NOTHROW(p.validate());
}

TEST_CASE("parse_samplers: llama.cpp's names and aliases, unknown names refused") {
    using T = smp::sampler_type;
    const auto def = smp::parse_samplers("penalties;dry;top_n_sigma;top_k;typ_p;top_p;min_p;xtc;temperature");
    CHECK(def == smp::params{}.samplers);
    CHECK(smp::to_string(def) == "penalties;dry;top_n_sigma;top_k;typ_p;top_p;min_p;xtc;temperature");
    CHECK(smp::parse_samplers("top-k; typical ;typical_p;typ;typ-p;typical-p;nucleus;top-p;min-p;temp;top-n-sigma;infill") ==
          std::vector<T>{T::top_k, T::typ_p, T::typ_p, T::typ_p, T::typ_p, T::typ_p, T::top_p, T::top_p, T::min_p,
                         T::temperature, T::top_n_sigma, T::infill});
    CHECK(smp::parse_samplers("").empty());
    CHECK(smp::parse_samplers("temperature;;top_k;") == std::vector<T>{T::temperature, T::top_k});
    try {
        (void)smp::parse_samplers("top_k;topk;temperature");
        FAIL("an unknown sampler name was accepted");
    } catch (const llmt::error& e) {
        CHECK(e.code() == llmt::errc::invalid_argument);
        const std::string w = e.what();
        CHECK(w.find("'topk'") != std::string::npos);
        CHECK(w.find("penalties, dry, top_n_sigma, top_k, typ_p, top_p, min_p, xtc, temperature, infill") != std::string::npos);
    }
}

TEST_CASE("chain::from_params follows params::samplers") {
    auto kinds = [](const smp::chain& ch) {
        std::vector<std::size_t> k;
        for (const auto& s : ch.stages()) k.push_back(s.index());
        return k;
    };
    using V = smp::any_sampler;
    auto idx = [](auto s) { return V(std::move(s)).index(); };
    smp::params p;
    p.repeat_penalty = 1.1f;
    p.logit_bias = {{2, 1.0f}};
    // The default order, penalties and bias included, is the order before params::samplers existed.
    CHECK(kinds(smp::chain::from_params(p)) ==
          std::vector<std::size_t>{idx(smp::penalties{}), idx(smp::logit_bias{}), idx(smp::top_k{}), idx(smp::typical{}),
                                   idx(smp::top_p{}), idx(smp::min_p{}), idx(smp::temperature{}), idx(smp::dist{})});
    p.samplers = smp::parse_samplers("temperature;top_k;penalties;min_p");
    CHECK(kinds(smp::chain::from_params(p)) ==
          std::vector<std::size_t>{idx(smp::logit_bias{}), idx(smp::temperature{}), idx(smp::top_k{}),
                                   idx(smp::penalties{}), idx(smp::min_p{}), idx(smp::dist{})});
    // Stages llmt cannot turn on are accepted and do nothing.
    p.samplers = smp::parse_samplers("dry;xtc;top_n_sigma;infill");
    CHECK(kinds(smp::chain::from_params(p)) == std::vector<std::size_t>{idx(smp::logit_bias{}), idx(smp::dist{})});
    // Mirostat and greedy keep their meaning: only the penalties of the list run before them.
    p.samplers = smp::parse_samplers("top_k;penalties;temperature");
    p.mirostat = 2;
    CHECK(kinds(smp::chain::from_params(p)) ==
          std::vector<std::size_t>{idx(smp::penalties{}), idx(smp::logit_bias{}), idx(smp::temperature{}),
                                   idx(smp::mirostat_v2{})});
    p.mirostat = 0;
    p.temp = 0.0f;
    CHECK(kinds(smp::chain::from_params(p)) ==
          std::vector<std::size_t>{idx(smp::penalties{}), idx(smp::logit_bias{}), idx(smp::greedy{})});

    // The order changes the result: min_p 0.6 before temperature 2 keeps fewer candidates than after it.
    const std::vector<float> logits = logits_of({0.4, 0.3, 0.2, 0.1});
    smp::params q;
    q.temp = 2.0f;
    q.min_p = 0.6f;
    q.top_k = 0;
    q.top_p = 1.0f;
    q.samplers = smp::parse_samplers("min_p;temperature");
    auto before = smp::chain::from_params(q);
    before.sample(logits);
    q.samplers = smp::parse_samplers("temperature;min_p");
    auto after = smp::chain::from_params(q);
    after.sample(logits);
    CHECK(before.candidates().size() == 2);  // p >= 0.6 * 0.4: 0.4, 0.3
    CHECK(after.candidates().size() == 3);   // flattened by T = 2 (p ~ sqrt): 0.2 now is 0.71 of the best
}

TEST_CASE("penalties: a huge window allocates nothing up front and still counts") {
    smp::penalties pen(std::numeric_limits<int>::max(), 1.5f);
    for (token_id t : {3, 4, 3}) pen.accept(t);
    CHECK(pen.count(3) == 2);
    CHECK(pen.count(4) == 1);
    smp::penalties small(2, 1.5f);
    for (token_id t : {3, 4, 5, 3}) small.accept(t);
    CHECK(small.count(3) == 1);
    CHECK(small.count(4) == 0);
    CHECK(small.count(5) == 1);
    small.reset();
    CHECK(small.count(3) == 0);
    small.accept(7);
    small.accept(8);
    small.accept(9);
    CHECK(small.count(7) == 0);
    CHECK(small.count(9) == 1);
}
