// tokenizer: text <-> token ids for a GGUF vocabulary (SPM, byte-level BPE, WordPiece), as llama.cpp does it
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/tokenizer/bpe.hpp>
#include <llmt/tokenizer/pre_tokenizer.hpp>
#include <llmt/tokenizer/special_tokens.hpp>
#include <llmt/tokenizer/spm.hpp>
#include <llmt/tokenizer/unicode.hpp>
#include <llmt/tokenizer/vocab.hpp>
#include <llmt/tokenizer/wpm.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

/// Encoder and decoder over one vocabulary. Immutable after construction; encode/decode are
/// const and safe to call from several threads.
class tokenizer {
public:
    /// Reads the vocabulary of a vocab-only or a full model GGUF file.
    static tokenizer from_gguf(const io::gguf_file& g) { return tokenizer(vocab::from_gguf(g)); }

    explicit tokenizer(vocab v) : v_(std::make_shared<const vocab>(std::move(v))) {
        special_all_ = special_splitter(*v_, true);
        special_user_ = special_splitter(*v_, false);
        if (v_->kind == model_kind::bpe) pre_ = pre_tokenizer(v_->pre);
        pieces_.reserve(v_->n_tokens());
        for (std::size_t id = 0; id < v_->n_tokens(); ++id) pieces_.push_back(make_piece(token_id(id)));
    }

    /// Token ids of text. add_special adds BOS / EOS (SEP for WordPiece) as the vocab asks;
    /// parse_special turns the text of control tokens ("<s>", "<|im_end|>") into those tokens.
    [[nodiscard]] std::vector<token_id> encode(std::string_view text, bool add_special = true, bool parse_special = false) const {
        return encode(text, add_special, parse_special, {});
    }

    /// As encode(text, add_special, parse_special), except that control and unknown tokens are
    /// not recognized where their text overlaps one of the literal byte ranges [begin, end): there
    /// the text is tokenized as with parse_special off (user-defined tokens are still matched, as
    /// llama.cpp and Hugging Face always match them). Meant for a rendered chat
    /// (runtime::rendered_chat::content): special tokens come only from the template, and a
    /// conversation whose messages hold no control token text gives exactly the ids of
    /// encode(text, add_special, true). Ranges may come in any order and overlap; a range past
    /// the end of text is an llmt::error(errc::invalid_argument).
    [[nodiscard]] std::vector<token_id> encode(std::string_view text, bool add_special, bool parse_special,
                                               std::span<const std::pair<std::size_t, std::size_t>> literal_ranges) const {
        std::vector<std::pair<std::size_t, std::size_t>> literal;
        if (parse_special && !literal_ranges.empty()) literal = normalize_ranges(literal_ranges, text.size());
        std::vector<token_id> out;
        const vocab& v = *v_;
        const auto frags = (parse_special ? special_all_ : special_user_).split(v, text, literal);
        switch (v.kind) {
            case model_kind::spm: {
                if (add_special && v.add_bos && v.bos != null_token) out.push_back(v.bos);
                spm_encoder enc(v);
                std::string buf;
                bool prev_special = true;  // the first fragment gets the space prefix too
                for (const fragment& f : frags) {
                    if (f.token != null_token) {
                        out.push_back(f.token);
                        prev_special = true;
                        continue;
                    }
                    buf.clear();
                    if (v.add_space_prefix && prev_special) buf = "\xE2\x96\x81";
                    escape_spaces(buf, text.substr(f.begin, f.end - f.begin));
                    enc.encode(buf, out);
                    prev_special = false;
                }
                if (add_special && v.add_eos && v.eos != null_token) out.push_back(v.eos);
                break;
            }
            case model_kind::bpe: {
                if (add_special && v.add_bos && v.bos != null_token) out.push_back(v.bos);
                bpe_encoder enc(v, pre_);
                for (const fragment& f : frags) {
                    if (f.token != null_token) out.push_back(f.token);
                    else enc.encode(text.substr(f.begin, f.end - f.begin), out);
                }
                if (add_special && v.add_eos && v.eos != null_token) out.push_back(v.eos);
                break;
            }
            case model_kind::wpm: {
                // WordPiece always frames the text with [CLS] ... [SEP] when special tokens are asked for.
                if (add_special && v.bos != null_token) out.push_back(v.bos);
                wpm_encoder enc(v);
                for (const fragment& f : frags) {
                    if (f.token != null_token) out.push_back(f.token);
                    else enc.encode(text.substr(f.begin, f.end - f.begin), out);
                }
                if (add_special && v.sep != null_token) out.push_back(v.sep);
                break;
            }
        }
        return out;
    }

    /// Text of token ids, as llama.cpp's llama_detokenize: the SPM space prefix is dropped from the
    /// first token, BPE "clean up tokenization spaces" applies where the vocab asks for it.
    /// remove_special drops a leading BOS / trailing EOS; unparse_special renders control tokens.
    [[nodiscard]] std::string decode(std::span<const token_id> ids, bool remove_special = false, bool unparse_special = true) const {
        const vocab& v = *v_;
        std::string out;
        bool remove_space = v.add_space_prefix;
        if (remove_special && v.add_bos && !ids.empty() && ids.front() == v.bos) {
            remove_space = false;
            ids = ids.subspan(1);
        }
        if (remove_special && v.add_eos && !ids.empty() && ids.back() == v.eos) ids = ids.first(ids.size() - 1);
        for (token_id id : ids) {
            std::string_view p = token_to_piece_view(id, unparse_special);
            if (remove_space && !p.empty() && p.front() == ' ') p.remove_prefix(1);
            remove_space = false;
            out.append(p);
        }
        if (v.clean_spaces) clean_up_spaces(out);
        return out;
    }

    /// The decoded bytes of one token (llama_token_to_piece): spaces unescaped, byte tokens as
    /// their byte, BPE byte characters as raw bytes. Control / unknown tokens give "" unless special.
    [[nodiscard]] std::string token_to_piece(token_id id, bool special = true) const {
        return std::string(token_to_piece_view(id, special));
    }
    [[nodiscard]] std::string_view token_to_piece_view(token_id id, bool special = true) const {
        if (!v_->valid(id)) return {};
        if (!special && (v_->attr_of(id) & (attr::unknown | attr::control))) return {};
        return pieces_[std::size_t(id)];
    }

    /// The raw vocabulary text of a token ("▁Hello", "Ġworld", "<0x0A>").
    [[nodiscard]] std::string_view piece(token_id id) const { return v_->valid(id) ? v_->text(id) : std::string_view{}; }

    [[nodiscard]] const vocab& get_vocab() const noexcept { return *v_; }
    [[nodiscard]] model_kind kind() const noexcept { return v_->kind; }
    [[nodiscard]] std::size_t n_tokens() const noexcept { return v_->n_tokens(); }
    [[nodiscard]] token_id bos() const noexcept { return v_->bos; }
    [[nodiscard]] token_id eos() const noexcept { return v_->eos; }
    [[nodiscard]] token_id eot() const noexcept { return v_->eot; }
    [[nodiscard]] bool is_eog(token_id id) const noexcept { return v_->is_eog(id); }
    [[nodiscard]] bool add_bos() const noexcept { return v_->add_bos; }

private:
    // Sorted, merged, non-empty copies of the ranges, each checked against the text's size.
    static std::vector<std::pair<std::size_t, std::size_t>> normalize_ranges(std::span<const std::pair<std::size_t, std::size_t>> in,
                                                                             std::size_t size) {
        std::vector<std::pair<std::size_t, std::size_t>> r;
        r.reserve(in.size());
        for (const auto& [b, e] : in) {
            LLMT_CHECK_CODE(b <= e && e <= size, errc::invalid_argument,
                            "tokenizer: the literal range [{}, {}) is not within the text of {} bytes", b, e, size);
            if (b < e) r.emplace_back(b, e);
        }
        std::sort(r.begin(), r.end());
        std::size_t n = 0;
        for (const auto& x : r) {
            if (n > 0 && x.first <= r[n - 1].second) r[n - 1].second = std::max(r[n - 1].second, x.second);
            else r[n++] = x;
        }
        r.resize(n);
        return r;
    }

    static void escape_spaces(std::string& out, std::string_view s) {
        for (char c : s) {
            if (c == ' ') out += "\xE2\x96\x81";
            else out.push_back(c);
        }
    }
    static std::string unescape_spaces(std::string_view s) {
        std::string out;
        out.reserve(s.size());
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s.substr(i, 3) == "\xE2\x96\x81") {
                out.push_back(' ');
                i += 2;
            } else {
                out.push_back(s[i]);
            }
        }
        return out;
    }

    // The piece cache entry (special = true), built once per token.
    std::string make_piece(token_id id) const {
        const vocab& v = *v_;
        const std::uint32_t a = v.attr_of(id);
        const std::string_view t = v.text(id);
        if (a & (attr::unknown | attr::control | attr::user_defined)) return std::string(t);
        if (a & attr::byte) {
            if (auto b = v.token_byte(id)) return std::string(1, char(*b));
            return {};
        }
        if (!(a & attr::normal)) return {};
        if (v.kind != model_kind::bpe || v.escape_whitespaces) return unescape_spaces(t);
        // Byte-level BPE: every character stands for one byte.
        std::string out;
        const auto cpts = decode_utf8(t);
        for (std::uint32_t c : cpts) {
            const int b = unicode_to_byte(c);
            if (b >= 0) {
                out.push_back(char(b));
            } else {  // not a byte character: llama.cpp writes a marker naming it
                out += "[UNK_BYTE_0x";
                std::string u;
                append_utf8(u, c);
                for (char x : u) out += fmt::format("{:02x}", static_cast<std::uint8_t>(x));
                out.append(t);
                out += "]";
            }
        }
        return out;
    }

    // clean_up_tokenization_spaces: " ?" " !" " ." " ," lose the space, " ' " loses both spaces,
    // " 's" " 'm" " 're" " 've" lose the space (llama.cpp's three passes, in order).
    static void clean_up_spaces(std::string& s) {
        std::string t;
        t.reserve(s.size());
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char x = s[i];
            if (i > 0 && s[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') && !t.empty()) t.pop_back();
            t.push_back(x);
        }
        s.swap(t);
        t.clear();
        char prev = 0;  // the previous input character; 0 after a skipped space
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char x = s[i];
            if (i > 0 && x == '\'' && i + 1 < s.size() && prev == ' ' && s[i + 1] == ' ') {
                if (!t.empty()) t.pop_back();
                t.push_back(x);
                ++i;  // skip the space after
                prev = 0;
                continue;
            }
            t.push_back(x);
            prev = x;
        }
        s.swap(t);
        t.clear();
        for (std::size_t i = 0; i < s.size(); ++i) {
            const char x = s[i];
            if (i > 0 && s[i - 1] == ' ' && x == '\'' && i + 1 < s.size()) {
                const char x1 = s[i + 1];
                const bool drop = x1 == 's' || x1 == 'm' ||
                                  (i + 2 < s.size() && ((x1 == 'r' && s[i + 2] == 'e') || (x1 == 'v' && s[i + 2] == 'e')));
                if (drop && !t.empty()) t.pop_back();
            }
            t.push_back(x);
        }
        s.swap(t);
    }

    std::shared_ptr<const vocab> v_;
    special_splitter special_all_;   // control + user-defined + unknown
    special_splitter special_user_;  // user-defined only (parse_special == false)
    pre_tokenizer pre_;              // BPE word splitting (copied per encode: it keeps scratch)
    std::vector<std::string> pieces_;  // [n_tokens] token_to_piece cache
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
