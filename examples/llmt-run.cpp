// llmt-run: generate text from a prompt with any GGUF model llmt knows (stdout: prompt + generated text only)
#include "chat_loop.hpp"
#include "cli_app.hpp"

#include <llmt/io/atomic_output_file.hpp>
#include <llmt/llmt.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace {
std::atomic<bool> g_cancel{false};
extern "C" void on_sigint(int) { g_cancel.store(true); }

// One position of the logits dump, in the layout of tests/data/stories260K/ref_logits_*.txt.
void dump_position(std::FILE* f, bool gen, std::int64_t pos, llmt::token_id input, std::span<const float> logits) {
    const auto best = std::max_element(logits.begin(), logits.end());
    fmt::print(f, "{} pos {} input_token {} argmax {} max_logit {:.9g}\n", gen ? "gen" : "prompt", pos, input,
               best - logits.begin(), *best);
    for (std::size_t i = 0; i < logits.size(); ++i) fmt::print(f, "{:.9g}{}", logits[i], (i % 8 == 7 || i + 1 == logits.size()) ? "\n" : " ");
}

int run(int argc, char** argv) {
    using namespace llmt_cli;
    CLI::App app{"llmt-run: generate text with a GGUF model (-cnv: chat with it, as llmt-chat)"};
    app.option_defaults()->always_capture_default();
    gen_options o;
    std::string dump_path;
    std::vector<std::string> stops;
    bool ids = false, no_special = false;
    add_model_options(app, o);
    auto* p_opt = app.add_option("-p,--prompt", o.prompt, "prompt text (with -cnv: the system prompt)");
    app.add_option("-f,--file", o.prompt_file, "read the prompt from a file (a regular file of at most 1 GiB)")->excludes(p_opt);
    app.add_option("--system-prompt", o.system_prompt, "-sys: system prompt of -cnv (default: -p)");
    app.add_option("-r,--reverse-prompt,--stop", stops, "stop when this text is generated (repeatable)");
    app.add_flag("--ids", ids, "print the generated token ids as they come instead of text");
    app.add_option("--dump-logits", dump_path, "write the logits of every position to this file (replaced only when complete)");
    app.add_flag("--no-special", no_special, "do not add BOS to the prompt");
    app.add_flag("--no-display-prompt", o.no_display_prompt, "do not print the prompt before the generated text");
    app.add_flag("--conversation", o.conversation, "-cnv: chat with the model as llmt-chat does, -p as the system prompt");
    app.add_flag("--no-conversation", o.no_conversation, "-no-cnv: plain text completion (the default)");
    app.add_flag("-i,--interactive", o.interactive, "the same as -cnv");
    add_generation_options(app, o, 128);
    add_sampling_options(app, o);
    parse(app, argc, argv);
    after_parse(o);
    const bool chat = (o.conversation || o.interactive) && !o.no_conversation;
    if ((o.conversation || o.interactive) && o.no_conversation) usage_fail("-cnv/-i and -no-cnv contradict each other");
    if (chat && (ids || !dump_path.empty())) usage_fail("--ids and --dump-logits are for text completion, not with -cnv");

    std::string prompt = o.prompt;
    if (!o.prompt_file.empty()) prompt = read_text_file(o.prompt_file, "-f/--file");
    if (o.escape) prompt = process_escapes(prompt);
    std::string system_prompt = o.system_prompt.empty() ? prompt : o.system_prompt;
    if (o.escape) system_prompt = process_escapes(system_prompt);
    o.model = resolve_model(o.model);

    // Created before the model is loaded: an output that is the model or the prompt file is refused.
    std::optional<llmt::io::atomic_output_file> dump;
    if (!dump_path.empty()) {
        if (o.prompt_file.empty()) dump.emplace(dump_path, std::initializer_list<std::filesystem::path>{o.model});
        else dump.emplace(dump_path, std::initializer_list<std::filesystem::path>{o.model, o.prompt_file});
    }

    const auto t_load = std::chrono::steady_clock::now();
    auto model = load_model(o);
    const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_load).count();
    fmt::print(stderr, "llmt-run: {} ({}: {}), {} layers, n_embd {}, vocab {}, context {}, {} threads, loaded in {:.1f} ms\n",
               std::filesystem::path(o.model).filename().string(), model->params().arch, model->describe(),
               model->params().n_layer, model->params().n_embd, model->n_vocab(), model->n_ctx(), model->threads(), load_ms);
    std::signal(SIGINT, on_sigint);
    if (chat) return chat_loop(o, *model, system_prompt, g_cancel);

    const std::uint64_t seed = pick_seed(o);
    if (o.verbose) fmt::print(stderr, "llmt-run: seed {}\n", seed);
    llmt::session session(*model, llmt::sampling::chain::from_params(make_sampling(o, seed)), seed);

    llmt::generate_options opt;
    opt.max_tokens = o.n_predict;
    opt.stop = stops;
    opt.add_special = !no_special;
    opt.context_full = o.context_shift ? llmt::runtime::on_context_full::shift : llmt::runtime::on_context_full::error;
    opt.cancel = &g_cancel;
    const auto prompt_tokens = session.get_tokenizer().encode(prompt, opt.add_special);
    const bool has_bos = !prompt_tokens.empty() && opt.add_special && prompt_tokens[0] == session.get_tokenizer().bos();
    if (!o.context_shift && std::int64_t(prompt_tokens.size()) > model->n_ctx())  // before anything is printed
        llmt::fail(llmt::errc::invalid_argument,
                   "the prompt has {} tokens, more than the context of {} positions: pass a larger -c/--ctx-size, or --context-shift",
                   prompt_tokens.size(), model->n_ctx());
    if (o.keep == -1) opt.n_keep = std::int64_t(prompt_tokens.size());
    else if (o.keep >= 0) opt.n_keep = o.keep + (has_bos ? 1 : 0);
    opt.ignore_eos = o.ignore_eos;
    bool first_id = true;
    if (ids)  // printed as they come, so a run that stops early has shown them
        opt.on_token = [&](llmt::token_id t) {
            if (!out_flush((first_id ? "" : " ") + std::to_string(t))) g_cancel = true;
            first_id = false;
        };

    if (dump) {
        std::FILE* f = dump->get();
        std::string shown = prompt;
        std::replace(shown.begin(), shown.end(), '\n', '|');
        fmt::print(f, "# model {}\n# prompt \"{}\"\n", std::filesystem::path(o.model).filename().string(), shown);
        fmt::print(f, "# n_vocab {} n_prompt {} n_gen {} threads {} kv_cache f32 flash_attn off\n", model->n_vocab(),
                   prompt_tokens.size(), o.n_predict, model->threads());
        fmt::print(f, "# prompt_tokens {}\n", fmt::join(prompt_tokens, " "));
        fmt::print(f, "# format: header line per position, then n_vocab logits (%.9g, 8 per line)\n");
        const auto n_prompt = std::int64_t(prompt_tokens.size());
        // n_prompt dies with this block: capture it by value (the callback runs during generate).
        opt.on_logits = [f, n_prompt](std::int64_t pos, llmt::token_id input, std::span<const float> logits) {
            dump_position(f, pos >= n_prompt, pos, input, logits);
        };
    }

    if (!ids && !o.no_display_prompt) out_flush(prompt);
    auto res = session.generate(std::span<const llmt::token_id>(prompt_tokens), opt, [&](std::string_view piece) {
        if (ids) return;
        if (!out_flush(piece)) g_cancel = true;  // stdout is gone: stop generating
    });
    out("\n");
    std::fflush(stdout);  // the text before the statistics when both go to one pipe

    if (dump) {
        session.evaluate_pending(opt);  // the dump holds the logits after the last generated token too
        std::string text = res.text;
        std::replace(text.begin(), text.end(), '\n', '|');
        const bool greedy = o.temp <= 0;
        fmt::print(dump->get(), "# {}generated_tokens {}\n# {}text {}\n", greedy ? "greedy_" : "", fmt::join(res.tokens, " "),
                   greedy ? "greedy_" : "", text);
        dump->commit();
    }
    fmt::print(stderr, "llmt-run: prompt {} tokens in {:.1f} ms ({:.1f} tokens/s), generated {} tokens in {:.1f} ms ({:.1f} tokens/s), stop: {}\n",
               res.time.n_prompt, res.time.prompt_ms, res.time.prompt_tps(), res.time.n_gen, res.time.gen_ms, res.time.gen_tps(),
               llmt::runtime::name(res.reason));
    if (res.reason == llmt::runtime::stop_reason::context_full)
        note("the context of {} positions is full: pass --context-shift to go on past it, or a larger -c/--ctx-size",
             model->n_ctx());
    if (res.reason == llmt::runtime::stop_reason::cancelled && !stdout_failed()) return 130;
    return exit_ok;
}
}  // namespace

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-run", [&] { return run(argc, argv); });
}
