// pre_tokenizer: splits text into words before BPE, one hand-written matcher per llama.cpp regex
#pragma once

#include <llmt/config.hpp>
#include <llmt/tokenizer/pre_type.hpp>
#include <llmt/tokenizer/unicode.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

/// The pre-tokenizer of a BPE vocabulary.
///
/// llama.cpp splits with a list of regexes applied in turn (each one cuts every piece the previous
/// ones made; text a regex does not match stays a piece of its own). A few regexes have hand-written
/// implementations there, the others run through std::regex on a "collapsed" text where each
/// non-ASCII code point is replaced by one byte for its class. Here every regex is a small
/// deterministic matcher written against the same character classes, so the words are the same,
/// the cost is linear in the text, and nothing recurses. Each matcher below quotes its regex.
class pre_tokenizer {
public:
    /// One step of the split: which regex it stands for.
    enum class rule : std::uint8_t {
        gpt2,             // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
        llama3,           // (?i:'s|...)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
        qwen2,            // as llama3 with \p{N}
        qwen35,           // as qwen2 with [\p{L}\p{M}]+ and [^\s\p{L}\p{M}\p{N}]
        bailingmoe,       // as qwen2 (the regex spells the contractions differently)
        seed_coder,       // as qwen2 with  ?[^\s\p{L}\p{N}\r\n]+ (no trailing newlines)
        minicpm5,         // as llama3 with \p{N}+
        tekken,           // [^\r\n\p{L}\p{N}]?[\p{Lu}...]*[\p{Ll}...]+|...|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
        gpt4o,            // as tekken with an optional contraction suffix and \p{N}{1,3}
        deepseek3_main,   // [!-/:-@[-`{-~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
        crlf,             // [\r\n]
        ws_letters,       // \s?\p{L}+
        ws_punct,         // \s?\p{P}+
        number_1,         // \p{N}
        number_run,       // \p{N}+
        number_3,         // \p{N}{1,3}
        falcon_punct,     // [\p{P}\$\+<=>\^~\|`]+
        default_punct,    // [\p{P}\$\+<=>\^~\|]+
        ascii_digits_3,   // [0-9][0-9][0-9]
        cjk_deepseek,     // [一-龥ࠀ-一가-퟿]+
        cjk_deepseek3,    // [一-龥぀-ゟ゠-ヿ]+
        deepseek_latin,   // \s?[A-Za-zµÀ-ÖØ-öø-ƺ ... 𞤀-𞥃]+
        deepseek_punct,   // \s?[!-/:-~！-／：-～‘-‟　-。]+
        trailing_ws,      // \s+$
        poro,             //  ?[^(\s|.,!?…。，、।۔،)]+
        digit_groups,     // (?=(\d{3})+(?!\d))  (cuts digit runs in threes from the right)
        chameleon_sentinel,  // <sentinel:[0-9]+>
        chameleon_image,     // (IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z
        chameleon_ws,        // ([\t\n]|    |  )
        chameleon_punct,     // [\p{P}!-/:-@\[-`{-~]
    };

    pre_tokenizer() = default;
    explicit pre_tokenizer(pre_type t) : rules_(rules_for(t)) {}

    [[nodiscard]] const std::vector<rule>& rules() const noexcept { return rules_; }

    /// The regexes llama.cpp applies for each pre-tokenizer kind, in order.
    static std::vector<rule> rules_for(pre_type t) {
        using r = rule;
        switch (t) {
            case pre_type::default_: return {r::default_punct, r::gpt2, r::number_run, r::ascii_digits_3};
            case pre_type::llama3: case pre_type::chatglm4: return {r::llama3};
            case pre_type::deepseek_llm:
                return {r::crlf, r::deepseek_latin, r::deepseek_punct, r::trailing_ws, r::cjk_deepseek, r::number_run};
            case pre_type::deepseek_coder: return {r::crlf, r::ws_letters, r::ws_punct, r::cjk_deepseek, r::number_1};
            case pre_type::deepseek3_llm: return {r::number_3, r::cjk_deepseek3, r::deepseek3_main};
            case pre_type::falcon: return {r::falcon_punct, r::gpt2, r::ascii_digits_3};
            case pre_type::gpt2: return {r::gpt2};
            case pre_type::starcoder: return {r::number_1, r::gpt2};
            case pre_type::qwen2: return {r::qwen2};
            case pre_type::qwen35: return {r::qwen35};
            case pre_type::poro: return {r::poro};
            case pre_type::viking: return {r::poro, r::number_1};
            case pre_type::tekken: return {r::tekken};
            case pre_type::gpt4o: return {r::gpt4o};
            case pre_type::superbpe: return {r::number_run, r::digit_groups};
            case pre_type::bailingmoe: return {r::bailingmoe};
            case pre_type::seed_coder: return {r::seed_coder};
            case pre_type::chameleon:
                return {r::chameleon_sentinel, r::chameleon_image, r::chameleon_ws, r::number_1, r::chameleon_punct, r::gpt2};
            case pre_type::minicpm5: return {r::number_3, r::minicpm5};
        }
        return {r::gpt2};
    }

    /// Splits text into words. `clean` receives the text as valid UTF-8 (an invalid byte becomes
    /// U+FFFD, as in llama.cpp) and `ends` the end byte offset in `clean` of each word.
    /// Not const: the object keeps scratch buffers (copy it per thread; copies are cheap).
    void split(std::string_view text, std::string& clean, std::vector<std::size_t>& ends) {
        clean.clear();
        ends.clear();
        const std::size_t n = decode(text);
        std::vector<std::size_t>& lens = lens_;
        std::vector<std::size_t>& next = next_;
        lens.assign(n ? 1 : 0, n);
        for (rule r : rules_) {
            next.clear();
            next.reserve(lens.size() * 2);
            std::size_t b = 0;
            for (std::size_t len : lens) {
                if (len) apply(r, b, b + len, next);
                b += len;
            }
            lens.swap(next);
        }
        std::size_t cpt = 0, byte = 0;
        clean.reserve(text.size());
        for (std::size_t len : lens) {
            if (!len) continue;
            for (std::size_t i = cpt; i < cpt + len; ++i) append_utf8(clean, cpts_[i]);
            cpt += len;
            byte = clean.size();
            ends.push_back(byte);
        }
    }

    /// The same split as pieces of code-point lengths over decode_utf8(text) (for tests).
    std::vector<std::size_t> split_lengths(std::string_view text, rule r) {
        const std::size_t n = decode(text);
        std::vector<std::size_t> out;
        if (n) apply(r, 0, n, out);
        return out;
    }

private:
    // Class bits of a code point, as the regexes see it: \p{L}, \p{N}, \p{P}, \p{S}, \p{M}, \s.
    // For ASCII, \p{P} and \p{S} are the sets llama.cpp's collapsed regexes use ('~' is in neither).
    static constexpr std::uint8_t L = 1, N = 2, P = 4, S = 8, M = 16, W = 32;

    static constexpr std::uint8_t ascii_class(std::uint32_t c) noexcept {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) return L;
        if (c >= '0' && c <= '9') return N;
        if (c == ' ' || (c >= '\t' && c <= '\r')) return W;
        switch (c) {
            case '$': case '+': case '<': case '=': case '>': case '^': case '`': case '|': return S;
            case '!': case '"': case '#': case '%': case '&': case '\'': case '(': case ')': case '*': case ',':
            case '-': case '.': case '/': case ':': case ';': case '?': case '@': case '[': case '\\': case ']':
            case '_': case '{': case '}': return P;
            default: return 0;
        }
    }
    static std::uint8_t class_of(std::uint32_t c) noexcept {
        if (c < 0x80) return ascii_class(c);
        const cpt_flags f = flags_of(c);
        if (f.is_whitespace()) return W;
        switch (f.category()) {
            case cpt_class::letter: return L;
            case cpt_class::number: return N;
            case cpt_class::punctuation: return P;
            case cpt_class::symbol: return S;
            case cpt_class::mark: return M;
            default: return 0;
        }
    }

    std::size_t decode(std::string_view text) {
        cpts_.clear();
        cls_.clear();
        cpts_.reserve(text.size());
        cls_.reserve(text.size());
        for (std::size_t pos = 0; pos < text.size();) {
            const std::uint32_t c = decode_utf8(text, pos);
            cpts_.push_back(c);
            cls_.push_back(class_of(c));
        }
        return cpts_.size();
    }

    // ---- small helpers over the current text; e is the end of the piece being split ----
    [[nodiscard]] std::uint32_t cp(std::size_t i) const noexcept { return cpts_[i]; }
    [[nodiscard]] bool has(std::size_t i, std::size_t e, std::uint8_t mask) const noexcept { return i < e && (cls_[i] & mask); }
    [[nodiscard]] std::size_t run(std::size_t i, std::size_t e, std::uint8_t mask) const noexcept {
        while (i < e && (cls_[i] & mask)) ++i;
        return i;
    }
    // Not whitespace and not in `mask` (the [^\s...] classes); any code point qualifies otherwise.
    [[nodiscard]] bool other(std::size_t i, std::size_t e, std::uint8_t mask) const noexcept {
        return i < e && !(cls_[i] & (mask | W));
    }
    [[nodiscard]] std::size_t run_other(std::size_t i, std::size_t e, std::uint8_t mask) const noexcept {
        while (other(i, e, mask)) ++i;
        return i;
    }
    static constexpr std::uint32_t lower_ascii(std::uint32_t c) noexcept { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

    // 's 't 're 've 'm 'll 'd at pos (case-insensitive if asked): the end, or pos.
    [[nodiscard]] std::size_t contraction(std::size_t pos, std::size_t e, bool any_case) const noexcept {
        if (cp(pos) != '\'' || pos + 1 >= e) return pos;
        const auto low = [&](std::size_t i) { return any_case ? lower_ascii(cp(i)) : cp(i); };
        const std::uint32_t a = low(pos + 1);
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return pos + 2;
        if (pos + 2 >= e) return pos;
        const std::uint32_t b = low(pos + 2);
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return pos + 3;
        return pos;
    }

    // The whitespace alternatives at pos: \s*[\r\n]+ (if crlf), \s+(?!\S), then \s+ (if plus).
    [[nodiscard]] std::size_t whitespace(std::size_t pos, std::size_t e, bool crlf, bool plus) const noexcept {
        std::size_t end = pos, last_nl = e;
        while (end < e && (cls_[end] & W)) {
            if (cp(end) == '\r' || cp(end) == '\n') last_nl = end;
            ++end;
        }
        if (end == pos) return pos;
        if (crlf && last_nl != e) return last_nl + 1;  // \s* backs off to the last newline of the run
        if (end == e) return e;                        // \s+(?!\S) at the end of the piece
        if (end - pos >= 2) return end - 1;            // \s+(?!\S) leaves the last space to the next word
        return plus ? end : pos;
    }

    // The llama3 family: contractions, [^\r\n\p{L}\p{N}]?\p{L}+, numbers, punctuation, whitespace.
    struct l3_options {
        std::size_t digits;        // \p{N}{1,digits}; 0 = \p{N}+
        bool marks = false;        // letters are [\p{L}\p{M}] (qwen35)
        bool tail_crlf = true;     // [^\s\p{L}\p{N}]+ is followed by [\r\n]*
    };
    [[nodiscard]] std::size_t match_llama3(std::size_t pos, std::size_t e, const l3_options& o) const noexcept {
        const std::uint32_t c = cp(pos);
        if (std::size_t x = contraction(pos, e, true); x != pos) return x;
        const std::uint8_t letters = o.marks ? (L | M) : L;
        if (c != '\r' && c != '\n' && !(cls_[pos] & N)) {
            if ((cls_[pos] & letters) || has(pos + 1, e, letters)) return run(pos + 1, e, letters);
        }
        if (cls_[pos] & N) {
            const std::size_t end = run(pos, e, N);
            return o.digits == 0 ? end : std::min(end, pos + o.digits);
        }
        const std::uint8_t word = o.marks ? (L | N | M) : (L | N);
        std::size_t start = e;
        if (c == ' ' && other(pos + 1, e, word)) start = pos + 1;
        else if (other(pos, e, word)) start = pos;
        if (start != e) {
            std::size_t end = run_other(start, e, word);
            if (o.tail_crlf)
                while (end < e && (cp(end) == '\r' || cp(end) == '\n')) ++end;
            return end;
        }
        return whitespace(pos, e, true, true);
    }

    [[nodiscard]] std::size_t match_gpt2(std::size_t pos, std::size_t e) const noexcept {
        const std::uint32_t c = cp(pos);
        if (std::size_t x = contraction(pos, e, false); x != pos) return x;
        for (std::uint8_t cls : {L, N}) {
            if (c == ' ' && has(pos + 1, e, cls)) return run(pos + 1, e, cls);
            if (cls_[pos] & cls) return run(pos, e, cls);
        }
        if (c == ' ' && other(pos + 1, e, L | N)) return run_other(pos + 1, e, L | N);
        if (other(pos, e, L | N)) return run_other(pos, e, L | N);
        return whitespace(pos, e, false, false);
    }

    // tekken / gpt4o: [^\r\n\p{L}\p{N}]?U*W+ | [^\r\n\p{L}\p{N}]?U+W* where, as llama.cpp spells it,
    // U is a letter that is not a-z and W a letter that is not A-Z (non-ASCII letters are both).
    [[nodiscard]] std::size_t match_tekken(std::size_t pos, std::size_t e, bool gpt4o) const noexcept {
        const std::uint32_t c = cp(pos);
        const auto upper = [&](std::size_t i) { return has(i, e, L) && !(cp(i) >= 'a' && cp(i) <= 'z'); };
        const auto lower = [&](std::size_t i) { return has(i, e, L) && !(cp(i) >= 'A' && cp(i) <= 'Z'); };
        const auto suffix = [&](std::size_t end) {
            if (!gpt4o || end >= e) return end;
            return contraction(end, e, true);
        };
        const std::size_t q = (c != '\r' && c != '\n' && !(cls_[pos] & (L | N))) ? pos + 1 : pos;
        std::size_t u = q;
        while (upper(u)) ++u;
        if (lower(u)) {  // U* then W+
            std::size_t end = u;
            while (lower(end)) ++end;
            return suffix(end);
        }
        for (std::size_t k = u; k > q; --k)  // U* backs off to hand its last non-ASCII letter to W+
            if (lower(k - 1)) return suffix(k);
        if (u > q) return suffix(u);  // U+ W* with W* empty
        if (cls_[pos] & N) return gpt4o ? std::min(run(pos, e, N), pos + 3) : pos + 1;
        std::size_t start = e;
        if (c == ' ' && other(pos + 1, e, L | N)) start = pos + 1;
        else if (other(pos, e, L | N)) start = pos;
        if (start != e) {
            std::size_t end = run_other(start, e, L | N);
            while (end < e && (cp(end) == '\r' || cp(end) == '\n' || cp(end) == '/')) ++end;
            return end;
        }
        return whitespace(pos, e, true, true);
    }

    [[nodiscard]] std::size_t match_deepseek3(std::size_t pos, std::size_t e) const noexcept {
        const std::uint32_t c = cp(pos);
        const auto ascii_alpha = [&](std::size_t i) {
            return i < e && ((cp(i) >= 'A' && cp(i) <= 'Z') || (cp(i) >= 'a' && cp(i) <= 'z'));
        };
        const bool ascii_punct = (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
        if (ascii_punct && ascii_alpha(pos + 1)) {
            std::size_t end = pos + 1;
            while (ascii_alpha(end)) ++end;
            return end;
        }
        const bool prefix = c != '\r' && c != '\n' && !(cls_[pos] & (L | P | S));
        if (prefix && has(pos + 1, e, L | M)) return run(pos + 1, e, L | M);
        if (cls_[pos] & (L | M)) return run(pos, e, L | M);
        std::size_t start = e;
        if (c == ' ' && has(pos + 1, e, P | S)) start = pos + 1;
        else if (cls_[pos] & (P | S)) start = pos;
        if (start != e) {
            std::size_t end = run(start, e, P | S);
            while (end < e && (cp(end) == '\r' || cp(end) == '\n')) ++end;
            return end;
        }
        return whitespace(pos, e, true, true);
    }

    // \s?X+ for a predicate X on positions.
    template <typename Pred>
    [[nodiscard]] std::size_t ws_opt_run(std::size_t pos, std::size_t e, Pred in) const noexcept {
        std::size_t start = e;
        if ((cls_[pos] & W) && pos + 1 < e && in(pos + 1)) start = pos + 1;
        else if (in(pos)) start = pos;
        if (start == e) return pos;
        while (start < e && in(start)) ++start;
        return start;
    }

    struct cpt_span { std::uint32_t first, last; };
    template <std::size_t K>
    static bool in_spans(std::uint32_t c, const cpt_span (&spans)[K]) noexcept {
        for (const auto& s : spans)
            if (c >= s.first && c <= s.last) return true;
        return false;
    }
    // The code point a wide-character regex sees: non-ASCII whitespace is replaced by U+000B.
    [[nodiscard]] std::uint32_t wide(std::size_t i) const noexcept { return (cpts_[i] >= 0x80 && (cls_[i] & W)) ? 0x0B : cpts_[i]; }

    // Splits [b, e) with a leftmost-first matcher: matches and the text between them become pieces.
    template <typename Match>
    void regex_split(std::size_t b, std::size_t e, std::vector<std::size_t>& out, Match match) const {
        std::size_t gap = b;
        for (std::size_t pos = b; pos < e;) {
            const std::size_t end = match(pos);
            if (end > pos) {
                if (pos > gap) out.push_back(pos - gap);
                out.push_back(end - pos);
                pos = gap = end;
            } else {
                ++pos;
            }
        }
        if (e > gap) out.push_back(e - gap);
    }

    void apply(rule r, std::size_t b, std::size_t e, std::vector<std::size_t>& out) const {
        static constexpr cpt_span cjk_ds[] = {{0x0800, 0x9FA5}, {0xAC00, 0xD7FF}};
        static constexpr cpt_span cjk_ds3[] = {{0x4E00, 0x9FA5}, {0x3040, 0x309F}, {0x30A0, 0x30FF}};
        static constexpr cpt_span ds_punct[] = {{0x21, 0x2F}, {0x3A, 0x7E}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E},
                                                {0x2018, 0x201F}, {0x3000, 0x3002}};
        // The letter ranges of deepseek-llm's second regex.
        static constexpr cpt_span ds_latin[] = {
            {0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA}, {0x1BC, 0x1BF},
            {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377}, {0x37B, 0x37D}, {0x37F, 0x37F},
            {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C}, {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481},
            {0x48A, 0x52F}, {0x531, 0x556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
            {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D},
            {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D},
            {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC},
            {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102},
            {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
            {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
            {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3},
            {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF},
            {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F},
            {0x104B0, 0x104D3}, {0x104D8, 0x104FB}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF},
            {0x1E900, 0x1E943}};

        auto split = [&](auto match) { regex_split(b, e, out, match); };
        auto run_of = [&](auto in) {
            return [&, in](std::size_t pos) {
                std::size_t end = pos;
                while (end < e && in(end)) ++end;
                return end;
            };
        };
        switch (r) {
            case rule::gpt2: return split([&](std::size_t p) { return match_gpt2(p, e); });
            case rule::llama3: return split([&](std::size_t p) { return match_llama3(p, e, {3}); });
            case rule::qwen2: case rule::bailingmoe:
                return split([&](std::size_t p) { return match_llama3(p, e, {1}); });
            case rule::qwen35: return split([&](std::size_t p) { return match_llama3(p, e, {1, true}); });
            case rule::seed_coder: return split([&](std::size_t p) { return match_llama3(p, e, {1, false, false}); });
            case rule::minicpm5: return split([&](std::size_t p) { return match_llama3(p, e, {0}); });
            case rule::tekken: return split([&](std::size_t p) { return match_tekken(p, e, false); });
            case rule::gpt4o: return split([&](std::size_t p) { return match_tekken(p, e, true); });
            case rule::deepseek3_main: return split([&](std::size_t p) { return match_deepseek3(p, e); });
            case rule::crlf:
                return split([&](std::size_t p) { return (cp(p) == '\r' || cp(p) == '\n') ? p + 1 : p; });
            case rule::ws_letters:
                return split([&](std::size_t p) { return ws_opt_run(p, e, [&](std::size_t i) { return (cls_[i] & L) != 0; }); });
            case rule::ws_punct:
                return split([&](std::size_t p) { return ws_opt_run(p, e, [&](std::size_t i) { return (cls_[i] & P) != 0; }); });
            case rule::number_1: return split([&](std::size_t p) { return (cls_[p] & N) ? p + 1 : p; });
            case rule::number_run: return split([&](std::size_t p) { return run(p, e, N); });
            case rule::number_3: return split([&](std::size_t p) { return std::min(run(p, e, N), p + 3); });
            case rule::falcon_punct:
            case rule::default_punct: {
                const bool tick = r == rule::falcon_punct;
                return split(run_of([&, tick](std::size_t i) {
                    const std::uint32_t c = cp(i);
                    return (cls_[i] & P) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' ||
                           c == '~' || c == '|' || (tick && c == '`');
                }));
            }
            case rule::ascii_digits_3:
                return split([&](std::size_t p) {
                    for (std::size_t i = p; i < p + 3; ++i)
                        if (i >= e || cp(i) < '0' || cp(i) > '9') return p;
                    return p + 3;
                });
            case rule::cjk_deepseek: return split(run_of([&](std::size_t i) { return in_spans(wide(i), cjk_ds); }));
            case rule::cjk_deepseek3: return split(run_of([&](std::size_t i) { return in_spans(wide(i), cjk_ds3); }));
            case rule::deepseek_latin:
                return split([&](std::size_t p) { return ws_opt_run(p, e, [&](std::size_t i) { return in_spans(wide(i), ds_latin); }); });
            case rule::deepseek_punct:
                return split([&](std::size_t p) { return ws_opt_run(p, e, [&](std::size_t i) { return in_spans(wide(i), ds_punct); }); });
            case rule::trailing_ws: {
                std::size_t t = e;
                while (t > b && (cls_[t - 1] & W)) --t;
                if (t > b) out.push_back(t - b);
                if (e > t) out.push_back(e - t);
                return;
            }
            case rule::poro: {
                const auto in = [&](std::size_t i) {
                    if (i >= e || (cls_[i] & W)) return false;
                    switch (cp(i)) {
                        case '(': case ')': case '|': case '.': case ',': case '!': case '?': case 0x2026: case 0x3002:
                        case 0xFF0C: case 0x3001: case 0x0964: case 0x06D4: case 0x060C: return false;
                        default: return true;
                    }
                };
                return split([&](std::size_t p) {
                    std::size_t start = (cp(p) == ' ' && in(p + 1)) ? p + 1 : in(p) ? p : e;
                    if (start == e) return p;
                    while (in(start)) ++start;
                    return start;
                });
            }
            case rule::digit_groups: {
                // Empty matches at every digit whose run of ASCII digits to the right has a length that
                // is a positive multiple of three: cut there.
                std::size_t piece = b;
                for (std::size_t i = b; i < e;) {
                    if (cp(i) < '0' || cp(i) > '9') { ++i; continue; }
                    std::size_t t = i;
                    while (t < e && cp(t) >= '0' && cp(t) <= '9') ++t;
                    for (std::size_t p = i; p < t; ++p)
                        if ((t - p) % 3 == 0 && p > piece) { out.push_back(p - piece); piece = p; }
                    i = t;
                }
                if (e > piece) out.push_back(e - piece);
                return;
            }
            case rule::chameleon_sentinel:
                return split([&](std::size_t p) {
                    constexpr std::string_view lit = "<sentinel:";
                    std::size_t i = p;
                    for (char ch : lit) {
                        if (i >= e || cp(i) != std::uint32_t(ch)) return p;
                        ++i;
                    }
                    const std::size_t d = i;
                    while (i < e && cp(i) >= '0' && cp(i) <= '9') ++i;
                    if (i == d || i >= e || cp(i) != '>') return p;
                    return i + 1;
                });
            case rule::chameleon_image:
                return split([&](std::size_t p) {
                    constexpr std::string_view lit = "IMGIMG";
                    std::size_t i = p;
                    for (char ch : lit) {
                        if (i >= e || cp(i) != std::uint32_t(ch)) return p;
                        ++i;
                    }
                    const std::size_t d = i;
                    while (i < e && i < d + 4 && cp(i) >= 'A' && cp(i) <= 'I') ++i;
                    if (i == d || i >= e || cp(i) != 'Z') return p;
                    return i + 1;
                });
            case rule::chameleon_ws:
                return split([&](std::size_t p) {
                    if (cp(p) == '\t' || cp(p) == '\n') return p + 1;
                    std::size_t i = p;
                    while (i < e && i < p + 4 && cp(i) == ' ') ++i;
                    if (i - p == 4) return i;
                    return i - p >= 2 ? p + 2 : p;
                });
            case rule::chameleon_punct:
                return split([&](std::size_t p) {
                    const std::uint32_t c = cp(p);
                    const bool ascii = (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
                    return (ascii || (cls_[p] & P)) ? p + 1 : p;
                });
        }
    }

    std::vector<rule> rules_;
    std::vector<std::uint32_t> cpts_;     // [n] code points of the text being split (scratch)
    std::vector<std::uint8_t> cls_;       // [n] their class bits (scratch)
    std::vector<std::size_t> lens_, next_;  // piece lengths in code points (scratch)
};

}  // namespace tokenizer
LLMT_END_NAMESPACE
