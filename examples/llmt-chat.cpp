// llmt-chat: interactive multi-turn chat with a GGUF model's chat template (/help, /clear, /system, /quit; stdin may be a pipe)
#include "chat_loop.hpp"
#include "cli_app.hpp"

#include <llmt/llmt.hpp>

#include <atomic>
#include <csignal>
#include <string>

namespace {
std::atomic<bool> g_cancel{false};
extern "C" void on_sigint(int) { g_cancel.store(true); }

int run(int argc, char** argv) {
    using namespace llmt_cli;
    CLI::App app{"llmt-chat: chat with a GGUF model (stdin may be a pipe; /help lists the commands)"};
    app.option_defaults()->always_capture_default();
    gen_options o;
    add_model_options(app, o);
    app.add_option("--system,--system-prompt,-p,--prompt", o.system_prompt, "system prompt (-sys, -p as llama-cli -cnv)");
    app.add_flag("--conversation", o.conversation, "-cnv: accepted (llmt-chat always converses)");
    app.add_flag("-i,--interactive", o.interactive, "accepted (llmt-chat always converses)");
    app.add_flag("--no-conversation", o.no_conversation, "-no-cnv: refused (plain completion is llmt-run)");
    add_generation_options(app, o, 512);
    add_sampling_options(app, o);
    parse(app, argc, argv);
    after_parse(o);
    if (o.no_conversation) usage_fail("-no-cnv: llmt-chat always converses; for plain text completion run llmt-run");
    std::string system_prompt = o.escape ? process_escapes(o.system_prompt) : o.system_prompt;
    auto model = load_model(o);
    std::signal(SIGINT, on_sigint);
    return chat_loop(o, *model, system_prompt, g_cancel);
}
}  // namespace

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-chat", [&] { return run(argc, argv); });
}
