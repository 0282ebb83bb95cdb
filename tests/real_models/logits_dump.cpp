// logits_dump: llmt's logits at every position of a list of token ids, as float32 binary [n_tokens][n_vocab]
//
//   llmt-logits-dump MODEL OUT.bin TOKENS.txt [KV_TYPE]     # TOKENS.txt: ids separated by blanks
#include <llmt/llmt.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <vector>

int main(int argc, char** argv) {
    try {
        if (argc < 4) {
            fmt::print(stderr, "usage: llmt-logits-dump MODEL OUT.bin TOKENS.txt [KV_TYPE]\n");
            return 2;
        }
        std::vector<llmt::token_id> tokens;
        std::ifstream in(argv[3]);
        for (llmt::token_id t; in >> t;) tokens.push_back(t);
        llmt::load_options lo;
        lo.context = std::int64_t(tokens.size());
        if (argc > 4) lo.kv_type = llmt::parse_kv_type(argv[4]);
        auto model = llmt::load_any(argv[1], lo);
        std::vector<float> out(tokens.size() * std::size_t(model->n_vocab()));
        model->forward(tokens, 0, out, true);
        std::FILE* f = std::fopen(argv[2], "wb");
        if (!f || std::fwrite(out.data(), sizeof(float), out.size(), f) != out.size() || std::fclose(f) != 0) {
            fmt::print(stderr, "logits_dump: cannot write {}\n", argv[2]);
            return 1;
        }
        return 0;
    } catch (const std::exception& e) {
        fmt::print(stderr, "logits_dump: error: {}\n", e.what());
        return 1;
    }
}
