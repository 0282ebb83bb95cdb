// chat_template_file: the chat format of a model file: its Jinja template, a named variant, a built-in format, or llama.cpp's default
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/runtime/chat_template.hpp>
#include <llmt/tokenizer/vocab.hpp>

#include <string>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace runtime {

/// What choose_chat_template picked, and why.
struct chat_template_choice {
    enum class origin {
        file,            ///< the file's tokenizer.chat_template, rendered by the Jinja interpreter
        file_variant,    ///< the file's tokenizer.chat_template.NAME (asked for by name)
        builtin,         ///< a built-in format asked for by name
        default_chatml,  ///< the file has no template: llama.cpp's default, chatml (see note)
        recognized,      ///< the file's template does not parse; the built-in format of its family (see note)
    };
    chat_template format;
    origin from;
    /// A sentence for the user when the format is not what the file asks for ("" otherwise).
    std::string note;
};

/// The chat format for a model file. name empty: the file's `tokenizer.chat_template` (Jinja),
/// or, when the file has none, chatml as llama.cpp does, with a note saying so. name set: the
/// file's variant `tokenizer.chat_template.<name>` if it has one, else the built-in format of
/// that name (chat_template::known); an unknown name is an llmt::error(errc::invalid_argument)
/// listing what is known. A file template that does not parse is replaced by the built-in
/// format detect() recognises in it (with a note), or is an llmt::error(errc::format) naming
/// its line. BOS / EOS texts come from the vocabulary.
inline chat_template_choice choose_chat_template(const io::gguf_file& file, const tokenizer::vocab& v,
                                                 std::string_view name = {}) {
    auto text_of = [&](tokenizer::token_id id) {
        return id != tokenizer::null_token && std::size_t(id) < v.n_tokens() ? std::string(v.texts.text(id)) : std::string();
    };
    const std::string bos = text_of(v.bos), eos = text_of(v.eos);
    auto from_source = [&](std::string_view src, std::string label, chat_template_choice::origin o) {
        try {
            return chat_template_choice{chat_template::from_jinja(src, bos, eos, v.add_bos, std::move(label)), o, {}};
        } catch (const error& e) {
            const auto family = chat_template::detect(src);
            if (!family) throw;
            return chat_template_choice{*family, chat_template_choice::origin::recognized,
                                        fmt::format("the file's chat template does not parse ({}); using the built-in "
                                                    "format '{}' of its family", e.what(), family->name())};
        }
    };
    if (!name.empty()) {
        const std::string key = "tokenizer.chat_template." + std::string(name);
        if (const auto src = file.get_string(key)) return from_source(*src, std::string(name), chat_template_choice::origin::file_variant);
        std::string variants;
        for (const auto& kv : file.metadata())
            if (kv.key.substr(0, 24) == "tokenizer.chat_template.") variants += fmt::format(", {} (the file's)", kv.key.substr(24));
        for (const auto& [n, s] : chat_template::known)
            if (n == name) return {chat_template{s}, chat_template_choice::origin::builtin, {}};
        std::string known;
        for (const auto& [n, s] : chat_template::known) known += (known.empty() ? "" : ", ") + std::string(n);
        fail(errc::invalid_argument, "unknown chat template '{}'; known templates: {}{}", name, known, variants);
    }
    if (const auto src = file.get_string("tokenizer.chat_template"))
        return from_source(*src, "jinja", chat_template_choice::origin::file);
    return {chat_template{chat_template::style::chatml}, chat_template_choice::origin::default_chatml,
            "the file has no chat template (tokenizer.chat_template); using chatml, llama.cpp's default"};
}

}  // namespace runtime
LLMT_END_NAMESPACE
