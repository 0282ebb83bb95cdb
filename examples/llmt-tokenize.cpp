// llmt-tokenize: prints the tokens of a text for the vocabulary of a GGUF file (like llama-tokenize)
#include "cli_app.hpp"

#include <llmt/llmt.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

namespace {

// Writes a piece; bytes that are not valid UTF-8 are shown as <xx>. Returns false if there were any.
bool write_piece(std::string_view s) {
    bool valid = true;
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = llmt::tokenizer::utf8_len(s[i]);
        bool ok = static_cast<unsigned char>(s[i]) < 0x80 || (n > 1 && i + n <= s.size());
        for (std::size_t k = 1; ok && k < n; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
        if (ok) {
            std::fwrite(s.data() + i, 1, n, stdout);
            i += n;
        } else {
            std::printf("<%02x>", static_cast<unsigned char>(s[i]));
            valid = false;
            i += 1;
        }
    }
    return valid;
}

int run(int argc, char** argv) {
    CLI::App app{"llmt-tokenize: token ids of a text, for the vocabulary of a GGUF model or vocab file"};
    app.option_defaults()->always_capture_default();
    std::string model, prompt, file;
    bool ids_only = false, no_bos = false, parse_special = false, show_count = false;
    app.add_option("-m,--model", model, "GGUF file, full model or vocab-only (required unless the environment variable LLMT_MODEL names one)");
    auto* p = app.add_option("-p,--prompt", prompt, "text to tokenize");
    auto* f = app.add_option("-f,--file", file, "read the text from a file (a regular file of at most 1 GiB; default: standard input)");
    p->excludes(f);
    f->excludes(p);
    app.add_flag("--ids", ids_only, "print only the ids, space-separated on one line");
    app.add_flag("--no-bos", no_bos, "do not add BOS/EOS even when the vocabulary asks for them");
    app.add_flag("--parse-special", parse_special, "turn the text of control tokens (<s>, <|im_end|>) into those tokens");
    app.add_flag("--show-count", show_count, "print the number of tokens at the end");
    llmt_cli::parse(app, argc, argv, false);
    model = llmt_cli::resolve_model(model);
    if (!file.empty()) {
        prompt = llmt_cli::read_text_file(file, "-f/--file");
    } else if (p->count() == 0) {
        std::stringstream ss;  // no -p / -f: read standard input
        ss << std::cin.rdbuf();
        prompt = ss.str();
    }
    const auto gguf = llmt::io::gguf_file::open(model);
    const auto tok = llmt::tokenizer::tokenizer::from_gguf(gguf);
    const auto ids = tok.encode(prompt, !no_bos, parse_special);
    if (ids_only) {
        for (std::size_t i = 0; i < ids.size(); ++i) std::printf(i ? " %d" : "%d", ids[i]);
        std::printf("\n");
    } else {
        for (auto id : ids) {
            std::printf("%6d -> '", id);
            const bool ok = write_piece(tok.token_to_piece(id));
            std::printf(ok ? "'\n" : "' (utf-8 decode failure)\n");
            if (llmt_cli::stdout_failed()) break;
        }
    }
    if (show_count) std::printf("Total number of tokens: %zu\n", ids.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-tokenize", [&] { return run(argc, argv); });
}
