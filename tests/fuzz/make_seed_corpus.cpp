// make_seed_corpus: writes small valid GGUF files (v1-v3, every metadata type, nested arrays, tensors)
// into a directory as the fuzzer's seed corpus; each file is parsed back before it is kept
#include <llmt/io/gguf.hpp>
#include <llmt/io/gguf_writer.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace {

using llmt::io::gguf_owned_value;
using llmt::io::gguf_writer;
using llmt::quant::qtype;

// Deterministic bytes for tensor data.
std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> out(n);
    std::uint32_t x = 2463534242u + seed;
    for (auto& b : out) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        b = std::byte(x & 0xff);
    }
    return out;
}

void add_tensor(gguf_writer& w, const char* name, qtype t, std::vector<std::uint64_t> ne, unsigned seed) {
    std::uint64_t n = 1;
    for (auto d : ne) n *= d;
    const auto bytes = pattern(n / llmt::quant::block_size(t) * llmt::quant::type_size(t), seed);
    w.add_tensor(name, t, std::span<const std::uint64_t>(ne), bytes);
}

void every_scalar(gguf_writer& w) {
    w.set("general.architecture", "llama");
    w.set("general.name", "seed");
    w.set("t.u8", std::uint8_t{200});
    w.set("t.i8", std::int8_t{-100});
    w.set("t.u16", std::uint16_t{60000});
    w.set("t.i16", std::int16_t{-30000});
    w.set("t.u32", std::uint32_t{4000000000u});
    w.set("t.i32", std::int32_t{-2000000000});
    w.set("t.f32", 0.5f);
    w.set("t.bool", true);
    w.set("t.u64", std::uint64_t{1} << 40);
    w.set("t.i64", -(std::int64_t{1} << 40));
    w.set("t.f64", -1.25);
    w.set("t.empty_string", "");
}

void every_array(gguf_writer& w) {
    w.set_array("a.u8", std::vector<std::uint8_t>{1, 2, 255});
    w.set_array("a.i8", std::vector<std::int8_t>{-1, 0, 1});
    w.set_array("a.u16", std::vector<std::uint16_t>{1, 65535});
    w.set_array("a.i16", std::vector<std::int16_t>{-32768, 7});
    w.set_array("a.u32", std::vector<std::uint32_t>{0, 1, 2, 3});
    w.set_array("a.i32", std::vector<std::int32_t>{-5, 5});
    w.set_array("a.f32", std::vector<float>{0.f, -1.f, 3.5f});
    w.set_array("a.bool", std::vector<bool>{true, false, true});
    w.set_array("a.u64", std::vector<std::uint64_t>{~std::uint64_t{0}});
    w.set_array("a.i64", std::vector<std::int64_t>{-1, 1});
    w.set_array("a.f64", std::vector<double>{1e300, -0.0});
    w.set_array("a.string", std::vector<std::string>{"<s>", "</s>", "\xe2\x96\x81the", ""});
    w.set_array("a.empty", std::vector<std::uint32_t>{});
    // Arrays of arrays, two and three levels deep.
    const auto inner1 = gguf_owned_value::array_of(std::vector<std::int32_t>{1, 2});
    const auto inner2 = gguf_owned_value::array_of(std::vector<std::string>{"x", "yz"});
    const std::vector<gguf_owned_value> level2{inner1, inner2};
    w.set_value("a.nested", gguf_owned_value::array_of(level2));
    const std::vector<gguf_owned_value> level3{gguf_owned_value::array_of(level2), inner1};
    w.set_value("a.nested3", gguf_owned_value::array_of(level3));
}

void tokenizer_like(gguf_writer& w) {
    w.set("tokenizer.ggml.model", "llama");
    w.set_array("tokenizer.ggml.tokens", std::vector<std::string>{"<unk>", "<s>", "</s>", "a", "b", "ab"});
    w.set_array("tokenizer.ggml.scores", std::vector<float>{0, 0, 0, -1, -2, -3});
    w.set_array("tokenizer.ggml.token_type", std::vector<std::int32_t>{2, 3, 3, 1, 1, 1});
    w.set("tokenizer.ggml.bos_token_id", std::uint32_t{1});
    w.set("llama.embedding_length", std::uint32_t{32});
    w.set("llama.block_count", std::uint32_t{1});
}

void some_tensors(gguf_writer& w) {
    add_tensor(w, "token_embd.weight", qtype::f32, {8, 6}, 1);
    add_tensor(w, "blk.0.attn_q.weight", qtype::f16, {16, 2}, 2);
    add_tensor(w, "blk.0.ffn_up.weight", qtype::q8_0, {32, 3}, 3);
    add_tensor(w, "blk.0.ffn_down.weight", qtype::q4_0, {64, 1, 1, 2}, 4);
    add_tensor(w, "output.weight", qtype::q4_k, {256, 1}, 5);
    add_tensor(w, "norm.weight", qtype::bf16, {3}, 6);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT-DIR\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    int written = 0;
    auto keep = [&](const std::string& name, const gguf_writer& w) {
        const auto bytes = w.to_bytes();
        (void)llmt::io::gguf_file::from_bytes(bytes, name);  // throws if the seed is not valid
        w.write(dir / (name + ".gguf"));
        ++written;
    };
    try {
        for (std::uint32_t version : {1u, 2u, 3u}) {
            const std::string v = "v" + std::to_string(version);
            gguf_writer all(version);
            every_scalar(all);
            every_array(all);
            some_tensors(all);
            keep(v + "-everything", all);

            gguf_writer meta(version);
            every_scalar(meta);
            every_array(meta);
            keep(v + "-metadata-only", meta);

            gguf_writer tensors(version);
            some_tensors(tensors);
            keep(v + "-tensors-only", tensors);

            gguf_writer model(version);
            tokenizer_like(model);
            add_tensor(model, "token_embd.weight", qtype::f32, {32, 6}, 7);
            keep(v + "-tiny-model", model);
        }
        gguf_writer aligned(3);
        aligned.set_alignment(64);
        every_scalar(aligned);
        some_tensors(aligned);
        keep("v3-align64", aligned);

        gguf_writer aligned1(3);
        aligned1.set_alignment(1);
        some_tensors(aligned1);
        keep("v3-align1", aligned1);

        keep("v3-empty", gguf_writer(3));
    } catch (const llmt::error& e) {
        std::fprintf(stderr, "make_seed_corpus: %s\n", e.what());
        return 1;
    }
    std::printf("make_seed_corpus: wrote %d GGUF files to %s\n", written, dir.string().c_str());
    return 0;
}
