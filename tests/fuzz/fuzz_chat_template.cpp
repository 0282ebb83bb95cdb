// fuzz_chat_template: libFuzzer target: detect() and the Jinja interpreter on arbitrary template text, every style applied to arbitrary messages
#include "fuzz_input.hpp"

#include <llmt/core/error.hpp>
#include <llmt/runtime/chat_template.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using llmt::runtime::chat_message;
using llmt::runtime::chat_template;
using llmt_fuzz::finding;
using llmt_fuzz::input;

constexpr std::string_view target = "fuzz_chat_template";

volatile std::size_t sink;  // keeps the renders from being optimized out

std::string role_of(input& in) {
    static constexpr std::string_view roles[] = {"system", "user", "assistant", "tool", "", "User", "ipython", "function"};
    const std::uint8_t k = in.u8();
    if (k < 8 * 28) return std::string(roles[k % 8]);
    return in.str();  // any bytes
}

void render_all(std::span<const chat_message> chat, bool add) {
    std::size_t content_bytes = 0;
    for (const auto& m : chat) content_bytes += m.content.size();
    for (const auto& [name, style] : chat_template::known) {
        const chat_template t(style);
        if (t.name() != name) finding(target, "a known style does not report its own name");
        const std::string out = t.apply(chat, add);
        const auto r = t.render(chat, add);
        if (r.text != out) finding(target, "apply() differs from render().text");
        // The message ranges: sorted, disjoint, non-empty, inside the text, and no more bytes than the
        // messages hold (formats trim messages and join some: gemma and orion gather the system
        // messages into the next user turn, so a range is not always one message's text).
        std::size_t prev_end = 0, in_ranges = 0;
        for (const auto& [b, e] : r.content) {
            if (b >= e || e > r.text.size() || b < prev_end)
                finding(target, "render()'s content ranges are not sorted, disjoint, non-empty ranges of the text");
            in_ranges += e - b;
            prev_end = e;
        }
        if (in_ranges > content_bytes) finding(target, "render()'s content ranges hold more bytes than the messages");
        std::size_t in_bytes = 0;
        for (const auto& m : chat) in_bytes += m.role.size() + m.content.size();
        // A render keeps each message's content (trimmed at most) plus the format's framing;
        // it never grows without bound.
        if (out.size() > 64 * (chat.size() + 2) + 4 * in_bytes + 4096) finding(target, "a render is far larger than its input");
        sink = sink + out.size();
        for (const auto& s : t.stop_strings()) sink = sink + s.size();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in(std::span(data, size));
    const std::uint8_t mode = in.u8();

    if (mode % 4 == 0) {
        // The whole rest is a template source (a GGUF tokenizer.chat_template): detect, then render with it.
        const std::string_view src = in.rest();
        const auto t = chat_template::detect(src);
        try {
            const auto n = chat_template::from_name(src);
            if (!t || *t != n) finding(target, "from_name accepts a name detect() does not recognise");
        } catch (const llmt::error&) {
        }
        const std::vector<chat_message> chat{{"system", "s"}, {"user", std::string(src.substr(0, 64))}, {"assistant", "a"}};
        if (t) sink = sink + t->apply(chat, true).size();
        // The same text as a Jinja template: it renders, or it is an llmt::error; never a crash,
        // and the work stays within the limits.
        try {
            const auto j = chat_template::from_jinja(src, "<s>", "</s>", true);
            llmt::runtime::chat_extras ex;
            ex.jinja.lim.max_steps = 100000;
            ex.jinja.lim.max_output = 1 << 20;
            const auto r = j.render(chat, true, ex);
            if (r.text.size() > ex.jinja.lim.max_output) finding(target, "a Jinja render is larger than its output limit");
            std::size_t prev_end = 0;
            for (const auto& [b, e] : r.content) {
                if (b >= e || e > r.text.size() || b < prev_end)
                    finding(target, "a Jinja render's content ranges are not sorted, disjoint, non-empty ranges of the text");
                prev_end = e;
            }
            sink = sink + r.text.size();
        } catch (const llmt::error&) {
        }
        return 0;
    }

    // Otherwise: a conversation carved from the input, rendered by every style.
    std::vector<chat_message> chat;
    const std::size_t n = in.u8() % 12;
    for (std::size_t i = 0; i < n && !in.empty(); ++i) {
        chat_message m;
        m.role = role_of(in);
        m.content = i + 1 == n ? std::string(in.rest()) : in.str();
        chat.push_back(std::move(m));
    }
    render_all(chat, mode & 1);
    return 0;
}
