// test_tokenizer: llama.cpp's tokenizer vectors, decode round trips, special tokens and hostile input
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <chrono>
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

std::vector<std::size_t> reference_split(const std::string& text, const std::string& re) {
    const auto cpts = tk::decode_utf8(text);
    if (uses_categories(re)) {
        std::string collapsed;
        for (auto c : cpts) {
            if (c < 128) { collapsed += char(c); continue; }
            const auto f = tk::flags_of(c);
            char b = char(0xD0);
            if (f.is_whitespace()) b = 0x0B;
            else if (f.is_number()) b = char(0xD1);
            else if (f.is_letter()) b = char(0xD2);
            else if (f.is_punctuation()) b = char(0xD3);
            else if (f.is_mark()) b = char(0xD4);
            else if (f.is_symbol()) b = char(0xD5);
            collapsed += b;
        }
        return regex_pieces(collapsed, std::regex(collapse_regex(re), std::regex::optimize | std::regex::nosubs));
    }
    std::wstring wtext;
    for (auto c : cpts) wtext += wchar_t((c > 0x7F && tk::flags_of(c).is_whitespace()) ? 0x0B : c);
    std::wstring wre;
    for (auto c : tk::decode_utf8(re)) wre += wchar_t(c);
    return regex_pieces(wtext, std::wregex(wre, std::regex::optimize | std::regex::nosubs));
}

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
        for (int i = 0; i < 400; ++i) {
            const std::string text = random_text(rng);
            const auto expected = reference_split(text, re);
            const auto got = pre.split_lengths(text, r);
            std::vector<std::size_t> nonempty;
            for (auto x : got) if (x) nonempty.push_back(x);
            CHECK_MESSAGE(nonempty == expected, "rule " << int(r) << " regex " << re << " text '" << text << "'");
        }
    }
}
