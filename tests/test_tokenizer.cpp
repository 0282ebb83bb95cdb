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
