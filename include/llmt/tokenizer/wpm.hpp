// wpm: WordPiece encoding (BERT normalization, then greedy longest match per word)
#pragma once

#include <llmt/config.hpp>
#include <llmt/tokenizer/unicode.hpp>
#include <llmt/tokenizer/vocab.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

/// Encodes text with a WordPiece vocab as llama.cpp does: the GGUF vocab writes word-initial
/// pieces with a U+2581 prefix (instead of BERT's "##" on the others), each word gets that phantom
/// space and is covered by the longest tokens from the left; a word with an uncovered position
/// becomes [UNK]. Lossy by design (lowercasing, accents, control characters).
class wpm_encoder {
public:
    explicit wpm_encoder(const vocab& v) : v_(v) {}

    void encode(std::string_view text, std::vector<token_id>& out) {
        split_words(text);
        for (const std::string& w : words_) {
            if (w.empty()) continue;
            word_ = "\xE2\x96\x81";
            word_ += w;
            const std::size_t n = word_.size(), mark = out.size();
            bool ok = true;
            for (std::size_t i = 0; i < n && ok;) {
                ok = false;
                for (std::size_t j = std::min(n, i + std::size_t(v_.max_token_len) + 1); j > i; --j) {
                    const token_id id = v_.find(std::string_view(word_).substr(i, j - i));
                    if (id != null_token) {
                        out.push_back(id);
                        i = j;
                        ok = true;
                        break;
                    }
                }
            }
            if (!ok) out.resize(mark);
            if (out.size() == mark && v_.unk != null_token) out.push_back(v_.unk);
        }
    }

    /// BERT's basic tokenizer: whitespace splits, control characters vanish, punctuation, ASCII
    /// symbols and CJK ideographs stand alone; optional lowercase and accent stripping (NFD).
    const std::vector<std::string>& split_words(std::string_view text) {
        words_.assign(1, std::string());
        for (std::size_t pos = 0; pos < text.size();) {
            std::uint32_t c = decode_utf8(text, pos);
            if (v_.strip_accents) c = nfd_first(c);
            const cpt_flags f = flags_of(c);
            if (f.is_whitespace()) {
                if (!words_.back().empty()) words_.emplace_back();
                continue;
            }
            if (c == 0 || c == replacement_char || f.is_control()) continue;
            if (v_.strip_accents && f.is_mark()) continue;
            const std::uint32_t out = v_.lowercase ? to_lower(c) : c;
            if (f.is_punctuation() || (c < 0x7F && f.is_symbol()) || is_cjk(c)) {
                if (!words_.back().empty()) words_.emplace_back();
                append_utf8(words_.back(), out);
                words_.emplace_back();
            } else {
                append_utf8(words_.back(), out);
            }
        }
        if (words_.back().empty()) words_.pop_back();
        return words_;
    }

private:
    // The CJK ranges of BERT's _is_chinese_char (with its 0x2B920 start, as HF's Rust code has it).
    static constexpr bool is_cjk(std::uint32_t c) noexcept {
        return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
               (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
               (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
    }

    const vocab& v_;
    std::vector<std::string> words_;
    std::string word_;
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
