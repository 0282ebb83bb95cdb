// other: the second translation unit of the single-include test
#include <llmt/llmt.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

// Writes a small GGUF file in memory with the writer and parses it back.
std::size_t round_trip_tensor_count() {
    llmt::io::gguf_writer w(3);
    w.set("general.architecture", "test");
    w.set("test.value", std::uint32_t{7});
    const std::vector<float> xs(64, 1.5f);
    w.add_tensor("a", llmt::quant::qtype::f32, {32, 2}, std::span<const float>(xs));
    const auto bytes = w.to_bytes();
    const auto g = llmt::io::gguf_file::from_bytes(bytes);
    return g.require<std::uint32_t>("test.value") == 7 ? g.tensors().size() : 0;
}
