// llmt-batched-bench: llama-batched-bench's flags and table on llmt's engine (B sequences decoded in one batch)
#include <llmt/llmt.hpp>

#include "../examples/cli_common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

constexpr const char* usage_text =
    "usage: llmt-batched-bench -m MODEL [-c N] [-b N] [-ub N] [-npp N,N] [-ntg N,N] [-npl N,N] [-t N] [-pps]\n"
    "                          [-ctk TYPE] [-ctv TYPE] [--output-format md|jsonl]\n"
    "llama-batched-bench's test on llmt's engine: for each prompt size PP, generation size TG and number of\n"
    "parallel sequences B, B prompts of PP tokens are evaluated (T_PP), then TG steps decode one token of\n"
    "every sequence in one batch (T_TG). N_KV = B*(PP+TG), or PP+B*TG with -pps; tests needing more than -c\n"
    "positions are skipped, as llama-batched-bench does.\n"
    "  -m, --model FILE        GGUF model (default: the environment variable LLMT_MODEL)\n"
    "  -c, --ctx-size N        KV cache positions shared by all sequences (default 4096)\n"
    "  -b, --batch-size N      tokens per decode call (default 2048)\n"
    "  -ub, --ubatch-size N    tokens per forward step (default 512)\n"
    "  -npp N,N                prompt sizes (default 128)\n"
    "  -ntg N,N                generation sizes (default 128)\n"
    "  -npl N,N                numbers of parallel sequences (default 1)\n"
    "  -t, --threads N         threads, 1 to 512 (default: all cores)\n"
    "  -pps                    the prompt is shared: evaluated once, then forked to every sequence\n"
    "  -ctk, --cache-type-k T  KV cache element type: f32, f16 (default) or q8_0\n"
    "  -ctv, --cache-type-v T  the same type as -ctk (llmt stores K and V alike)\n"
    "  --output-format F       md (default) or jsonl\n"
    "  -h, --help              this help\n"
    "Exit status: 0 done, 1 failed, 2 wrong command line.\n";

struct params {
    std::string model;
    int n_ctx = 4096, n_batch = 2048, n_ubatch = 512, threads = 0;
    std::vector<int> npp{128}, ntg{128}, npl{1};
    bool pps = false;
    std::string ctk = "f16", ctv;
    bool jsonl = false;
};

int to_int(const std::string& s, const std::string& flag, int lo, int hi) {
    std::size_t used = 0;
    long v = 0;
    try {
        v = std::stol(s, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != s.size() || s.empty() || v < lo || v > hi)
        llmt_cli::usage_fail("{}: '{}' is not a whole number from {} to {}", flag, s, lo, hi);
    return int(v);
}

std::vector<int> to_list(const std::string& s, const std::string& flag, int lo, int hi) {
    std::vector<int> out;
    std::size_t start = 0;
    for (;;) {
        const auto k = s.find(',', start);
        out.push_back(to_int(s.substr(start, k == std::string::npos ? std::string::npos : k - start), flag, lo, hi));
        if (k == std::string::npos) return out;
        start = k + 1;
    }
}

params parse(int argc, char** argv) {
    params p;
    constexpr int max_n = 1 << 24;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) llmt_cli::usage_fail("{} needs a value", a);
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            llmt_cli::out(usage_text);
            throw llmt_cli::exit_request{llmt_cli::exit_ok};
        }
        else if (a == "-m" || a == "--model") p.model = value();
        else if (a == "-c" || a == "--ctx-size") p.n_ctx = to_int(value(), a, 1, max_n);
        else if (a == "-b" || a == "--batch-size") p.n_batch = to_int(value(), a, 1, max_n);
        else if (a == "-ub" || a == "--ubatch-size") p.n_ubatch = to_int(value(), a, 1, max_n);
        else if (a == "-npp") p.npp = to_list(value(), a, 1, max_n);
        else if (a == "-ntg") p.ntg = to_list(value(), a, 0, max_n);
        else if (a == "-npl") p.npl = to_list(value(), a, 1, 4096);
        else if (a == "-t" || a == "--threads") p.threads = to_int(value(), a, 1, llmt::load_options::max_threads);
        else if (a == "-pps") p.pps = true;
        else if (a == "-ctk" || a == "--cache-type-k") p.ctk = value();
        else if (a == "-ctv" || a == "--cache-type-v") p.ctv = value();
        else if (a == "--output-format") {
            const std::string f = value();
            if (f != "md" && f != "jsonl") llmt_cli::usage_fail("--output-format: '{}' is not md or jsonl", f);
            p.jsonl = f == "jsonl";
        } else llmt_cli::usage_fail("unknown option '{}' (see --help)", a);
    }
    p.model = llmt_cli::resolve_model(p.model);
    if (!p.ctv.empty() && p.ctv != p.ctk)
        llmt_cli::usage_fail("-ctv {} differs from -ctk {}: llmt stores keys and values in one element type", p.ctv, p.ctk);
    return p;
}

int run(int argc, char** argv) {
    const params p = parse(argc, argv);
    llmt::load_options lo;
    lo.context = p.n_ctx;
    lo.batch = std::min(p.n_ubatch, p.n_ctx);
    lo.threads = p.threads;
    try {
        lo.kv_type = llmt::parse_kv_type(p.ctk);
    } catch (const llmt::error& e) {
        llmt_cli::usage_fail("-ctk: {}", e.what());
    }
    auto model = llmt::load_any(p.model, lo);
    // one pool of blocks for all the sequences: n_ctx positions in all, as llama.cpp's unified cache
    llmt::context_options co;
    co.context = p.n_ctx;
    co.batch = lo.batch;
    co.prefix_cache = false;  // the prompts are all token 0: sharing would measure nothing
    {
        auto probe = model->make_context({.context = p.n_ctx, .batch = 1, .kv_blocks = 1});
        const auto st = probe->stats();
        const int max_pl = *std::max_element(p.npl.begin(), p.npl.end());
        // every sequence may end with a partly filled block, and -pps forks share the prompt's last one
        co.kv_blocks = (p.n_ctx + st.block_tokens - 1) / st.block_tokens + 2 * max_pl;
    }
    auto ctx = model->make_context(co);
    const int n_kv_max = p.n_ctx;

    llmt::batch b;
    auto decode = [&](const llmt::batch& all) {  // in calls of at most -b tokens
        llmt::batch part;
        for (std::size_t i = 0; i < all.size(); i += std::size_t(p.n_batch)) {
            part.clear();
            for (std::size_t j = i; j < std::min(all.size(), i + std::size_t(p.n_batch)); ++j)
                part.add(all.token[j], all.pos[j], all.seq[j], all.logits[j] != 0);
            ctx->decode(part);
        }
    };
    // warm-up: 16 tokens of one sequence
    {
        const auto s = ctx->create();
        for (int i = 0; i < 16; ++i) b.add(0, i, s, i == 15);
        decode(b);
        ctx->remove(s);
    }
    if (!p.jsonl) {
        llmt_cli::out(fmt::format("\nmain: n_kv_max = {}, n_batch = {}, n_ubatch = {}, flash_attn = 0, is_pp_shared = {}, "
                                  "n_gpu_layers = 0, n_threads = {}, n_threads_batch = {}\n\n",
                                  n_kv_max, p.n_batch, lo.batch, int(p.pps), ctx->threads(), ctx->threads()));
        llmt_cli::out(fmt::format("|{:>6} | {:>6} | {:>4} | {:>6} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} | {:>8} |\n", "PP", "TG", "B",
                                  "N_KV", "T_PP s", "S_PP t/s", "T_TG s", "S_TG t/s", "T s", "S t/s"));
        llmt_cli::out(fmt::format("|{:->6}-|-{:->6}-|-{:->4}-|-{:->6}-|-{:->8}-|-{:->8}-|-{:->8}-|-{:->8}-|-{:->8}-|-{:->8}-|\n", "", "",
                                  "", "", "", "", "", "", "", ""));
    }
    for (const int pp : p.npp)
        for (const int tg : p.ntg)
            for (const int pl : p.npl) {
                const long n_ctx_req = p.pps ? long(pp) + long(pl) * tg : long(pl) * (pp + tg);
                if (n_ctx_req > n_kv_max) continue;
                std::vector<llmt::seq_id> seqs;
                b.clear();
                const auto t0 = clock_type::now();
                for (int j = 0; j < (p.pps ? 1 : pl); ++j) {
                    seqs.push_back(ctx->create());
                    for (int i = 0; i < pp; ++i) b.add(0, i, seqs.back(), false);
                }
                b.logits.back() = 1;
                decode(b);
                if (p.pps)
                    for (int j = 1; j < pl; ++j) seqs.push_back(ctx->fork(seqs[0]));
                const auto t1 = clock_type::now();
                for (int i = 0; i < tg; ++i) {
                    b.clear();
                    for (int j = 0; j < pl; ++j) b.add(0, pp + i, seqs[std::size_t(j)], true);
                    decode(b);
                }
                const auto t2 = clock_type::now();
                for (const auto s : seqs) ctx->remove(s);
                const double t_pp = std::chrono::duration<double>(t1 - t0).count();
                const double t_tg = std::chrono::duration<double>(t2 - t1).count();
                const double t = t_pp + t_tg;
                const double s_pp = (p.pps ? pp : double(pl) * pp) / t_pp;
                const double s_tg = tg > 0 ? double(pl) * tg / t_tg : 0.0;
                const double s = double(n_ctx_req) / t;
                if (p.jsonl)
                    llmt_cli::out(fmt::format(
                        "{{\"n_kv_max\": {}, \"n_batch\": {}, \"n_ubatch\": {}, \"flash_attn\": 0, \"is_pp_shared\": {}, "
                        "\"n_gpu_layers\": 0, \"n_threads\": {}, \"n_threads_batch\": {}, \"pp\": {}, \"tg\": {}, \"pl\": {}, "
                        "\"n_kv\": {}, \"t_pp\": {:f}, \"speed_pp\": {:f}, \"t_tg\": {:f}, \"speed_tg\": {:f}, \"t\": {:f}, "
                        "\"speed\": {:f}}}\n",
                        n_kv_max, p.n_batch, lo.batch, int(p.pps), ctx->threads(), ctx->threads(), pp, tg, pl, n_ctx_req, t_pp, s_pp,
                        t_tg, s_tg, t, s));
                else
                    llmt_cli::out(fmt::format("|{:>6} | {:>6} | {:>4} | {:>6} | {:>8.3f} | {:>8.2f} | {:>8.3f} | {:>8.2f} | {:>8.3f} | {:>8.2f} |\n",
                                              pp, tg, pl, n_ctx_req, t_pp, s_pp, t_tg, s_tg, t, s));
                std::fflush(stdout);
            }
    return llmt_cli::exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-batched-bench", [&] { return run(argc, argv); });
}
