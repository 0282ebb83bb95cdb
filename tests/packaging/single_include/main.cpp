// main: the first translation unit of the single-include test; opens the bundled model
#include <llmt/llmt.hpp>

#include <cstddef>
#include <cstdio>
#include <string>

std::size_t round_trip_tensor_count();

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s MODEL.gguf\n", argv[0]);
        return 2;
    }
    try {
        const auto g = llmt::io::gguf_file::open(argv[1]);
        const std::size_t model_tensors = g.tensors().size();
        const std::size_t written_tensors = round_trip_tensor_count();
        std::printf("single-include llmt %s: model tensors=%zu, round-trip tensors=%zu\n", llmt::version_string,
                    model_tensors, written_tensors);
        return model_tensors == 48 && written_tensors == 1 ? 0 : 1;
    } catch (const llmt::error& e) {
        std::fprintf(stderr, "single_include_test: %s\n", e.what());
        return 1;
    }
}
