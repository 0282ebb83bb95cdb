// chat_loop: the conversation loop of llmt-chat and llmt-run -cnv (commands, turns, a full context that is not fatal)
#pragma once

#include "cli_app.hpp"

#include <unistd.h>

#include <atomic>
#include <iostream>
#include <string>
#include <vector>

namespace llmt_cli {

inline constexpr const char* chat_commands =
    "commands: /help (this list), /clear (forget the conversation), /system TEXT (set the system prompt and clear),\n"
    "          /quit or /exit (end; so does end of input); a line starting with // sends it with one / less";

/// Reads lines from stdin and answers each with the model until /quit or end of input. A turn that
/// fails (its prompt does not fit the context) is reported and the conversation goes on. Returns
/// the exit status.
inline int chat_loop(const gen_options& o, llmt::model_base& model, std::string system_prompt,
                     std::atomic<bool>& cancel) {
    const std::uint64_t seed = pick_seed(o);
    llmt::session session(model, llmt::sampling::chain::from_params(make_sampling(o, seed)), seed);
    const auto format = pick_chat_template(o, model, session.get_tokenizer().get_vocab());
    const bool interactive = isatty(STDIN_FILENO);
    fmt::print(stderr, "{}: {} ({}), chat format {}, context {}. /help lists the commands\n", tool(), o.model,
               model.describe(), format.name(), model.n_ctx());

    std::vector<llmt::runtime::chat_message> history;
    auto restart = [&] {
        history.clear();
        if (!system_prompt.empty()) history.push_back({"system", system_prompt});
        session.reset();
    };
    restart();
    llmt::generate_options opt;
    opt.max_tokens = o.n_predict;
    opt.stop = format.stop_strings();
    opt.add_special = true;
    opt.ignore_eos = o.ignore_eos;
    opt.context_full = o.context_shift ? llmt::runtime::on_context_full::shift : llmt::runtime::on_context_full::error;
    opt.cancel = &cancel;

    std::string line;
    while (!stdout_failed()) {
        if (interactive) fmt::print(stderr, "> ");
        if (!std::getline(std::cin, line)) break;
        if (line.empty()) continue;
        if (line[0] == '/' && line.rfind("//", 0) != 0) {
            const auto sp = line.find(' ');
            const std::string cmd = line.substr(0, sp);
            if (cmd == "/quit" || cmd == "/exit") break;
            if (cmd == "/help") {
                fmt::print(stderr, "{}\n", chat_commands);
            } else if (cmd == "/clear") {
                restart();
                fmt::print(stderr, "{}: conversation cleared\n", tool());
            } else if (cmd == "/system") {
                system_prompt = sp == std::string::npos ? "" : line.substr(sp + 1);
                restart();
                fmt::print(stderr, "{}: system prompt set, conversation cleared\n", tool());
            } else {
                fmt::print(stderr, "{}: unknown command {} (/help lists the commands; start with // to send a line beginning with /)\n",
                           tool(), cmd);
            }
            continue;
        }
        if (line.rfind("//", 0) == 0) line.erase(0, 1);
        history.push_back({"user", line});
        cancel = false;
        llmt::generation_result res;
        try {
            // Special tokens come only from the template's text: what the user typed stays text.
            // A file's template may refuse a conversation (raise_exception): this turn fails.
            const auto rendered = format.render(history, true);
            const auto ids = session.get_tokenizer().encode(rendered.text, true, true, rendered.content);
            res = session.generate_from(ids, opt, [](std::string_view piece) { out_flush(piece); });
        } catch (const llmt::error& e) {
            history.pop_back();
            out_flush("\n");
            fmt::print(stderr, "{}: error: this turn failed: {} (/clear starts over{})\n", tool(), e.what(),
                       o.context_shift ? "" : "; --context-shift keeps a long conversation going");
            session.reset();  // the cache may hold part of the failed turn: rebuilt from the history next turn
            continue;
        }
        out_flush("\n");
        history.push_back({"assistant", res.text});
        fmt::print(stderr, "{}: [{} prompt tokens, {} generated at {:.1f} tokens/s, stop: {}]\n", tool(), res.time.n_prompt,
                   res.time.n_gen, res.time.gen_tps(), llmt::runtime::name(res.reason));
        if (res.reason == llmt::runtime::stop_reason::context_full)
            fmt::print(stderr, "{}: the context of {} positions is full: /clear starts over{}\n", tool(), model.n_ctx(),
                       o.context_shift ? "" : ", --context-shift keeps a long conversation going");
    }
    return exit_ok;
}

}  // namespace llmt_cli
