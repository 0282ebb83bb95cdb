// chat_template: chat prompt formats: a file's Jinja template, or built-in ones (chatml, llama2/3, mistral, gemma, phi3, ...)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/runtime/jinja.hpp>

#include <array>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace runtime {

/// One turn of a conversation: role is "system", "user" or "assistant" (some formats know
/// more, e.g. "tool"); roles a format does not know are skipped, as llama.cpp does.
struct chat_message {
    std::string role, content;
    /// An assistant turn's tool calls as JSON, for Jinja templates: an array of
    /// {"type": "function", "function": {"name": ..., "arguments": {...}}} (message.tool_calls);
    /// empty: none. Its strings are message text (see rendered_chat).
    std::string tool_calls = {};
};

/// What a render needs beyond the conversation (Jinja templates only).
struct chat_extras {
    /// The tools the model may call, as a JSON array (the template's `tools`); empty: none.
    std::string_view tools_json;
    /// Limits and the time strftime_now() formats (fixed by default, for reproducible prompts).
    jinja::render_options jinja;
};

/// A rendered conversation: the prompt text and where the messages' own text lies in it.
/// Tokenize it with tokenizer::encode(text, add_special, true, content) so that special tokens
/// come only from the template: a user who types "<|im_end|><|im_start|>system" gets that text,
/// not a system turn.
struct rendered_chat {
    std::string text;
    /// [begin, end) byte ranges of text that come from the messages' content (trimmed where the
    /// format trims); sorted, disjoint, none empty. Role names are not in them: they are part of
    /// the markup ("<|" + role + "|>" is phi-3's <|user|> token), so they must come from the
    /// program, never from the user.
    std::vector<std::pair<std::size_t, std::size_t>> content;
};

/// A chat prompt format: either a Jinja template (a GGUF's `tokenizer.chat_template`, rendered
/// by llmt::jinja as Hugging Face and llama.cpp render it), or a built-in format rendered by
/// hand-written code, with the names and outputs of llama.cpp's built-in templates (a Jinja
/// source is recognised by its distinctive substrings: detect). The output never starts with
/// the BOS token when the tokenizer adds it.
class chat_template {
public:
    enum class style : std::uint8_t {
        chatml, llama2, llama2_sys, llama2_sys_bos, llama2_sys_strip, mistral_v1, mistral_v3,
        mistral_v3_tekken, mistral_v7, mistral_v7_tekken, phi3, phi4, falcon3, zephyr, monarch,
        gemma, orion, openchat, vicuna, vicuna_orca, deepseek, deepseek2, deepseek3, command_r,
        llama3, llama4, chatglm3, chatglm4, glmedge, minicpm, exaone3, exaone4, rwkv_world,
        granite, megrez, bailing, smolvlm,
    };

    /// Every built-in template with its name (llama.cpp's names).
    static constexpr std::array<std::pair<std::string_view, style>, 37> known = {{
        {"chatml", style::chatml},
        {"llama2", style::llama2},
        {"llama2-sys", style::llama2_sys},
        {"llama2-sys-bos", style::llama2_sys_bos},
        {"llama2-sys-strip", style::llama2_sys_strip},
        {"mistral-v1", style::mistral_v1},
        {"mistral-v3", style::mistral_v3},
        {"mistral-v3-tekken", style::mistral_v3_tekken},
        {"mistral-v7", style::mistral_v7},
        {"mistral-v7-tekken", style::mistral_v7_tekken},
        {"phi3", style::phi3},
        {"phi4", style::phi4},
        {"falcon3", style::falcon3},
        {"zephyr", style::zephyr},
        {"monarch", style::monarch},
        {"gemma", style::gemma},
        {"orion", style::orion},
        {"openchat", style::openchat},
        {"vicuna", style::vicuna},
        {"vicuna-orca", style::vicuna_orca},
        {"deepseek", style::deepseek},
        {"deepseek2", style::deepseek2},
        {"deepseek3", style::deepseek3},
        {"command-r", style::command_r},
        {"llama3", style::llama3},
        {"llama4", style::llama4},
        {"chatglm3", style::chatglm3},
        {"chatglm4", style::chatglm4},
        {"glmedge", style::glmedge},
        {"minicpm", style::minicpm},
        {"exaone3", style::exaone3},
        {"exaone4", style::exaone4},
        {"rwkv-world", style::rwkv_world},
        {"granite", style::granite},
        {"megrez", style::megrez},
        {"bailing", style::bailing},
        {"smolvlm", style::smolvlm},
    }};

    explicit chat_template(style s) noexcept : style_(s) {}

    /// A Jinja chat template: source is parsed now (a syntax error is an llmt::error(errc::format)
    /// naming its line). bos_token / eos_token: the texts of the vocabulary's BOS and EOS tokens
    /// (the template's variables). add_bos: the tokenizer adds BOS, so a BOS the template writes
    /// first is dropped from the text, as llama.cpp does. name: what name() reports.
    static chat_template from_jinja(std::string_view source, std::string bos_token, std::string eos_token, bool add_bos,
                                    std::string name = "jinja") {
        auto j = std::make_shared<jinja_state>();
        j->program = jinja::program::parse(source);
        j->source = std::string(source);
        j->bos = std::move(bos_token);
        j->eos = std::move(eos_token);
        j->add_bos = add_bos;
        j->name = std::move(name);
        const auto family = detect(source);
        j->recognized = family.has_value();
        chat_template t(family ? family->kind() : style::chatml);
        t.jinja_ = std::move(j);
        return t;
    }

    /// True when render() runs a Jinja template.
    [[nodiscard]] bool is_jinja() const noexcept { return jinja_ != nullptr; }
    /// The Jinja source ("" for a built-in format).
    [[nodiscard]] std::string_view source() const noexcept { return jinja_ ? std::string_view(jinja_->source) : ""; }

    /// Recognises a Jinja chat template (GGUF `tokenizer.chat_template`) by the substrings that
    /// distinguish the families, checked in llama.cpp's order; a bare known name is accepted
    /// too. Unknown: nullopt (the caller then asks for a name).
    static std::optional<chat_template> detect(std::string_view src) {
        for (const auto& [n, s] : known)
            if (src == n) return chat_template{s};
        auto has = [&](std::string_view needle) { return src.find(needle) != std::string_view::npos; };
        if (has("<|im_start|>")) {
            if (has("<|im_sep|>")) return chat_template{style::phi4};
            if (has("<end_of_utterance>")) return chat_template{style::smolvlm};  // <|im_start|> is its BOS
            return chat_template{style::chatml};
        }
        if (src.substr(0, 7) == "mistral" || has("[INST]")) {
            if (has("[SYSTEM_PROMPT]")) return chat_template{style::mistral_v7};
            if (has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]")) {
                if (has(" [INST]")) return chat_template{style::mistral_v1};
                if (has("\"[INST]\"")) return chat_template{style::mistral_v3_tekken};
                return chat_template{style::mistral_v3};
            }
            if (has("content.strip()")) return chat_template{style::llama2_sys_strip};
            if (has("bos_token + '[INST]")) return chat_template{style::llama2_sys_bos};
            if (has("<<SYS>>")) return chat_template{style::llama2_sys};
            return chat_template{style::llama2};
        }
        if (has("<|assistant|>") && has("<|end|>")) return chat_template{style::phi3};
        if (has("[gMASK]<sop>")) return chat_template{style::chatglm4};
        if (has("<|assistant|>") && has("<|user|>"))
            return chat_template{has("</s>") ? style::falcon3 : style::glmedge};
        if (has("<|{{ item['role'] }}|>") && has("<|begin_of_image|>")) return chat_template{style::glmedge};
        if (has("<|user|>") && has("<|endoftext|>")) return chat_template{style::zephyr};
        if (has("bos_token + message['role']")) return chat_template{style::monarch};
        if (has("<start_of_turn>")) return chat_template{style::gemma};
        if (has("'\\n\\nAssistant: ' + eos_token")) return chat_template{style::orion};
        if (has("GPT4 Correct ")) return chat_template{style::openchat};
        if (has("USER: ") && has("ASSISTANT: "))
            return chat_template{has("SYSTEM: ") ? style::vicuna_orca : style::vicuna};
        if (has("### Instruction:") && has("<|EOT|>")) return chat_template{style::deepseek};
        if (has("<|START_OF_TURN_TOKEN|>") && has("<|USER_TOKEN|>")) return chat_template{style::command_r};
        if (has("<|start_header_id|>") && has("<|end_header_id|>")) return chat_template{style::llama3};
        if (has("[gMASK]sop")) return chat_template{style::chatglm3};
        if (has("<用户>")) return chat_template{style::minicpm};
        if (has("'Assistant: ' + message['content'] + eos_token")) return chat_template{style::deepseek2};
        if (has("<｜Assistant｜>") && has("<｜User｜>") && has("<｜end▁of▁sentence｜>"))
            return chat_template{style::deepseek3};
        if (has("[|system|]") && has("[|assistant|]") && has("[|endofturn|]"))
            return chat_template{has("[|tool|]") ? style::exaone4 : style::exaone3};
        if (has("rwkv-world") || has("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}"))
            return chat_template{style::rwkv_world};
        if (has("<|start_of_role|>")) return chat_template{style::granite};
        if (has("<|role_start|>")) return chat_template{style::megrez};
        if (has("<role>ASSISTANT</role>") && has("'HUMAN'")) return chat_template{style::bailing};
        if (has("<|header_start|>") && has("<|header_end|>")) return chat_template{style::llama4};
        return std::nullopt;
    }

    /// The template called `name` (see known); otherwise an error listing the known names.
    static chat_template from_name(std::string_view name) {
        for (const auto& [n, s] : known)
            if (name == n) return chat_template{s};
        std::string list;
        for (const auto& [n, s] : known) {
            if (!list.empty()) list += ", ";
            list += n;
        }
        fail(errc::invalid_argument, "unknown chat template '{}'; known templates: {}", name, list);
    }

    /// The built-in format; for a Jinja template the family detect() recognises in it (chatml if none).
    [[nodiscard]] style kind() const noexcept { return style_; }

    [[nodiscard]] std::string_view name() const noexcept {
        if (jinja_) return jinja_->name;
        for (const auto& [n, s] : known)
            if (s == style_) return n;
        return "unknown";
    }

    /// Renders the conversation; with add_assistant_prefix the opening of the assistant's turn
    /// is appended (formats whose user turn already opens it ignore the flag, as llama.cpp).
    /// The text with the byte ranges that are message text (see rendered_chat).
    [[nodiscard]] rendered_chat render(std::span<const chat_message> chat, bool add_assistant_prefix) const {
        return render(chat, add_assistant_prefix, chat_extras{});
    }
    /// As render(chat, add_assistant_prefix), with tools and render options for a Jinja template
    /// (a built-in format ignores them). A Jinja template may fail (raise_exception, a limit):
    /// llmt::error naming the template's line.
    [[nodiscard]] rendered_chat render(std::span<const chat_message> chat, bool add_assistant_prefix,
                                       const chat_extras& extras) const;

    /// The text of render() alone. Tokenizing it with special-token parsing on lets message text
    /// turn into control tokens: use render() and its ranges for a prompt.
    [[nodiscard]] std::string apply(std::span<const chat_message> chat, bool add_assistant_prefix) const {
        return render(chat, add_assistant_prefix).text;
    }

    /// Text that marks the end of the assistant's turn or the start of the next one: generation
    /// should stop there if the model does not emit an end-of-generation token.
    [[nodiscard]] std::vector<std::string> stop_strings() const;

    friend bool operator==(const chat_template& a, const chat_template& b) noexcept {
        return a.style_ == b.style_ && a.jinja_ == b.jinja_;
    }

private:
    struct jinja_state {
        jinja::program program;
        std::string source, bos, eos, name;
        bool add_bos = false;
        bool recognized = false;  // detect() knows the family: its stop strings apply
    };
    style style_;
    std::shared_ptr<const jinja_state> jinja_;

    rendered_chat render_jinja(std::span<const chat_message> chat, bool add, const chat_extras& extras) const;
};

namespace detail {
/// ASCII whitespace trimmed at both ends (Python's str.strip() / Jinja's trim on ASCII).
inline std::string_view trim_ascii(std::string_view s) noexcept {
    auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}
}  // namespace detail

inline rendered_chat chat_template::render_jinja(std::span<const chat_message> chat, bool add,
                                                const chat_extras& extras) const {
    const jinja_state& j = *jinja_;
    jinja::array messages;
    messages.reserve(chat.size());
    for (const auto& m : chat) {
        jinja::object msg;
        msg.set("role", jinja::value(m.role));
        // Message text is literal: the tokenizer never reads control tokens in it.
        msg.set("content", jinja::value::literal(m.content));
        if (!m.tool_calls.empty()) msg.set("tool_calls", jinja::from_json(m.tool_calls, true));
        messages.emplace_back(std::move(msg));
    }
    jinja::object ctx;
    ctx.set("messages", jinja::value(std::move(messages)));
    ctx.set("add_generation_prompt", add);
    ctx.set("bos_token", jinja::value(j.bos));
    ctx.set("eos_token", jinja::value(j.eos));
    if (!extras.tools_json.empty()) ctx.set("tools", jinja::from_json(extras.tools_json));
    jinja::text out = j.program.render(ctx, extras.jinja);
    std::size_t skip = 0;
    if (j.add_bos && !j.bos.empty() && out.s.compare(0, j.bos.size(), j.bos) == 0) skip = j.bos.size();
    rendered_chat r;
    r.text = out.s.substr(skip);
    for (const auto& [b, e] : out.lit) {
        const std::size_t nb = std::max(b, skip) - skip, ne = std::max(e, skip) - skip;
        if (nb < ne) r.content.emplace_back(nb, ne);
    }
    return r;
}

inline rendered_chat chat_template::render(std::span<const chat_message> chat, bool add, const chat_extras& extras) const {
    if (jinja_) return render_jinja(chat, add, extras);
    using detail::trim_ascii;
    rendered_chat r;
    std::string& out = r.text;
    std::size_t total = 64;
    for (const auto& m : chat) total += m.role.size() + m.content.size() + 32;
    out.reserve(total);
    r.content.reserve(2 * chat.size());
    // Text of the messages goes through lit(): its bytes are recorded as literal.
    struct lit {
        std::string_view s;
    };
    auto put = [&](const auto& part) {
        if constexpr (std::is_same_v<std::decay_t<decltype(part)>, lit>) {
            if (!part.s.empty()) r.content.emplace_back(out.size(), out.size() + part.s.size());
            out.append(part.s);
        } else {
            out.append(std::string_view(part));
        }
    };
    auto emit = [&](const auto&... parts) { (put(parts), ...); };
    auto is = [](const chat_message& m, std::string_view r) { return m.role == r; };

    switch (style_) {
        case style::chatml:
            for (const auto& m : chat) emit("<|im_start|>", m.role, "\n", lit{m.content}, "<|im_end|>\n");
            if (add) emit("<|im_start|>assistant\n");
            break;

        case style::mistral_v7:
        case style::mistral_v7_tekken: {
            const std::string_view sp = style_ == style::mistral_v7 ? " " : "";
            for (const auto& m : chat) {
                if (is(m, "system")) emit("[SYSTEM_PROMPT]", sp, lit{m.content}, "[/SYSTEM_PROMPT]");
                else if (is(m, "user")) emit("[INST]", sp, lit{m.content}, "[/INST]");
                else emit(sp, lit{m.content}, "</s>");
            }
            break;
        }

        case style::mistral_v1:
        case style::mistral_v3:
        case style::mistral_v3_tekken: {
            // v1: " [INST] ", content " [/INST]"; v3: "[INST] ", trimmed replies; tekken: no spaces.
            const std::string_view lead = style_ == style::mistral_v1 ? " " : "";
            const std::string_view trail = style_ == style::mistral_v3_tekken ? "" : " ";
            bool open = false;
            for (const auto& m : chat) {
                if (!open) {
                    emit(lead, "[INST]", trail);
                    open = true;
                }
                if (is(m, "system")) {
                    emit(lit{m.content}, "\n\n");
                } else if (is(m, "user")) {
                    emit(lit{m.content}, lead, "[/INST]");
                } else {
                    emit(trail, lit{style_ == style::mistral_v3 ? trim_ascii(m.content) : std::string_view(m.content)}, "</s>");
                    open = false;
                }
            }
            break;
        }

        case style::llama2:
        case style::llama2_sys:
        case style::llama2_sys_bos:
        case style::llama2_sys_strip: {
            const bool sys_block = style_ != style::llama2;  // <<SYS>> markers; plain llama2 prepends the text
            const bool bos_inside = style_ == style::llama2_sys_bos;
            const bool strip = style_ == style::llama2_sys_strip;
            bool open = true;  // the first [INST] is written here; the tokenizer adds the first BOS
            emit("[INST] ");
            for (const auto& m : chat) {
                const std::string_view c = strip ? trim_ascii(m.content) : std::string_view(m.content);
                if (!open) {
                    emit(bos_inside ? "<s>[INST] " : "[INST] ");
                    open = true;
                }
                if (is(m, "system")) {
                    if (sys_block) emit("<<SYS>>\n", lit{c}, "\n<</SYS>>\n\n");
                    else emit(lit{c}, "\n");
                } else if (is(m, "user")) {
                    emit(lit{c}, " [/INST]");
                } else {
                    emit(lit{c}, "</s>");
                    open = false;
                }
            }
            break;
        }

        case style::phi3:
            for (const auto& m : chat) emit("<|", m.role, "|>\n", lit{m.content}, "<|end|>\n");
            if (add) emit("<|assistant|>\n");
            break;

        case style::phi4:
            for (const auto& m : chat) emit("<|im_start|>", m.role, "<|im_sep|>", lit{m.content}, "<|im_end|>");
            if (add) emit("<|im_start|>assistant<|im_sep|>");
            break;

        case style::falcon3:
            for (const auto& m : chat) emit("<|", m.role, "|>\n", lit{m.content}, "\n");
            if (add) emit("<|assistant|>\n");
            break;

        case style::zephyr:
            for (const auto& m : chat) emit("<|", m.role, "|>\n", lit{m.content}, "<|endoftext|>\n");
            if (add) emit("<|assistant|>\n");
            break;

        case style::monarch:
            for (std::size_t i = 0; i < chat.size(); ++i)
                emit(i == 0 ? "" : "<s>", chat[i].role, "\n", lit{chat[i].content}, "</s>\n");
            if (add) emit("<s>assistant\n");
            break;

        case style::gemma: {
            // No system role: its text opens the next user turn.
            std::string system;
            for (const auto& m : chat) {
                if (is(m, "system")) {
                    system += trim_ascii(m.content);
                    continue;
                }
                const std::string_view role = is(m, "assistant") ? std::string_view("model") : std::string_view(m.role);
                emit("<start_of_turn>", role, "\n");
                if (!system.empty() && role != "model") {
                    emit(lit{system}, "\n\n");
                    system.clear();
                }
                emit(lit{trim_ascii(m.content)}, "<end_of_turn>\n");
            }
            if (add) emit("<start_of_turn>model\n");
            break;
        }

        case style::orion: {
            std::string system;
            for (const auto& m : chat) {
                if (is(m, "system")) {
                    system += m.content;
                } else if (is(m, "user")) {
                    emit("Human: ");
                    if (!system.empty()) {
                        emit(lit{system}, "\n\n");
                        system.clear();
                    }
                    emit(lit{m.content}, "\n\nAssistant: </s>");
                } else {
                    emit(lit{m.content}, "</s>");
                }
            }
            break;
        }

        case style::openchat:
            for (const auto& m : chat) {
                if (is(m, "system")) {
                    emit(lit{m.content}, "<|end_of_turn|>");
                    continue;
                }
                std::string role = m.role;
                if (!role.empty()) role[0] = char(std::toupper(static_cast<unsigned char>(role[0])));
                emit("GPT4 Correct ", role, ": ", lit{m.content}, "<|end_of_turn|>");
            }
            if (add) emit("GPT4 Correct Assistant:");
            break;

        case style::vicuna:
        case style::vicuna_orca:
            for (const auto& m : chat) {
                if (is(m, "system")) {
                    if (style_ == style::vicuna_orca) emit("SYSTEM: ", lit{m.content}, "\n");
                    else emit(lit{m.content}, "\n\n");
                } else if (is(m, "user")) {
                    emit("USER: ", lit{m.content}, "\n");
                } else if (is(m, "assistant")) {
                    emit("ASSISTANT: ", lit{m.content}, "</s>\n");
                }
            }
            if (add) emit("ASSISTANT:");
            break;

        case style::deepseek:
            for (const auto& m : chat) {
                if (is(m, "system")) emit(lit{m.content});
                else if (is(m, "user")) emit("### Instruction:\n", lit{m.content}, "\n");
                else if (is(m, "assistant")) emit("### Response:\n", lit{m.content}, "\n<|EOT|>\n");
            }
            if (add) emit("### Response:\n");
            break;

        case style::deepseek2:
            for (const auto& m : chat) {
                if (is(m, "system")) emit(lit{m.content}, "\n\n");
                else if (is(m, "user")) emit("User: ", lit{m.content}, "\n\n");
                else if (is(m, "assistant")) emit("Assistant: ", lit{m.content}, "<｜end▁of▁sentence｜>");
            }
            if (add) emit("Assistant:");
            break;

        case style::deepseek3:
            for (const auto& m : chat) {
                if (is(m, "system")) emit(lit{m.content}, "\n\n");
                else if (is(m, "user")) emit("<｜User｜>", lit{m.content});
                else if (is(m, "assistant")) emit("<｜Assistant｜>", lit{m.content}, "<｜end▁of▁sentence｜>");
            }
            if (add) emit("<｜Assistant｜>");
            break;

        case style::command_r:
            for (const auto& m : chat) {
                std::string_view tag;
                if (is(m, "system")) tag = "<|SYSTEM_TOKEN|>";
                else if (is(m, "user")) tag = "<|USER_TOKEN|>";
                else if (is(m, "assistant")) tag = "<|CHATBOT_TOKEN|>";
                else continue;
                emit("<|START_OF_TURN_TOKEN|>", tag, lit{trim_ascii(m.content)}, "<|END_OF_TURN_TOKEN|>");
            }
            if (add) emit("<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>");
            break;

        case style::llama3:
            for (const auto& m : chat)
                emit("<|start_header_id|>", m.role, "<|end_header_id|>\n\n", lit{trim_ascii(m.content)}, "<|eot_id|>");
            if (add) emit("<|start_header_id|>assistant<|end_header_id|>\n\n");
            break;

        case style::llama4:
            for (const auto& m : chat)
                emit("<|header_start|>", m.role, "<|header_end|>\n\n", lit{trim_ascii(m.content)}, "<|eot|>");
            if (add) emit("<|header_start|>assistant<|header_end|>\n\n");
            break;

        case style::chatglm3:
            emit("[gMASK]sop");
            for (const auto& m : chat) emit("<|", m.role, "|>\n ", lit{m.content});
            if (add) emit("<|assistant|>");
            break;

        case style::chatglm4:
            emit("[gMASK]<sop>");
            for (const auto& m : chat) emit("<|", m.role, "|>\n", lit{m.content});
            if (add) emit("<|assistant|>\n");
            break;

        case style::glmedge:
            for (const auto& m : chat) emit("<|", m.role, "|>\n", lit{m.content});
            if (add) emit("<|assistant|>");
            break;

        case style::minicpm:
            for (const auto& m : chat) {
                if (is(m, "user")) emit("<用户>", lit{trim_ascii(m.content)}, "<AI>");
                else emit(lit{trim_ascii(m.content)});
            }
            break;

        case style::exaone3:
        case style::exaone4:
            for (const auto& m : chat) {
                const std::string_view c = trim_ascii(m.content);
                if (is(m, "system")) emit("[|system|]", lit{c}, "[|endofturn|]\n");
                else if (is(m, "user")) emit("[|user|]", lit{c}, "\n");
                else if (is(m, "assistant")) emit("[|assistant|]", lit{c}, "[|endofturn|]\n");
                else if (is(m, "tool") && style_ == style::exaone4) emit("[|tool|]", lit{c}, "[|endofturn|]\n");
            }
            if (add) emit("[|assistant|]");
            break;

        case style::rwkv_world:
            // "\n\n" ends a turn; the assistant prefix follows a final user turn whatever `add` says.
            for (std::size_t i = 0; i < chat.size(); ++i) {
                const std::string_view c = trim_ascii(chat[i].content);
                if (is(chat[i], "system")) {
                    emit("System: ", lit{c}, "\n\n");
                } else if (is(chat[i], "user")) {
                    emit("User: ", lit{c}, "\n\n");
                    if (i + 1 == chat.size()) emit("Assistant:");
                } else if (is(chat[i], "assistant")) {
                    emit("Assistant: ", lit{c}, "\n\n");
                }
            }
            break;

        case style::granite:
            for (const auto& m : chat) {
                emit("<|start_of_role|>", m.role, "<|end_of_role|>");
                if (is(m, "assistant_tool_call")) emit("<|tool_call|>");
                emit(lit{m.content}, "<|end_of_text|>\n");
            }
            if (add) emit("<|start_of_role|>assistant<|end_of_role|>");
            break;

        case style::megrez:
            for (const auto& m : chat) emit("<|role_start|>", m.role, "<|role_end|>", lit{m.content}, "<|turn_end|>");
            if (add) emit("<|role_start|>assistant<|role_end|>");
            break;

        case style::bailing:
            for (const auto& m : chat) {
                std::string role = is(m, "user") ? std::string("HUMAN") : m.role;
                for (auto& ch : role) ch = char(std::toupper(static_cast<unsigned char>(ch)));
                emit("<role>", role, "</role>", lit{m.content});
            }
            if (add) emit("<role>ASSISTANT</role>");
            break;

        case style::smolvlm:
            emit("<|im_start|>");  // its BOS
            for (const auto& m : chat) {
                if (is(m, "system")) emit(lit{m.content}, "\n\n");
                else if (is(m, "user")) emit("User: ", lit{m.content}, "<end_of_utterance>\n");
                else emit("Assistant: ", lit{m.content}, "<end_of_utterance>\n");
            }
            if (add) emit("Assistant:");
            break;
    }
    return r;
}

inline std::vector<std::string> chat_template::stop_strings() const {
    if (jinja_ && !jinja_->recognized) {
        if (jinja_->eos.empty()) return {};
        return {jinja_->eos};
    }
    switch (style_) {
        case style::chatml: return {"<|im_end|>", "<|im_start|>"};
        case style::llama2:
        case style::llama2_sys:
        case style::llama2_sys_bos:
        case style::llama2_sys_strip:
        case style::mistral_v1:
        case style::mistral_v3:
        case style::mistral_v3_tekken:
        case style::mistral_v7:
        case style::mistral_v7_tekken: return {"</s>", "[INST]"};
        case style::phi3: return {"<|end|>", "<|user|>"};
        case style::phi4: return {"<|im_end|>", "<|im_start|>"};
        case style::falcon3: return {"<|user|>", "</s>"};
        case style::zephyr: return {"<|endoftext|>", "<|user|>"};
        case style::monarch: return {"</s>"};
        case style::gemma: return {"<end_of_turn>", "<start_of_turn>"};
        case style::orion: return {"</s>", "Human:"};
        case style::openchat: return {"<|end_of_turn|>", "GPT4 Correct User:"};
        case style::vicuna:
        case style::vicuna_orca: return {"</s>", "USER:"};
        case style::deepseek: return {"<|EOT|>", "### Instruction:"};
        case style::deepseek2: return {"<｜end▁of▁sentence｜>", "User:"};
        case style::deepseek3: return {"<｜end▁of▁sentence｜>", "<｜User｜>"};
        case style::command_r: return {"<|END_OF_TURN_TOKEN|>", "<|START_OF_TURN_TOKEN|>"};
        case style::llama3: return {"<|eot_id|>", "<|start_header_id|>"};
        case style::llama4: return {"<|eot|>", "<|header_start|>"};
        case style::chatglm3:
        case style::chatglm4:
        case style::glmedge: return {"<|user|>", "<|observation|>"};
        case style::minicpm: return {"<用户>"};
        case style::exaone3:
        case style::exaone4: return {"[|endofturn|]", "[|user|]"};
        case style::rwkv_world: return {"\n\nUser:"};
        case style::granite: return {"<|end_of_text|>", "<|start_of_role|>"};
        case style::megrez: return {"<|turn_end|>", "<|role_start|>"};
        case style::bailing: return {"<role>HUMAN</role>"};
        case style::smolvlm: return {"<end_of_utterance>", "User:"};
    }
    return {};
}

}  // namespace runtime

using runtime::chat_message;
using runtime::chat_template;

LLMT_END_NAMESPACE
