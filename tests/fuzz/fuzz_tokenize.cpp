// fuzz_tokenize: libFuzzer target: every shipped vocabulary encodes arbitrary text and decodes arbitrary ids
#include "fuzz_input.hpp"

#include <llmt/core/error.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/tokenizer/tokenizer.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace {

namespace tk = llmt::tokenizer;
using llmt_fuzz::finding;
using llmt_fuzz::input;

constexpr std::string_view target = "fuzz_tokenize";

struct loaded {
    std::string name;
    tk::tokenizer tok;
    bool every_byte = false;  // a token for each of the 256 bytes
    bool strips = false;      // some special token strips the whitespace next to it (phi-3)
};

std::vector<loaded>& vocabs() {
    static std::vector<loaded> v;
    return v;
}

void add(const std::filesystem::path& path) {
    try {
        const auto g = llmt::io::gguf_file::open(path);
        loaded l{path.filename().string(), tk::tokenizer::from_gguf(g)};
        const auto& v = l.tok.get_vocab();
        l.every_byte = std::find(v.byte_tokens.begin(), v.byte_tokens.end(), tk::null_token) == v.byte_tokens.end();
        for (std::size_t id = 0; id < v.n_tokens(); ++id)
            l.strips = l.strips || (v.attr_of(tk::token_id(id)) & (tk::attr::lstrip | tk::attr::rstrip));
        vocabs().push_back(std::move(l));
    } catch (const llmt::error& e) {
        std::fprintf(stderr, "%.*s: cannot load the vocabulary of %s: %s\n", int(target.size()), target.data(),
                     path.string().c_str(), e.what());
        std::exit(1);  // every shipped vocabulary must load
    }
}

// Invalid UTF-8 replaced as the tokenizers see it (U+FFFD per bad sequence).
std::string sanitized(std::string_view s) {
    std::string out;
    for (auto c : tk::decode_utf8(s)) tk::append_utf8(out, c);
    return out;
}

bool has_whitespace_or_escape(std::string_view s) {
    return s.find_first_of(" \t\n\r\v\f") != std::string_view::npos || s.find("\xE2\x96\x81") != std::string_view::npos;
}

volatile std::size_t sink;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(LLMT_FUZZ_DATA_DIR "/vocab"))
        if (e.path().extension() == ".gguf") files.push_back(e.path());
    std::sort(files.begin(), files.end());  // the first byte picks the same vocabulary on every machine
    files.push_back(LLMT_FUZZ_MODELS_DIR "/stories260K/stories260K.gguf");
    for (const auto& f : files) add(f);
    std::fprintf(stderr, "%.*s: %zu vocabularies:", int(target.size()), target.data(), vocabs().size());
    for (const auto& v : vocabs()) std::fprintf(stderr, " %s", v.name.c_str());
    std::fprintf(stderr, "\n");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in(std::span(data, size));
    const auto& l = vocabs()[in.u8() % vocabs().size()];
    const tk::tokenizer& tok = l.tok;
    const std::uint8_t mode = in.u8();
    const std::size_t n_tokens = tok.n_tokens();

    if (mode & 0x80) {
        // Decode: the rest is a list of 32-bit ids, any value.
        std::vector<tk::token_id> ids;
        while (in.left() >= 4) ids.push_back(in.raw<tk::token_id>());
        try {
            sink = sink + tok.decode(ids, mode & 1, mode & 2).size();
            for (auto id : ids) sink = sink + tok.token_to_piece(id, mode & 4).size() + tok.piece(id).size();
        } catch (const llmt::error&) {
            // an id outside the vocabulary may be refused
        }
        return 0;
    }

    // Encode: (with bit 5: 1-2 literal byte ranges, 2 + 2 bytes each, then) the rest is the text.
    const bool add_special = mode & 1, parse_special = mode & 2;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;
    if (mode & 0x20)
        for (std::size_t k = 0, n = 1 + ((mode >> 6) & 1); k < n; ++k) {
            const std::size_t b = in.raw<std::uint16_t>(), e = in.raw<std::uint16_t>();
            ranges.emplace_back(b, e);
        }
    const std::string_view text = in.rest();
    for (auto& [b, e] : ranges) {  // mostly inside the text; one past the end at times
        b %= text.size() + 2;
        e %= text.size() + 2;
    }
    const auto ids = tok.encode(text, add_special, parse_special);
    for (auto id : ids)
        if (id < 0 || std::size_t(id) >= n_tokens) finding(target, "encode produced an id outside the vocabulary");
    if (!text.empty() && ids.empty() && tok.kind() != tk::model_kind::wpm && l.every_byte && !l.strips)
        finding(target, "non-empty text encoded to no tokens");

    // Literal byte ranges (a rendered chat's message text): control tokens are not matched there.
    // The whole text literal must tokenize as with special-token parsing off.
    if (mode & 0x10) {
        const auto whole = tok.encode(text, add_special, true, std::vector<std::pair<std::size_t, std::size_t>>{{0, text.size()}});
        if (whole != tok.encode(text, add_special, false))
            finding(target, "text that is literal throughout does not tokenize as with special-token parsing off");
    }
    if (!ranges.empty()) {
        try {
            for (auto id : tok.encode(text, add_special, true, ranges))
                if (id < 0 || std::size_t(id) >= n_tokens) finding(target, "encode with literal ranges produced an id outside the vocabulary");
        } catch (const llmt::error&) {
            // a range past the end of the text, or reversed
        }
    }

    const std::string back = tok.decode(ids, mode & 4, mode & 8);
    std::string joined;
    for (auto id : ids) joined += tok.token_to_piece(id, false);
    sink = sink + back.size();

    // Lossless cases, as the unit tests state them for the shipped vocabularies.
    if (!add_special && !parse_special && l.every_byte && !l.strips) {
        // Byte-level BPE keeps every byte of the text as it sees it (invalid bytes become U+FFFD).
        if (tok.kind() == tk::model_kind::bpe && joined != sanitized(text))
            finding(target, "byte-level BPE pieces do not give back the text");
        // SPM keeps every byte through byte fallback (spaces are where it is lossy: the prefix, '▁').
        if (tok.kind() == tk::model_kind::spm && !has_whitespace_or_escape(text) &&
            tok.decode(ids) != text)
            finding(target, "SPM decode does not give back the text");
    }
    return 0;
}
