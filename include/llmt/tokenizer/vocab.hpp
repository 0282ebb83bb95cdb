// vocab: the tokenizer vocabulary from GGUF metadata (tokens, scores, types, merges, special ids, flags)
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/tokenizer/pre_type.hpp>
#include <llmt/tokenizer/token_index.hpp>
#include <llmt/tokenizer/unicode.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

/// The tokenization algorithm, from `tokenizer.ggml.model`.
enum class model_kind : std::uint8_t {
    spm,  ///< "llama": SentencePiece, score-based merges with byte fallback
    bpe,  ///< "gpt2": byte-level BPE with merge ranks and a pre-tokenizer
    wpm,  ///< "bert": WordPiece, greedy longest match
};

constexpr std::string_view name(model_kind k) noexcept {
    switch (k) {
        case model_kind::spm: return "SPM";
        case model_kind::bpe: return "BPE";
        case model_kind::wpm: return "WPM";
    }
    return "unknown";
}

/// Token attribute bits (the values of llama.cpp's llama_token_attr).
namespace attr {
inline constexpr std::uint32_t undefined = 0;
inline constexpr std::uint32_t unknown = 1u << 0;
inline constexpr std::uint32_t unused = 1u << 1;
inline constexpr std::uint32_t normal = 1u << 2;
inline constexpr std::uint32_t control = 1u << 3;
inline constexpr std::uint32_t user_defined = 1u << 4;
inline constexpr std::uint32_t byte = 1u << 5;
inline constexpr std::uint32_t normalized = 1u << 6;
inline constexpr std::uint32_t lstrip = 1u << 7;
inline constexpr std::uint32_t rstrip = 1u << 8;
inline constexpr std::uint32_t single_word = 1u << 9;
}  // namespace attr

/// GGUF `tokenizer.ggml.token_type` values.
enum class token_type : std::int32_t { undefined = 0, normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6 };

constexpr std::uint32_t attr_of(std::int64_t type) noexcept {
    switch (type) {
        case 1: return attr::normal;
        case 2: return attr::unknown;
        case 3: return attr::control;
        case 4: return attr::user_defined;
        case 5: return attr::unused;
        case 6: return attr::byte;
        default: return attr::undefined;
    }
}

/// Everything the tokenizers need from the GGUF metadata. Plain data; built once by from_gguf.
struct vocab {
    model_kind kind = model_kind::spm;
    std::string model_name;  // tokenizer.ggml.model
    std::string pre_name;    // tokenizer.ggml.pre ("" when absent)
    pre_type pre = pre_type::default_;

    token_texts texts;            // [n_tokens] token text, and text -> id
    std::vector<float> scores;    // [n_tokens] SPM merge scores (0 when absent)
    std::vector<std::uint32_t> attrs;  // [n_tokens] attr:: bits
    merge_table merges;           // BPE: (left, right) -> rank, result
    bool merges_well_formed = false;  // BPE: every merge result is an operand only of later merges
    std::array<token_id, 256> byte_tokens{};  // byte -> its fallback token (SPM <0xXX>, BPE byte char), or null
    std::vector<token_id> special_tokens;  // control / user-defined / unknown ids, longest text first
    std::vector<token_id> eog_tokens;      // sorted ids that end generation
    int max_token_len = 0;                 // longest token text in bytes
    bool spm_words = false;  // SPM: no token has U+2581 after another character, so text splits before "▁" safely

    token_id bos = null_token, eos = null_token, eot = null_token, eom = null_token, unk = null_token,
             sep = null_token, pad = null_token, mask = null_token, nl = null_token;
    token_id fim_pre = null_token, fim_suf = null_token, fim_mid = null_token, fim_pad = null_token,
             fim_rep = null_token, fim_sep = null_token;

    bool add_bos = false, add_eos = false, add_sep = false;
    bool add_space_prefix = false;       // SPM: prepend ' ' to the text (and drop it on decode)
    bool remove_extra_whitespaces = false;
    bool escape_whitespaces = true;      // SPM-style ' ' -> U+2581
    bool clean_spaces = false;           // decode: clean_up_tokenization_spaces
    bool ignore_merges = false;          // BPE: a pre-token that is a whole token is taken as is
    bool lowercase = true;               // WPM normalizer (llama.cpp's default)
    bool strip_accents = true;           // WPM normalizer: follows lowercase unless set

    [[nodiscard]] std::size_t n_tokens() const noexcept { return texts.size(); }
    [[nodiscard]] bool valid(token_id id) const noexcept { return id >= 0 && std::size_t(id) < n_tokens(); }
    [[nodiscard]] std::string_view text(token_id id) const noexcept { return texts.text(id); }
    [[nodiscard]] token_id find(std::string_view s) const noexcept { return texts.find(s); }
    [[nodiscard]] std::uint32_t attr_of(token_id id) const noexcept { return valid(id) ? attrs[std::size_t(id)] : 0; }
    [[nodiscard]] bool is_eog(token_id id) const noexcept {
        return std::binary_search(eog_tokens.begin(), eog_tokens.end(), id);
    }
    [[nodiscard]] bool is_control(token_id id) const noexcept { return attr_of(id) & attr::control; }

    /// The byte a byte token stands for (SPM "<0xXX>"); nullopt for other tokens.
    [[nodiscard]] std::optional<std::uint8_t> token_byte(token_id id) const noexcept {
        const std::string_view t = valid(id) ? text(id) : std::string_view{};
        if (t.size() == 6 && t.substr(0, 3) == "<0x" && t[5] == '>') {
            auto hex = [](char c) -> int {
                if (c >= '0' && c <= '9') return c - '0';
                if (c >= 'A' && c <= 'F') return c - 'A' + 10;
                if (c >= 'a' && c <= 'f') return c - 'a' + 10;
                return -1;
            };
            const int hi = hex(t[3]), lo = hex(t[4]);
            if (hi >= 0 && lo >= 0) return std::uint8_t(hi * 16 + lo);
        }
        return std::nullopt;
    }

    /// Reads the vocabulary of a vocab-only or full model GGUF file.
    static vocab from_gguf(const io::gguf_file& g) {
        vocab v;
        v.load(g);
        return v;
    }

private:
    void load(const io::gguf_file& g) {
        const auto where = [&] { return g.path(); };
        model_name = std::string(g.get_string("tokenizer.ggml.model").value_or(""));
        pre_name = std::string(g.get_string("tokenizer.ggml.pre").value_or(""));
        if (model_name.empty())
            fail(errc::not_found, "gguf '{}': no tokenizer: key 'tokenizer.ggml.model' is missing", where());

        // Defaults per model kind, as llama.cpp sets them before reading the overrides.
        if (model_name == "llama") {
            kind = model_kind::spm;
            bos = 1; eos = 2; unk = 0;
            add_space_prefix = true; clean_spaces = false; add_bos = true; add_eos = false;
        } else if (model_name == "gpt2") {
            kind = model_kind::bpe;
            bos = 11; eos = 11;
            add_space_prefix = false; escape_whitespaces = false; clean_spaces = true;
        } else if (model_name == "bert") {
            kind = model_kind::wpm;
            bos = 101; unk = 100; sep = 102; pad = 0; mask = 103;
            add_space_prefix = false; clean_spaces = true; add_bos = true; add_eos = false; add_sep = true;
        } else {
            fail(errc::unsupported, "gguf '{}': tokenizer model '{}' is not supported (llmt reads llama, gpt2 and bert)",
                 where(), model_name);
        }
        if (kind == model_kind::bpe) {
            const pre_info* info = find_pre(pre_name);
            if (!info)
                fail(errc::unsupported, "gguf '{}': unknown pre-tokenizer '{}' (tokenizer.ggml.pre)", where(), pre_name);
            pre = info->type;
            if (info->clean_spaces_off) clean_spaces = false;
            if (info->ignore_merges) ignore_merges = true;
            if (info->add_bos) add_bos = true;
            if (info->add_sep) add_sep = true;
            if (info->no_bos) bos = null_token;
        }
        if (auto x = g.get<bool>("tokenizer.ggml.add_space_prefix")) add_space_prefix = *x;
        if (auto x = g.get<bool>("tokenizer.ggml.remove_extra_whitespaces")) remove_extra_whitespaces = *x;

        // Tokens, scores, types.
        const io::gguf_array* toks = g.get_array("tokenizer.ggml.tokens");
        if (!toks) fail(errc::not_found, "gguf '{}': key 'tokenizer.ggml.tokens' is missing", where());
        if (toks->type != io::gguf_type::string)
            fail(errc::format, "gguf '{}': tokenizer.ggml.tokens holds {}, expected strings", where(), io::name(toks->type));
        const auto tok_views = toks->view<std::string_view>();
        const std::size_t n = tok_views.size();
        if (n == 0) fail(errc::format, "gguf '{}': tokenizer.ggml.tokens is empty", where());
        if (n > std::size_t(INT32_MAX)) fail(errc::format, "gguf '{}': {} tokens do not fit 32-bit ids", where(), n);
        std::vector<std::string> words(n);
        for (std::size_t i = 0; i < n; ++i) {
            words[i] = std::string(tok_views[i]);
            if (words[i].empty()) words[i] = fmt::format("[EMPTY_{}]", i);  // as llama.cpp: an empty token gets a name
            max_token_len = std::max(max_token_len, int(words[i].size()));
        }
        texts = token_texts(words);
        spm_words = kind == model_kind::spm;
        for (const auto& w : words) {
            for (std::size_t i = w.find("\xE2\x96\x81", 1); spm_words && i != std::string::npos; i = w.find("\xE2\x96\x81", i + 1))
                if (i < 3 || w.compare(i - 3, 3, "\xE2\x96\x81") != 0) spm_words = false;
            if (!spm_words) break;
        }

        scores.assign(n, 0.0f);
        if (const io::gguf_array* s = g.get_array("tokenizer.ggml.scores")) {
            if (s->count < n) fail(errc::format, "gguf '{}': {} scores for {} tokens", where(), s->count, n);
            const auto sv = s->to_vector<float>();
            std::copy_n(sv.begin(), n, scores.begin());
        }
        attrs.assign(n, attr::normal);
        if (const io::gguf_array* t = g.get_array("tokenizer.ggml.token_type")) {
            if (t->count < n) fail(errc::format, "gguf '{}': {} token types for {} tokens", where(), t->count, n);
            const auto tv = t->to_vector<std::int64_t>();
            for (std::size_t i = 0; i < n; ++i) attrs[i] = tokenizer::attr_of(tv[i]);
        }

        if (kind == model_kind::bpe) load_merges(g);

        // Byte fallback tokens.
        byte_tokens.fill(null_token);
        for (int b = 0; b < 256; ++b) {
            if (kind == model_kind::spm) {
                token_id id = find(fmt::format("<0x{:02X}>", b));
                if (id == null_token) id = find(std::string(1, char(b)));
                byte_tokens[std::size_t(b)] = id;
            } else {
                byte_tokens[std::size_t(b)] = find(utf8_encode(byte_to_unicode(std::uint8_t(b))));
            }
        }

        load_special_ids(g);
        if (auto x = g.get<bool>("tokenizer.ggml.add_bos_token")) add_bos = *x;
        if (auto x = g.get<bool>("tokenizer.ggml.add_eos_token")) add_eos = *x;
        if (auto x = g.get<bool>("tokenizer.ggml.add_sep_token")) add_sep = *x;
        if (auto x = g.get<bool>("tokenizer.ggml.normalizer.lowercase")) lowercase = *x;
        strip_accents = lowercase;
        if (auto x = g.get<bool>("tokenizer.ggml.normalizer.strip_accents")) strip_accents = *x;

        detect_by_text();
        if (kind == model_kind::spm) nl = byte_tokens['\n'] != null_token ? byte_tokens['\n'] : pad;
        else if (kind == model_kind::wpm) nl = pad;

        for (std::size_t i = 0; i < n; ++i)
            if (attrs[i] & (attr::control | attr::user_defined | attr::unknown)) special_tokens.push_back(token_id(i));
        std::stable_sort(special_tokens.begin(), special_tokens.end(),
                         [&](token_id a, token_id b) { return text(a).size() > text(b).size(); });

        // Per-model attribute fix-ups that llama.cpp applies by name.
        std::string lname(g.get_string("general.name").value_or(""));
        for (auto& c : lname) c = char(std::tolower(static_cast<unsigned char>(c)));
        if (lname.find("phi-3") != std::string::npos || lname.find("phi3") != std::string::npos) {
            for (token_id id : special_tokens) attrs[std::size_t(id)] |= attr::rstrip;
            auto set = [&](std::string_view t, bool on) {
                const token_id id = find(t);
                if (id == null_token) return;
                if (on) attrs[std::size_t(id)] |= attr::rstrip;
                else attrs[std::size_t(id)] &= ~attr::rstrip;
            };
            set("</s>", true);
            for (auto t : {"<unk>", "<s>", "<|endoftext|>"}) set(t, false);
        }
    }

    void load_merges(const io::gguf_file& g) {
        const io::gguf_array* m = g.get_array("tokenizer.ggml.merges");
        if (!m) fail(errc::not_found, "gguf '{}': BPE vocabulary without 'tokenizer.ggml.merges'", g.path());
        if (m->type != io::gguf_type::string)
            fail(errc::format, "gguf '{}': tokenizer.ggml.merges holds {}, expected strings", g.path(), io::name(m->type));
        const auto mv = m->view<std::string_view>();
        merges = merge_table(mv.size());
        struct entry { std::int32_t rank; token_id left, right, result; };
        std::vector<entry> used;
        used.reserve(mv.size());
        std::string joined;
        for (std::size_t i = 0; i < mv.size(); ++i) {
            const std::string_view w = mv[i];
            const std::size_t sp = w.size() > 1 ? w.find(' ', 1) : std::string_view::npos;
            if (sp == std::string_view::npos) continue;
            const std::string_view l = w.substr(0, sp), r = w.substr(sp + 1);
            const token_id li = find(l), ri = find(r);
            if (li == null_token || ri == null_token) continue;  // a merge of non-tokens can never apply
            joined.assign(l);
            joined.append(r);
            const auto rank = std::int32_t(std::min<std::size_t>(i, INT32_MAX));
            const token_id result = find(joined);
            if (merges.insert(li, ri, bpe_merge{rank, result})) used.push_back({rank, li, ri, result});
        }
        std::vector<std::int32_t> first_use(n_tokens(), INT32_MAX);
        for (const entry& e : used) {
            first_use[std::size_t(e.left)] = std::min(first_use[std::size_t(e.left)], e.rank);
            first_use[std::size_t(e.right)] = std::min(first_use[std::size_t(e.right)], e.rank);
        }
        merges_well_formed = true;
        for (const entry& e : used)
            if (e.result != null_token && first_use[std::size_t(e.result)] <= e.rank) merges_well_formed = false;
    }

    void load_special_ids(const io::gguf_file& g) {
        const std::size_t n = n_tokens();
        auto read = [&](std::string_view key, token_id& id) {
            if (id >= 0 && std::size_t(id) >= n) id = null_token;  // a default outside the vocab is disabled
            const io::gguf_value* v = g.find(key);
            if (!v) return;
            if (io::is_unset_token_id(*v)) return;  // -1 / 0xFFFFFFFF: "none", the default stays
            const auto x = v->as<std::int64_t>();
            if (!x || *x < 0 || std::uint64_t(*x) >= n)
                fail(errc::format, "gguf '{}': '{}' is {}, outside the vocabulary of {} tokens", g.path(), key,
                     io::gguf_file::describe(*v), n);
            id = token_id(*x);
        };
        read("tokenizer.ggml.bos_token_id", bos);
        read("tokenizer.ggml.eos_token_id", eos);
        read("tokenizer.ggml.eot_token_id", eot);
        read("tokenizer.ggml.eom_token_id", eom);
        read("tokenizer.ggml.unknown_token_id", unk);
        read("tokenizer.ggml.seperator_token_id", sep);  // sic: the GGUF key is spelled this way
        read("tokenizer.ggml.padding_token_id", pad);
        read("tokenizer.ggml.mask_token_id", mask);
        read("tokenizer.ggml.fim_pre_token_id", fim_pre);
        read("tokenizer.ggml.fim_suf_token_id", fim_suf);
        read("tokenizer.ggml.fim_mid_token_id", fim_mid);
        read("tokenizer.ggml.fim_pad_token_id", fim_pad);
        read("tokenizer.ggml.fim_rep_token_id", fim_rep);
        read("tokenizer.ggml.fim_sep_token_id", fim_sep);
        read("tokenizer.ggml.prefix_token_id", fim_pre);
        read("tokenizer.ggml.suffix_token_id", fim_suf);
        read("tokenizer.ggml.middle_token_id", fim_mid);
    }

    // llama.cpp finds EOT / FIM / EOG tokens by their text when the keys are absent; so do we.
    void detect_by_text() {
        auto mark_control = [&](token_id id) { attrs[std::size_t(id)] |= attr::control; };
        auto first_of = [&](token_id& slot, std::initializer_list<std::string_view> names) {
            if (slot != null_token) return;
            token_id best = null_token;
            for (auto t : names) {
                const token_id id = find(t);
                if (id != null_token && (best == null_token || id < best)) best = id;
            }
            if (best != null_token) { slot = best; mark_control(best); }
        };
        first_of(eot, {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
                       "<EOT>", "_<EOT>", "[EOT]", "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                       "<end_of_utterance>"});
        first_of(eom, {"<|eom_id|>"});
        first_of(fim_pre, {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>",
                           "<PRE>", "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>"});
        first_of(fim_suf, {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "hole\xef\xbd\x9c>",
                           "<SUF>", "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>"});
        first_of(fim_mid, {"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>",
                           "<MID>", "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>"});
        first_of(fim_pad, {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"});
        first_of(fim_rep, {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"});
        first_of(fim_sep, {"<|file_sep|>"});

        for (std::size_t i = 0; i < n_tokens(); ++i)
            if ((attrs[i] & attr::control) && text(token_id(i)).find("unused") != std::string_view::npos)
                attrs[i] |= attr::unused;

        std::vector<token_id> eog;
        for (token_id id : {fim_pad, fim_rep, fim_sep, eos, eot, eom})
            if (id != null_token) eog.push_back(id);
        for (auto t : {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
                       "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
                       "<|end_of_text|>", "<end_of_utterance>"}) {
            const token_id id = find(t);
            if (id != null_token) { eog.push_back(id); mark_control(id); }
        }
        std::sort(eog.begin(), eog.end());
        eog.erase(std::unique(eog.begin(), eog.end()), eog.end());
        // o200k_harmony / solar-open: "<|end|>" is not an end of generation next to "<|return|>" + "<|call|>".
        const token_id end_id = find("<|end|>");
        auto in = [&](std::string_view t) { const token_id id = find(t); return id != null_token && std::binary_search(eog.begin(), eog.end(), id); };
        if (end_id != null_token && in("<|end|>") &&
            ((in("<|return|>") && in("<|call|>")) || ((in("<|call|>") || in("<|calls|>")) && in("<|flush|>")))) {
            eog.erase(std::find(eog.begin(), eog.end(), end_id));
            attrs[std::size_t(end_id)] = attr::user_defined;
        }
        eog_tokens = std::move(eog);
    }
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
