// llmt-serve-bench: requests arriving at a given rate on the continuous-batching scheduler, with and without prefix sharing
#include <llmt/llmt.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr const char* usage_text =
    "usage: llmt-serve-bench -m MODEL [--rate R] [-n N] [--system N] [--user N] [--gen N] [-c N] [-t N] [--seed S]\n"
    "                        [--kv-blocks N] [--budget N]\n"
    "Requests arrive at R per second (Poisson) on runtime::scheduler, each a shared system prompt of --system\n"
    "tokens, --user tokens of its own, then --gen sampled tokens. Runs with the prefix cache on, then off;\n"
    "reports throughput, time to first token and inter-token latency (p50, p99) and prefix tokens reused.\n"
    "  -m, --model FILE   GGUF model (default: the environment variable LLMT_MODEL)\n"
    "  --rate R           requests per second (default 4)\n"
    "  -n N               requests (default 32)\n"
    "  --system N         shared system prompt tokens (default 1000)\n"
    "  --user N           tokens of each request's own (default 32)\n"
    "  --gen N            tokens sampled per request (default 64)\n"
    "  -c N               model context positions (default: system + user + gen)\n"
    "  -t N               threads (default 1)\n"
    "  --kv-blocks N      KV pool blocks of 16 positions (default: one full context and one)\n"
    "  --budget N         tokens per scheduler step (default: the context's batch, 512)\n"
    "  --seed S           seed of the arrivals and the prompts (default 1)\n"
    "Exit status: 0 done, 1 failed, 2 wrong command line.\n";

[[noreturn]] void usage_fail(const std::string& msg) {
    std::fprintf(stderr, "llmt-serve-bench: %s\n%s", msg.c_str(), usage_text);
    std::exit(2);
}

long to_long(const std::string& s, const std::string& flag, long lo, long hi) {
    std::size_t used = 0;
    long v = 0;
    try {
        v = std::stol(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != s.size() || s.empty() || v < lo || v > hi)
        usage_fail(fmt::format("{}: '{}' is not a whole number from {} to {}", flag, s, lo, hi));
    return v;
}

double pct(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, std::size_t(p / 100.0 * double(v.size())))];
}

struct params {
    std::string model;
    double rate = 4;
    long n = 32, system = 1000, user = 32, gen = 64, ctx = 0, threads = 1, seed = 1, kv_blocks = 0, budget = 0;
};

void run(llmt::model_base& m, const llmt::tokenizer::tokenizer& tok, const params& p, bool share) {
    using namespace llmt;
    auto ctx = m.make_context({.kv_blocks = p.kv_blocks, .prefix_cache = share});
    runtime::scheduler s(*ctx, tok, {.token_budget = p.budget});
    std::mt19937_64 rng(std::uint64_t(p.seed));
    const auto vocab = std::uint64_t(m.n_vocab());
    std::vector<token_id> system{tok.bos() >= 0 ? tok.bos() : 0};
    while (std::int64_t(system.size()) < p.system) system.push_back(token_id(rng() % vocab));
    std::vector<std::vector<token_id>> prompts;
    std::vector<double> arrivals;
    std::exponential_distribution<double> gap(p.rate);
    double t = 0;
    for (long i = 0; i < p.n; ++i) {
        auto pr = system;
        for (long j = 0; j < p.user; ++j) pr.push_back(token_id(rng() % vocab));
        prompts.push_back(std::move(pr));
        arrivals.push_back(t);
        t += gap(rng);
    }
    s.start();
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<runtime::request_id> ids;
    for (long i = 0; i < p.n; ++i) {
        std::this_thread::sleep_until(t0 + std::chrono::duration<double>(arrivals[std::size_t(i)]));
        runtime::request r;
        r.prompt = prompts[std::size_t(i)];
        r.max_tokens = p.gen;
        r.ignore_eos = true;
        r.sampler = sampling::chain{top_k{40}, temperature{0.8f}};
        r.seed = std::uint64_t(i);
        ids.push_back(s.submit(std::move(r)));
    }
    std::vector<double> ttft, itl;
    std::int64_t tokens = 0;
    for (auto id : ids) {
        const auto res = s.wait(id);
        for (const auto& smp : res.samples) {
            tokens += std::int64_t(smp.tokens.size());
            ttft.push_back(smp.ttft_ms);
            for (std::size_t k = 1; k < smp.token_ms.size(); ++k) itl.push_back(smp.token_ms[k] - smp.token_ms[k - 1]);
        }
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    while (!s.idle()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    s.stop();
    const auto st = s.stats();
    fmt::print("| {:7} | {:8.1f} | {:8.1f} | {:8.1f} | {:7.2f} | {:7.2f} | {:9} | {:8} | {:5} | {:9} |\n", share ? "on" : "off",
               double(tokens) / wall, pct(ttft, 50), pct(ttft, 99), pct(itl, 50), pct(itl, 99), st.prefix_tokens_reused,
               st.prefill_tokens, st.preemptions, st.max_batch);
}

}  // namespace

int main(int argc, char** argv) {
    params p;
    if (const char* e = std::getenv("LLMT_MODEL")) p.model = e;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) usage_fail(a + " needs a value");
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            std::fputs(usage_text, stdout);
            return 0;
        } else if (a == "-m" || a == "--model") p.model = value();
        else if (a == "--rate") {
            const std::string v = value();
            char* end = nullptr;
            p.rate = std::strtod(v.c_str(), &end);
            if (end != v.c_str() + v.size() || v.empty() || !(p.rate > 0 && p.rate <= 1e6))
                usage_fail("--rate: '" + v + "' is not a number of requests per second above 0, at most 1000000");
        } else if (a == "-n") p.n = to_long(value(), a, 1, 100000);
        else if (a == "--system") p.system = to_long(value(), a, 1, 1 << 20);
        else if (a == "--user") p.user = to_long(value(), a, 0, 1 << 20);
        else if (a == "--gen") p.gen = to_long(value(), a, 0, 1 << 20);
        else if (a == "-c") p.ctx = to_long(value(), a, 1, 1 << 24);
        else if (a == "-t" || a == "--threads") p.threads = to_long(value(), a, 1, 512);
        else if (a == "--kv-blocks") p.kv_blocks = to_long(value(), a, 1, 1L << 30);
        else if (a == "--budget") p.budget = to_long(value(), a, 1, 1L << 24);
        else if (a == "--seed") p.seed = to_long(value(), a, 0, 1L << 40);
        else usage_fail("unknown argument '" + a + "'");
    }
    if (p.model.empty()) usage_fail("no model: give -m FILE or set LLMT_MODEL");
    try {
        const long need = p.system + p.user + p.gen;
        auto m = llmt::load_any(p.model, {.context = p.ctx ? p.ctx : need, .threads = int(p.threads)});
        const auto tok = llmt::tokenizer::tokenizer::from_gguf(m->gguf());
        fmt::print("model {}: {} requests at {}/s, system prompt {} + {} own tokens, {} generated, {} threads\n\n", p.model, p.n,
                   p.rate, p.system, p.user, p.gen, p.threads);
        fmt::print("| sharing | gen t/s  | TTFT p50 | TTFT p99 | ITL p50 | ITL p99 | reused    | prefill  | preem | max batch |\n");
        fmt::print("|---------|----------|----------|----------|---------|---------|-----------|----------|-------|-----------|\n");
        run(*m, tok, p, true);
        run(*m, tok, p, false);
        fmt::print("\n(times in ms; reused = prompt positions mapped from the prefix cache; prefill = tokens evaluated)\n");
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llmt-serve-bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
