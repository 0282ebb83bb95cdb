// llmt-run: generate text from a prompt with any GGUF model llmt knows (stdout: prompt + generated text only)
#include <llmt/llmt.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace {
std::atomic<bool> g_cancel{false};
extern "C" void on_sigint(int) { g_cancel.store(true); }

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) llmt::fail(llmt::errc::io, "cannot open prompt file '{}'", path);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
}

// One position of the logits dump, in the layout of tests/data/stories260K/ref_logits_*.txt.
void dump_position(std::FILE* f, bool gen, std::int64_t pos, llmt::token_id input, std::span<const float> logits) {
    const auto best = std::max_element(logits.begin(), logits.end());
    fmt::print(f, "{} pos {} input_token {} argmax {} max_logit {:.9g}\n", gen ? "gen" : "prompt", pos, input,
               best - logits.begin(), *best);
    for (std::size_t i = 0; i < logits.size(); ++i) fmt::print(f, "{:.9g}{}", logits[i], (i % 8 == 7 || i + 1 == logits.size()) ? "\n" : " ");
}
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"llmt-run: generate text with a GGUF model"};
    std::string model_path = LLMT_DEFAULT_MODEL, prompt, prompt_file, dump_path;
    std::int64_t n_predict = 128, ctx = 0, batch = 512, repeat_last_n = 64;
    int threads = 0, mirostat = 0, top_k = 40;
    float temp = 0.8f, top_p = 0.95f, min_p = 0.05f, typical_p = 1.0f, repeat_penalty = 1.0f, presence = 0.0f,
          frequency = 0.0f, mirostat_tau = 5.0f, mirostat_eta = 0.1f;
    std::int64_t seed = -1;
    bool ids = false, context_shift = false, no_special = false, verbose = false, no_mmap = false, no_repack = false;
    std::vector<std::string> stops;
    std::string f16_accum = "f32";
    app.add_option("-m,--model", model_path, "GGUF model (default: the bundled stories260K)");
    auto* p_opt = app.add_option("-p,--prompt", prompt, "prompt text");
    app.add_option("-f,--file", prompt_file, "read the prompt from a file")->excludes(p_opt);
    app.add_option("-n,--n-predict", n_predict, "tokens to generate (-1: until end of generation)");
    app.add_option("--temp", temp, "temperature (0: greedy)");
    app.add_option("--top-k", top_k, "top-k (0: off)");
    app.add_option("--top-p", top_p, "top-p (1: off)");
    app.add_option("--min-p", min_p, "min-p (0: off)");
    app.add_option("--typical", typical_p, "locally typical sampling p (1: off)");
    app.add_option("--repeat-penalty", repeat_penalty, "repetition penalty (1: off)");
    app.add_option("--repeat-last-n", repeat_last_n, "tokens the penalties look at (-1: all)");
    app.add_option("--presence-penalty", presence, "presence penalty (0: off)");
    app.add_option("--frequency-penalty", frequency, "frequency penalty (0: off)");
    app.add_option("--mirostat", mirostat, "mirostat version (0: off, 1, 2)")->check(CLI::Range(0, 2));
    app.add_option("--mirostat-ent", mirostat_tau, "mirostat target entropy tau");
    app.add_option("--mirostat-lr", mirostat_eta, "mirostat learning rate eta");
    app.add_option("-s,--seed", seed, "sampling seed (-1: random)");
    app.add_option("-t,--threads", threads, "threads (0: all cores)");
    app.add_option("-c,--ctx-size", ctx, "context size (0: the model's, at most 4096)");
    app.add_option("-b,--batch-size", batch, "prompt tokens evaluated together");
    app.add_option("-r,--reverse-prompt,--stop", stops, "stop when this text is generated (repeatable)");
    app.add_flag("--ids", ids, "print the generated token ids instead of text");
    app.add_option("--dump-logits", dump_path, "write the logits of every position to this file");
    app.add_flag("--context-shift", context_shift, "when the context is full, drop the older half instead of failing");
    app.add_flag("--no-special", no_special, "do not add BOS to the prompt");
    app.add_flag("--no-mmap", no_mmap, "read the model into (huge-page) memory instead of mapping it: slower load, faster decode");
    app.add_flag("--no-repack", no_repack, "keep every matrix in the file's layout (no decode layout packed at load)");
    app.add_option("--f16-accum", f16_accum,
                   "F16 dot products: f32 (default), or half = llama.cpp's AVX512-FP16 half-precision sums (slow; to reproduce its logits)")
        ->check(CLI::IsMember({"f32", "half"}));
    app.add_flag("-v,--verbose", verbose, "log the model and sampler setup");
    CLI11_PARSE(app, argc, argv);

    try {
        if (!prompt_file.empty()) prompt = read_file(prompt_file);
        const auto t_load = std::chrono::steady_clock::now();
        auto model = llmt::load_any(model_path, {.context = ctx,
                                                 .batch = batch,
                                                 .threads = threads,
                                                 .mode = no_mmap ? llmt::io::load_mode::read_only : llmt::io::load_mode::mmap_or_read,
                                                 .f16_accum = f16_accum == "half" ? llmt::f16_accumulation::half : llmt::f16_accumulation::f32,
                                                 .repack = !no_repack});
        const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_load).count();
        fmt::print(stderr, "llmt-run: {} ({}: {}), {} layers, n_embd {}, vocab {}, context {}, {} threads, loaded in {:.1f} ms\n",
                   std::filesystem::path(model_path).filename().string(), model->params().arch, model->describe(),
                   model->params().n_layer, model->params().n_embd, model->n_vocab(), model->n_ctx(), model->threads(), load_ms);

        llmt::sampling::params sp;
        sp.temp = temp;
        sp.top_k = top_k;
        sp.top_p = top_p;
        sp.min_p = min_p;
        sp.typical_p = typical_p;
        sp.repeat_penalty = repeat_penalty;
        sp.repeat_last_n = int(repeat_last_n);
        sp.freq_penalty = frequency;
        sp.presence_penalty = presence;
        sp.mirostat = mirostat;
        sp.mirostat_tau = mirostat_tau;
        sp.mirostat_eta = mirostat_eta;
        const std::uint64_t used_seed = seed >= 0 ? std::uint64_t(seed) : std::random_device{}();
        sp.seed = used_seed;
        if (verbose) fmt::print(stderr, "llmt-run: seed {}\n", used_seed);
        llmt::session session(*model, llmt::sampling::chain::from_params(sp), used_seed);

        llmt::generate_options opt;
        opt.max_tokens = n_predict;
        opt.stop = stops;
        opt.add_special = !no_special;
        opt.context_full = context_shift ? llmt::runtime::on_context_full::shift : llmt::runtime::on_context_full::error;
        opt.cancel = &g_cancel;
        std::signal(SIGINT, on_sigint);

        std::FILE* dump = nullptr;
        std::vector<llmt::token_id> prompt_tokens;
        if (!dump_path.empty()) {
            dump = std::fopen(dump_path.c_str(), "wb");
            if (!dump) llmt::fail(llmt::errc::io, "cannot create '{}'", dump_path);
            prompt_tokens = session.get_tokenizer().encode(prompt, opt.add_special);
            std::string shown = prompt;
            std::replace(shown.begin(), shown.end(), '\n', '|');
            fmt::print(dump, "# model {}\n# prompt \"{}\"\n", std::filesystem::path(model_path).filename().string(), shown);
            fmt::print(dump, "# n_vocab {} n_prompt {} n_gen {} threads {} kv_cache f32 flash_attn off\n", model->n_vocab(),
                       prompt_tokens.size(), n_predict, model->threads());
            fmt::print(dump, "# prompt_tokens {}\n", fmt::join(prompt_tokens, " "));
            fmt::print(dump, "# format: header line per position, then n_vocab logits (%.9g, 8 per line)\n");
            const auto n_prompt = std::int64_t(prompt_tokens.size());
            // n_prompt dies with this block: capture it by value (the callback runs during generate).
            opt.on_logits = [dump, n_prompt](std::int64_t pos, llmt::token_id input, std::span<const float> logits) {
                dump_position(dump, pos >= n_prompt, pos, input, logits);
            };
        }

        if (!ids) {
            std::fputs(prompt.c_str(), stdout);
            std::fflush(stdout);
        }
        auto res = session.generate(prompt, opt, [&](std::string_view piece) {
            if (ids) return;
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
        });
        if (ids) fmt::print("{}\n", fmt::join(res.tokens, " "));
        else std::fputs("\n", stdout);

        if (dump) {
            session.evaluate_pending(opt);  // the dump holds the logits after the last generated token too
            std::string text = res.text;
            std::replace(text.begin(), text.end(), '\n', '|');
            fmt::print(dump, "# {}generated_tokens {}\n# {}text {}\n", temp <= 0 ? "greedy_" : "", fmt::join(res.tokens, " "),
                       temp <= 0 ? "greedy_" : "", text);
            std::fclose(dump);
        }
        fmt::print(stderr, "llmt-run: prompt {} tokens in {:.1f} ms ({:.1f} tokens/s), generated {} tokens in {:.1f} ms ({:.1f} tokens/s), stop: {}\n",
                   res.time.n_prompt, res.time.prompt_ms, res.time.prompt_tps(), res.time.n_gen, res.time.gen_ms, res.time.gen_tps(),
                   llmt::runtime::name(res.reason));
        return res.reason == llmt::runtime::stop_reason::cancelled ? 130 : 0;
    } catch (const llmt::error& e) {
        fmt::print(stderr, "llmt-run: error: {}\n", e.what());
        return 1;
    }
}
