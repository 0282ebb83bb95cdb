// consumer: a program that uses llmt the way an outside project does (built by the packaging tests)
#include <llmt/llmt.hpp>

#include <cstdio>
#include <string>

// Prints a summary of a GGUF file; with a second argument, exits 1 unless the summary equals it.
int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::fprintf(stderr, "usage: %s MODEL.gguf [EXPECTED-SUMMARY]\n", argv[0]);
        return 2;
    }
    try {
        const auto g = llmt::io::gguf_file::open(argv[1]);
        const std::string arch(g.get_string("general.architecture").value_or("?"));
        const auto n_embd = g.require<std::uint32_t>(arch + ".embedding_length");
        const std::string summary =
            fmt::format("arch={} tensors={} n_embd={}", arch, g.tensors().size(), n_embd);
        std::printf("llmt %s: %s\n", llmt::version_string, summary.c_str());
        if (argc == 3 && summary != argv[2]) {
            std::fprintf(stderr, "consumer: expected '%s'\n", argv[2]);
            return 1;
        }
    } catch (const llmt::error& e) {
        std::fprintf(stderr, "consumer: %s\n", e.what());
        return 1;
    }
    return 0;
}
