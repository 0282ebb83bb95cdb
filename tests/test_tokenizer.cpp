// test_tokenizer: llama.cpp's tokenizer vectors, decode round trips, special tokens and hostile input
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {
namespace tk = llmt::tokenizer;
const std::string data_dir = LLMT_TEST_DATA_DIR;
const std::string models_dir = LLMT_MODELS_DIR;

std::string read_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    REQUIRE_MESSAGE(f.good(), "cannot open " << path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct vector_case {
    std::string text;
    std::vector<tk::token_id> ids;
};

// X.gguf.inp holds strings separated by "\n__ggml_vocab_test__\n"; X.gguf.out one line of ids per string.
std::vector<vector_case> read_vectors(const std::string& gguf_path) {
    const std::string inp = read_file(gguf_path + ".inp");
    const std::string out = read_file(gguf_path + ".out");
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> texts;
    for (std::size_t pos = 0; pos < inp.size();) {
        const std::size_t next = inp.find(sep, pos);
        if (next == std::string::npos) {
            texts.push_back(inp.substr(pos));
            break;
        }
        texts.push_back(inp.substr(pos, next - pos));
        pos = next + sep.size();
    }
    std::vector<vector_case> cases;
    std::istringstream lines(out);
    std::string line;
    for (std::size_t i = 0; std::getline(lines, line); ++i) {
        REQUIRE(i < texts.size());
        vector_case c{texts[i], {}};
        std::istringstream ids(line);
        for (long id; ids >> id;) c.ids.push_back(tk::token_id(id));
        cases.push_back(std::move(c));
    }
    REQUIRE(cases.size() == texts.size());
    return cases;
}

tk::tokenizer load(const std::string& path) { return tk::tokenizer::from_gguf(llmt::io::gguf_file::open(path)); }

std::string show(const std::vector<tk::token_id>& ids) {
    std::string s;
    for (auto id : ids) s += std::to_string(id) + " ";
    return s;
}

// Checks every vector of one vocab; lossless vocabs must also decode back to the input.
void check_vectors(const std::string& name, bool lossless) {
    const std::string path = data_dir + "/vocab/ggml-vocab-" + name + ".gguf";
    const auto tok = load(path);
    const auto cases = read_vectors(path);
    REQUIRE(cases.size() > 40);
    for (const auto& c : cases) {
        const auto ids = tok.encode(c.text, false, false);
        CHECK_MESSAGE(ids == c.ids, name << ": '" << c.text << "'\n  got      " << show(ids) << "\n  expected " << show(c.ids));
        if (lossless) CHECK_MESSAGE(tok.decode(ids) == c.text, name << ": decode of '" << c.text << "'");
        if (tok.kind() == tk::model_kind::bpe) {  // byte-level: the pieces always give back the bytes
            std::string joined;
            for (auto id : ids) joined += tok.token_to_piece(id);
            CHECK_MESSAGE(joined == c.text, name << ": pieces of '" << c.text << "'");
        }
    }
}
}  // namespace

TEST_CASE("tokenizer: llama.cpp vectors, SentencePiece (llama-spm)") { check_vectors("llama-spm", true); }
TEST_CASE("tokenizer: llama.cpp vectors, SentencePiece (phi-3)") { check_vectors("phi-3", true); }
// Byte-level BPE is lossless; the vocabs that clean up tokenization spaces are checked piece by piece.
TEST_CASE("tokenizer: llama.cpp vectors, BPE (gpt-2)") { check_vectors("gpt-2", false); }
TEST_CASE("tokenizer: llama.cpp vectors, BPE (falcon)") { check_vectors("falcon", false); }
TEST_CASE("tokenizer: llama.cpp vectors, BPE (starcoder)") { check_vectors("starcoder", false); }
TEST_CASE("tokenizer: llama.cpp vectors, BPE (deepseek-coder)") { check_vectors("deepseek-coder", true); }
TEST_CASE("tokenizer: llama.cpp vectors, WordPiece (bert-bge)") { check_vectors("bert-bge", false); }

TEST_CASE("tokenizer: stories260K encodes with BOS and streams pieces") {
    const auto g = llmt::io::gguf_file::open(models_dir + "/stories260K/stories260K.gguf");
    const auto tok = tk::tokenizer::from_gguf(g);
    CHECK(tok.kind() == tk::model_kind::spm);
    CHECK(tok.n_tokens() == 512);
    CHECK(tok.bos() == 1);
    CHECK(tok.eos() == 2);
    CHECK(tok.is_eog(2));
    CHECK_FALSE(tok.is_eog(1));
    const auto ids = tok.encode("Once upon a time", true, false);
    CHECK(ids == std::vector<tk::token_id>{1, 403, 407, 261, 378});
    CHECK(tok.encode("Once upon a time", false, false) == std::vector<tk::token_id>{403, 407, 261, 378});
    std::string streamed;
    for (std::size_t i = 1; i < ids.size(); ++i) streamed += tok.token_to_piece(ids[i]);
    CHECK(streamed == " Once upon a time");
    // llama.cpp keeps the space when it removes a BOS, and drops it from a first text token.
    CHECK(tok.decode(ids, true) == " Once upon a time");
    CHECK(tok.decode(std::vector<tk::token_id>(ids.begin() + 1, ids.end())) == "Once upon a time");
    CHECK(tok.decode(ids) == "<s> Once upon a time");
    CHECK(tok.token_to_piece(1, false).empty());  // control token, not rendered
    CHECK(tok.token_to_piece(1, true) == "<s>");
    CHECK(tok.token_to_piece(3 + '\n') == "\n");  // byte token <0x0A>
    CHECK(tok.piece(403) == "\xE2\x96\x81Once");
}

TEST_CASE("tokenizer: special tokens are parsed only on request") {
    const auto tok = load(data_dir + "/vocab/ggml-vocab-llama-spm.gguf");
    const auto plain = tok.encode("<s>Hello</s>", false, false);
    CHECK(std::find(plain.begin(), plain.end(), 1) == plain.end());
    const auto parsed = tok.encode("<s>Hello</s>", false, true);
    REQUIRE(parsed.size() >= 3);
    CHECK(parsed.front() == 1);
    CHECK(parsed.back() == 2);
    // The text after a special token gets the SPM space prefix again.
    CHECK(std::vector<tk::token_id>(parsed.begin() + 1, parsed.end() - 1) == tok.encode("Hello", false, false));
}

TEST_CASE("tokenizer: invalid UTF-8 and every byte value never break SPM") {
    const auto tok = load(data_dir + "/vocab/ggml-vocab-llama-spm.gguf");
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(char(b));
    for (const std::string& s : {all, std::string("\xED\xA0\x80"), std::string("\xC0\xAF"), std::string("\xF4\x90\x80\x80"),
                                 std::string("\xE2\x82"), std::string("a\xFF" "b\x80")}) {
        const auto ids = tok.encode(s, false, false);
        CHECK_FALSE(ids.empty());
        for (auto id : ids) CHECK((id >= 0 && std::size_t(id) < tok.n_tokens()));
        CHECK(tok.decode(ids) == s);  // byte fallback keeps every byte
    }
}

// ---------------------------------------------------------------------------------------------
// The hand-written pre-tokenizer matchers against std::regex, run the way llama.cpp runs its
// regexes (the test is the only place std::regex appears): patterns with \p{..} see a "collapsed"
// text where each non-ASCII code point is one byte for its class; the others run as wide regexes
// with non-ASCII whitespace replaced by \v. Random short strings over a tricky alphabet.
#include <random>
#include <regex>

namespace {
bool uses_categories(const std::string& re) {
    for (const char* c : {"\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}"})
        if (re.find(c) != std::string::npos) return true;
    return false;
}

std::string collapse_regex(const std::string& re) {
    // \p{X} -> [<class byte><its ASCII members>] (without brackets inside a class), as llama.cpp writes it.
    const std::pair<const char*, std::string> cats[] = {
        {"\\p{N}", std::string("\xD1") + "\x30-\x39"},
        {"\\p{L}", std::string("\xD2") + "\x41-\x5A\x61-\x7A"},
        {"\\p{P}", std::string("\xD3") + "\x21-\x23\x25-\x2A\x2C-\x2F\x3A-\x3B\x3F-\x40\\\x5B-\\\x5D\x5F\\\x7B\\\x7D"},
        {"\\p{M}", std::string("\xD4")},
        {"\\p{S}", std::string("\xD5") + "\\\x24\\\x2B\x3C-\x3E\x5E\x60\\\x7C"},
    };
    std::string out;
    bool inside = false;
    for (std::size_t i = 0; i < re.size(); ++i) {
        if (re[i] == '[' && (i == 0 || re[i - 1] != '\\')) { out += '['; inside = true; continue; }
        if (inside && re[i] == ']' && re[i - 1] != '\\') { out += ']'; inside = false; continue; }
        bool done = false;
        for (const auto& [name, repl] : cats) {
            if (re.compare(i, 5, name) == 0) {
                out += inside ? repl : "[" + repl + "]";
                i += 4;
                done = true;
                break;
            }
        }
        if (!done) out += re[i];
    }
    return out;
}

template <typename Str, typename Re>
std::vector<std::size_t> regex_pieces(const Str& text, const Re& re) {
    std::vector<std::size_t> out;
    std::ptrdiff_t start = 0;
    for (auto it = std::regex_iterator<typename Str::const_iterator>(text.begin(), text.end(), re), end = decltype(it)();
         it != end; ++it) {
        if (it->position() > start) out.push_back(std::size_t(it->position() - start));
        out.push_back(std::size_t(it->length()));
        start = it->position() + it->length();
    }
    if (start < std::ptrdiff_t(text.size())) out.push_back(text.size() - std::size_t(start));
    std::erase(out, std::size_t(0));  // empty matches cut the text but make no word
    return out;
}

// One of llama.cpp's regexes, compiled the way unicode_regex_split runs it.
struct reference_regex {
    bool collapsed;
    std::regex narrow;
    std::wregex wide;

    explicit reference_regex(const std::string& re) : collapsed(uses_categories(re)) {
        if (collapsed) {
            narrow = std::regex(collapse_regex(re), std::regex::optimize | std::regex::nosubs);
        } else {
            std::wstring wre;
            for (auto c : tk::decode_utf8(re)) wre += wchar_t(c);
            wide = std::wregex(wre, std::regex::optimize | std::regex::nosubs);
        }
    }

    std::vector<std::size_t> split(const std::string& text) const {
        const auto cpts = tk::decode_utf8(text);
        if (collapsed) {
            std::string t;
            for (auto c : cpts) {
                if (c < 128) { t += char(c); continue; }
                const auto f = tk::flags_of(c);
                char b = char(0xD0);
                if (f.is_whitespace()) b = 0x0B;
                else if (f.is_number()) b = char(0xD1);
                else if (f.is_letter()) b = char(0xD2);
                else if (f.is_punctuation()) b = char(0xD3);
                else if (f.is_mark()) b = char(0xD4);
                else if (f.is_symbol()) b = char(0xD5);
                t += b;
            }
            return regex_pieces(t, narrow);
        }
        std::wstring w;
        for (auto c : cpts) w += wchar_t((c > 0x7F && tk::flags_of(c).is_whitespace()) ? 0x0B : c);
        return regex_pieces(w, wide);
    }
};

std::string random_text(std::mt19937& rng) {
    static const char* alphabet[] = {
        "a", "b", "Z", "Q", "s", "t", "e", "l", "v", "r", "d", "m", "S", "L", "0", "1", "7", " ", " ", " ", "\n", "\r",
        "\t", "'", "'", "!", ".", ",", "?", "/", "~", "$", "+", "`", "|", "(", ")", "-", "_", "<", ">", "=", "^",
        "\xC3\xA9" /* é */, "\xC3\x80" /* À */, "\xD0\x96" /* Ж */, "\xD0\xB6" /* ж */, "\xCC\x81" /* combining acute */,
        "\xE4\xB8\xAD" /* 中 */, "\xEA\xB0\x80" /* 가 */, "\xE3\x81\x82" /* あ */, "\xE3\x80\x80" /* ideographic space */,
        "\xC2\xA0" /* nbsp */, "\xE2\x80\xA8" /* line separator */, "\xD9\xA3" /* arabic 3 */, "\xC2\xB2" /* ² */,
        "\xE2\x82\xAC" /* € */, "\xE2\x80\xA6" /* … */, "\xE3\x80\x82" /* 。 */, "\xEF\xBC\x8C" /* ， */,
        "\xF0\x9F\xA6\x99" /* 🦙 */, "\xE2\x80\x8D" /* ZWJ */, "\xEF\xBC\xA1" /* Ａ */, "\xCE\xA9" /* Ω */,
        "\xE2\x84\xAA" /* Kelvin */, "<sentinel:", "IMGIMG", "AB", "Z", "    ", "  ", "'s", "'LL", "'re", "123", "4567",
    };
    std::uniform_int_distribution<int> len(0, 14), pick(0, int(std::size(alphabet)) - 1);
    std::string s;
    for (int i = len(rng); i > 0; --i) s += alphabet[pick(rng)];
    return s;
}
}  // namespace

TEST_CASE("tokenizer: pre-tokenizer matchers split exactly like llama.cpp's regexes") {
    using rule = tk::pre_tokenizer::rule;
    const std::pair<rule, const char*> cases[] = {
        {rule::gpt2, "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"},
        {rule::llama3, "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
        {rule::qwen2, "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
        {rule::qwen35, "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
        {rule::bailingmoe, "'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"},
        {rule::seed_coder, "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
        {rule::minicpm5, "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
        {rule::tekken, "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
        {rule::gpt4o, "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
        {rule::deepseek3_main, "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"},
        {rule::crlf, "[\r\n]"},
        {rule::ws_letters, "\\s?\\p{L}+"},
        {rule::ws_punct, "\\s?\\p{P}+"},
        {rule::number_1, "\\p{N}"},
        {rule::number_run, "\\p{N}+"},
        {rule::number_3, "\\p{N}{1,3}"},
        {rule::falcon_punct, "[\\p{P}\\$\\+<=>\\^~\\|`]+"},
        {rule::default_punct, "[\\p{P}\\$\\+<=>\\^~\\|]+"},
        {rule::ascii_digits_3, "[0-9][0-9][0-9]"},
        {rule::cjk_deepseek, "[\xE4\xB8\x80-\xE9\xBE\xA5\xE0\xA0\x80-\xE4\xB8\x80\xEA\xB0\x80-\xED\x9F\xBF]+"},
        {rule::cjk_deepseek3, "[\xE4\xB8\x80-\xE9\xBE\xA5\xE3\x81\x80-\xE3\x82\x9F\xE3\x82\xA0-\xE3\x83\xBF]+"},
        {rule::deepseek_punct, "\\s?[!-/:-~\xEF\xBC\x81-\xEF\xBC\x8F\xEF\xBC\x9A-\xEF\xBD\x9E\xE2\x80\x98-\xE2\x80\x9F\xE3\x80\x80-\xE3\x80\x82]+"},
        {rule::trailing_ws, "\\s+$"},
        {rule::poro, " ?[^(\\s|.,!?\xE2\x80\xA6\xE3\x80\x82\xEF\xBC\x8C\xE3\x80\x81\xE0\xA5\xA4\xDB\x94\xD8\x8C)]+"},
        {rule::digit_groups, "(?=(\\d{3})+(?!\\d))"},
        {rule::chameleon_sentinel, "<sentinel:[0-9]+>"},
        {rule::chameleon_image, "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z"},
        {rule::chameleon_ws, "([\\t\\n]|    |  )"},
        {rule::chameleon_punct, "[\\p{P}!-/:-@\\[-`{-~]"},
    };
    std::mt19937 rng(1234);
    tk::pre_tokenizer pre;
    for (const auto& [r, re] : cases) {
        const reference_regex reference(re);
        for (int i = 0; i < 400; ++i) {
            const std::string text = random_text(rng);
            const auto expected = reference.split(text);
            const auto got = pre.split_lengths(text, r);
            std::vector<std::size_t> nonempty;
            for (auto x : got) if (x) nonempty.push_back(x);
            CHECK_MESSAGE(nonempty == expected, "rule " << int(r) << " regex " << re << " text '" << text << "'");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile input: invalid UTF-8 of every kind, every byte value, random bytes, long runs.
namespace {
// CPU time of this thread (ratios only: a loaded machine does not skew it).
double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// What llama.cpp tokenizes for BPE / WPM: the text decoded leniently and encoded again.
std::string sanitized(std::string_view s) {
    std::string out;
    for (auto c : tk::decode_utf8(s)) tk::append_utf8(out, c);
    return out;
}

// About `bytes` bytes of ordinary text: the vocab's own test strings between made-up words (so that
// the word caches do not make the baseline unrealistically cheap), in a fixed pseudo-random order.
std::string normal_text(const std::string& vocab_name, std::size_t bytes) {
    const auto cases = read_vectors(data_dir + "/vocab/ggml-vocab-" + vocab_name + ".gguf");
    static const char* const letters[] = {"a", "e", "i", "o", "u", "n", "r", "s", "t", "l", "k", "m", "p", "\xC3\xA9",
                                          "\xC3\x9F", "\xD0\xB6", "\xD0\xB0", "\xE4\xB8\xAD", "\xE6\x96\x87", "7"};
    static const char* const gaps[] = {" ", " ", " ", ", ", ". ", "\n", "\t", "'s "};
    std::mt19937 rng(7);
    std::string s;
    while (s.size() < bytes) {
        if (rng() % 4 == 0) {
            s += cases[rng() % cases.size()].text;
        } else {
            for (unsigned n = 2 + rng() % 9; n > 0; --n) s += letters[rng() % std::size(letters)];
        }
        s += gaps[rng() % std::size(gaps)];
    }
    return s;
}

const char* const hostile_vocabs[] = {"llama-spm", "gpt-2", "falcon", "deepseek-coder", "starcoder", "bert-bge"};
}  // namespace

TEST_CASE("tokenizer: invalid UTF-8, every byte and random bytes never break any tokenizer") {
    std::string all;
    for (int b = 0; b < 256; ++b) all.push_back(char(b));
    std::mt19937 rng(99);
    std::string random_bytes(1 << 16, '\0');
    for (auto& c : random_bytes) c = char(rng());
    std::string random_no_space = random_bytes;
    std::erase(random_no_space, ' ');
    std::string all_no_space = all;
    std::erase(all_no_space, ' ');
    const std::string inputs[] = {
        all, all_no_space, random_bytes, random_no_space,
        "\xED\xA0\x80",              // lone surrogate (CESU-8 / WTF-8)
        "\xED\xA0\xBD\xED\xB8\x80",  // surrogate pair spelled in CESU-8
        "\xC0\xAF", "\xE0\x80\xAF",  // overlong '/'
        "\xF4\x90\x80\x80", "\xF7\xBF\xBF\xBF", "\xF8\x88\x80\x80\x80",  // beyond U+10FFFF, 5-byte form
        "\xE2\x82", "a\xFF" "b\x80", "\xC3", "\x80\x80\x80", std::string("nul\0inside", 10),
    };
    for (const char* name : hostile_vocabs) {
        const auto tok = load(data_dir + "/vocab/ggml-vocab-" + std::string(name) + ".gguf");
        for (const std::string& s : inputs) {
            for (bool special : {false, true}) {
                const auto ids = tok.encode(s, true, special);
                bool in_range = true;
                for (auto id : ids) in_range = in_range && id >= 0 && std::size_t(id) < tok.n_tokens();
                CHECK_MESSAGE(in_range, std::string(name));
                const std::string back = tok.decode(ids);
                (void)back;
                const auto& bytes = tok.get_vocab().byte_tokens;
                const bool every_byte = std::find(bytes.begin(), bytes.end(), tk::null_token) == bytes.end();
                if (tok.kind() == tk::model_kind::bpe && !special && every_byte) {
                    // Byte-level BPE keeps every byte of the text as llama.cpp sees it (invalid bytes -> U+FFFD).
                    // (falcon and starcoder lack some byte tokens: like llama.cpp, those bytes are dropped.)
                    std::string joined;
                    for (auto id : ids) joined += tok.token_to_piece(id, false);
                    CHECK_MESSAGE(joined == sanitized(s), std::string(name));
                }
                // SPM keeps every byte through byte fallback, unless invalid UTF-8 swallows the bytes of an
                // escaped space (as in llama.cpp: the character length comes from the lead byte alone).
                if (tok.kind() == tk::model_kind::spm && !special && s.find(' ') == std::string::npos)
                    CHECK(tok.decode(std::vector<tk::token_id>(ids.begin() + 1, ids.end())) == s);
            }
        }
    }
}

TEST_CASE("tokenizer: 1 MB runs of one character stay near the cost of 1 MB of text") {
    // Timing as a ratio only, with a generous bound: a quadratic step would be ~1000x here.
    const std::string runs[] = {std::string(1 << 20, 'a'), std::string(1 << 20, ' '), std::string(1 << 20, '\n'),
                                std::string(1 << 20, '1'), std::string(1 << 20, '\xFF')};
    std::string llamas;
    while (llamas.size() < (1u << 20)) llamas += "\xF0\x9F\xA6\x99";
    for (const char* name : {"llama-spm", "gpt-2", "bert-bge"}) {  // one vocab per tokenizer kind
        const auto tok = load(data_dir + "/vocab/ggml-vocab-" + std::string(name) + ".gguf");
        const std::string text = normal_text(name, 1 << 20);
        double t0 = thread_seconds();
        const auto normal_ids = tok.encode(text, false, false);
        const double normal = std::max(thread_seconds() - t0, 1e-3);
        CHECK(normal_ids.size() > 1000);
        for (const std::string* run : std::initializer_list<const std::string*>{&runs[0], &runs[1], &runs[2], &runs[3], &runs[4], &llamas}) {
            t0 = thread_seconds();
            const auto ids = tok.encode(*run, false, false);
            const double t = thread_seconds() - t0;
            CHECK_MESSAGE(t < 20 * normal, std::string(name) << ": run of '" << run->substr(0, 4) << "' took " << t << " s, "
                                                << "1 MB of text " << normal << " s");
            if (tok.kind() != tk::model_kind::wpm) CHECK(!ids.empty());
        }
    }
}

TEST_CASE("tokenizer: a 10 MB text encodes and decodes back") {
    const auto tok = load(data_dir + "/vocab/ggml-vocab-gpt-2.gguf");
    const std::string text = normal_text("gpt-2", 10u << 20);
    const auto ids = tok.encode(text, false, false);
    CHECK(ids.size() > text.size() / 8);
    std::string joined;
    joined.reserve(text.size());
    for (auto id : ids) joined += tok.token_to_piece_view(id);
    CHECK(joined == text);
}

TEST_CASE("tokenizer: long BPE words merge the same by rank sweeps as through the queue") {
    for (const char* name : {"gpt-2", "deepseek-coder", "falcon", "starcoder"}) {
        const auto tok = load(data_dir + "/vocab/ggml-vocab-" + std::string(name) + ".gguf");
        const tk::vocab& v = tok.get_vocab();
        CHECK_MESSAGE(v.merges_well_formed, std::string(name));
        tk::bpe_encoder queue(v, tk::pre_tokenizer(v.pre)), sweep(v, tk::pre_tokenizer(v.pre));
        queue.set_sweep_threshold(SIZE_MAX);
        sweep.set_sweep_threshold(0);
        // Every test vector, and long words from small alphabets (many merges, many ties).
        std::vector<std::string> texts;
        for (const auto& c : read_vectors(data_dir + "/vocab/ggml-vocab-" + std::string(name) + ".gguf")) texts.push_back(c.text);
        std::mt19937 rng(5);
        const std::string alphabets[] = {"ab", "aeiou", "the", "0123456789", " \n", "-=_"};
        for (int i = 0; i < 40; ++i) {
            const std::string& a = alphabets[std::size_t(i) % std::size(alphabets)];
            std::string w(200 + rng() % 3000, ' ');
            for (auto& c : w) c = a[rng() % a.size()];
            texts.push_back(w);
        }
        for (const auto& t : texts) {
            std::vector<tk::token_id> a, b;
            queue.encode(t, a);
            sweep.encode(t, b);
            CHECK_MESSAGE(a == b, name << ": '" << t.substr(0, 40) << "'");
        }
    }
}

TEST_CASE("tokenizer: literal ranges keep control tokens out of message text, ids unchanged elsewhere") {
    const auto tok = load(data_dir + "/vocab/ggml-vocab-llama-spm.gguf");
    using range = std::pair<std::size_t, std::size_t>;
    // "[INST] " + user text + " [/INST]" + reply + "</s>": the user typed "</s><s>".
    const std::string text = "[INST] Hi</s><s>there [/INST]ok</s>";
    const std::vector<range> user{{7, 22}};
    const auto guarded = tok.encode(text, true, true, user);
    const auto open = tok.encode(text, true, true);
    CHECK(std::count(open.begin(), open.end(), 2) == 2);  // the hole: the user's "</s>" is an EOS
    CHECK(std::count(open.begin(), open.end(), 1) == 2);
    CHECK(std::count(guarded.begin(), guarded.end(), 2) == 1);  // only the template's
    CHECK(std::count(guarded.begin(), guarded.end(), 1) == 1);  // only the BOS
    CHECK(guarded.back() == 2);
    // The user's text is tokenized as plain text would be: ids of the text with parse_special off.
    CHECK(guarded == [&] {
        auto ids = tok.encode("[INST] Hi</s><s>there [/INST]ok", true, false);
        ids.push_back(2);
        return ids;
    }());
    // Without ranges, or with empty ones, or with parse_special off, nothing changes.
    CHECK(tok.encode(text, true, true, {}) == open);
    const std::vector<range> empty_ranges{{3, 3}, {0, 0}};
    CHECK(tok.encode(text, true, true, empty_ranges) == open);
    CHECK(tok.encode(text, false, false, user) == tok.encode(text, false, false));
    // A special that straddles a range's edge is not matched either; one just outside is.
    const std::vector<range> edge{{0, 11}};  // "[INST] Hi</" ends inside the first "</s>"
    const auto e = tok.encode(text, false, true, edge);
    CHECK(std::count(e.begin(), e.end(), 2) == 1);
    CHECK(std::count(e.begin(), e.end(), 1) == 1);
    // Ranges in any order, overlapping, adjacent: the same as their union.
    const std::vector<range> pieces{{15, 22}, {7, 12}, {10, 16}};
    CHECK(tok.encode(text, true, true, pieces) == guarded);
    // A range outside the text is the caller's error.
    const std::vector<range> bad{{30, 99}};
    try {
        (void)tok.encode(text, true, true, bad);
        FAIL("a range past the text was accepted");
    } catch (const llmt::error& err) {
        CHECK(err.code() == llmt::errc::invalid_argument);
        CHECK(std::string(err.what()).find("[30, 99)") != std::string::npos);
    }
}

TEST_CASE("tokenizer: literal ranges give llama.cpp's ids for every vector text between control tokens") {
    for (const std::string name : {"llama-spm", "phi-3", "gpt-2", "falcon", "starcoder", "deepseek-coder", "bert-bge"}) {
        CAPTURE(name);
        const std::string path = data_dir + "/vocab/ggml-vocab-" + name + ".gguf";
        const auto tok = load(path);
        const auto& v = tok.get_vocab();
        std::vector<std::string> controls;
        for (auto id : v.special_tokens)
            if (v.attr_of(id) & tk::attr::control) controls.emplace_back(v.text(id));
        REQUIRE(!controls.empty());
        for (const auto& c : read_vectors(path)) {
            bool has_special = false;
            for (auto id : v.special_tokens) has_special |= c.text.find(v.text(id)) != std::string::npos;
            if (has_special) continue;
            const std::string text = controls.front() + c.text + controls.back() + "x" + controls.front() + c.text;
            const std::size_t a = controls.front().size(), b = text.size() - c.text.size();
            const std::vector<std::pair<std::size_t, std::size_t>> ranges{{a, a + c.text.size()}, {b, text.size()}};
            CHECK_MESSAGE(tok.encode(text, true, true, ranges) == tok.encode(text, true, true), "'" << c.text << "'");
        }
    }
}
