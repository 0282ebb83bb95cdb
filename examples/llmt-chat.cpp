// llmt-chat: interactive multi-turn chat with a GGUF model's chat template (/clear, /system, /quit; stdin may be a pipe)
#include <llmt/llmt.hpp>

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

namespace {
std::atomic<bool> g_cancel{false};
extern "C" void on_sigint(int) { g_cancel.store(true); }
}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"llmt-chat: chat with a GGUF model"};
    std::string model_path = LLMT_DEFAULT_MODEL, system_prompt, template_name;
    std::int64_t n_predict = 512, ctx = 0, seed = -1;
    int threads = 0, top_k = 40;
    float temp = 0.8f, top_p = 0.95f, min_p = 0.05f, repeat_penalty = 1.0f;
    bool context_shift = false;
    app.add_option("-m,--model", model_path, "GGUF model (default: the bundled stories260K)");
    app.add_option("--system", system_prompt, "system prompt");
    std::string names;
    for (const auto& [n, st] : llmt::runtime::chat_template::known) names += (names.empty() ? "" : ", ") + std::string(n);
    app.add_option("--chat-template", template_name, "chat format (default: recognized from the file's template): " + names);
    app.add_option("-n,--n-predict", n_predict, "most tokens per reply (-1: until end of turn)");
    app.add_option("--temp", temp, "temperature (0: greedy)");
    app.add_option("--top-k", top_k, "top-k (0: off)");
    app.add_option("--top-p", top_p, "top-p (1: off)");
    app.add_option("--min-p", min_p, "min-p (0: off)");
    app.add_option("--repeat-penalty", repeat_penalty, "repetition penalty (1: off)");
    app.add_option("-s,--seed", seed, "sampling seed (-1: random)");
    app.add_option("-t,--threads", threads, "threads (0: all cores)");
    app.add_option("-c,--ctx-size", ctx, "context size (0: the model's, at most 4096)");
    app.add_flag("--context-shift", context_shift, "when the context is full, drop the older half instead of failing");
    CLI11_PARSE(app, argc, argv);

    try {
        auto model = llmt::load_any(model_path, {.context = ctx, .threads = threads});
        // The chat format: --chat-template wins, else the file's Jinja template recognized by its markers.
        std::optional<llmt::runtime::chat_template> format;
        const auto file_template = model->gguf().get_string("tokenizer.chat_template");
        if (!template_name.empty()) {
            format = llmt::runtime::chat_template::detect(template_name);
            if (!format || format->name() != template_name)
                llmt::fail(llmt::errc::invalid_argument, "unknown --chat-template '{}' (known: {})", template_name, names);
        } else if (file_template) {
            format = llmt::runtime::chat_template::detect(*file_template);
        }
        if (!format)
            llmt::fail(llmt::errc::unsupported, "{}: pass --chat-template NAME (one of {})",
                       file_template ? "the file's chat template is not one llmt recognizes" : "the file has no chat template", names);

        llmt::sampling::params sp;
        sp.temp = temp;
        sp.top_k = top_k;
        sp.top_p = top_p;
        sp.min_p = min_p;
        sp.repeat_penalty = repeat_penalty;
        sp.seed = seed >= 0 ? std::uint64_t(seed) : std::random_device{}();
        llmt::session session(*model, llmt::sampling::chain::from_params(sp), sp.seed);
        const bool interactive = isatty(STDIN_FILENO);
        fmt::print(stderr, "llmt-chat: {} ({}), chat format {}, context {}. Commands: /clear, /system TEXT, /quit\n",
                   model_path, model->describe(), format->name(), model->n_ctx());

        std::vector<llmt::runtime::chat_message> history;
        auto restart = [&] {
            history.clear();
            if (!system_prompt.empty()) history.push_back({"system", system_prompt});
            session.reset();
        };
        restart();
        std::signal(SIGINT, on_sigint);
        llmt::generate_options opt;
        opt.max_tokens = n_predict;
        opt.stop = format->stop_strings();
        opt.add_special = true;
        opt.parse_special = true;
        opt.context_full = context_shift ? llmt::runtime::on_context_full::shift : llmt::runtime::on_context_full::error;
        opt.cancel = &g_cancel;

        std::string line;
        while (true) {
            if (interactive) fmt::print(stderr, "> ");
            if (!std::getline(std::cin, line)) break;
            if (line.empty()) continue;
            if (line == "/quit" || line == "/exit") break;
            if (line == "/clear") {
                restart();
                fmt::print(stderr, "llmt-chat: conversation cleared\n");
                continue;
            }
            if (line.rfind("/system", 0) == 0) {
                system_prompt = line.size() > 8 ? line.substr(8) : "";
                restart();
                fmt::print(stderr, "llmt-chat: system prompt set, conversation cleared\n");
                continue;
            }
            history.push_back({"user", line});
            const std::string rendered = format->apply(history, true);
            const auto ids = session.get_tokenizer().encode(rendered, true, true);
            g_cancel = false;
            const auto res = session.generate_from(ids, opt, [](std::string_view piece) {
                std::fwrite(piece.data(), 1, piece.size(), stdout);
                std::fflush(stdout);
            });
            std::fputs("\n", stdout);
            std::fflush(stdout);
            history.push_back({"assistant", res.text});
            fmt::print(stderr, "llmt-chat: [{} prompt tokens, {} generated at {:.1f} tokens/s, stop: {}]\n", res.time.n_prompt,
                       res.time.n_gen, res.time.gen_tps(), llmt::runtime::name(res.reason));
        }
        return 0;
    } catch (const llmt::error& e) {
        fmt::print(stderr, "llmt-chat: error: {}\n", e.what());
        return 1;
    }
}
