// test_gguf: the GGUF reader and writer on real files and on files the writer builds
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

namespace {
const std::string data_dir = LLMT_TEST_DATA_DIR;
const std::string models_dir = LLMT_MODELS_DIR;
}  // namespace

TEST_CASE("gguf: real files round-trip byte for byte through the writer") {
    for (const char* name : {"stories260K/stories260K.gguf", "stories260K/stories260K-Q4_K_M.gguf"}) {
        auto g = llmt::io::gguf_file::open(models_dir + "/" + name);
        CHECK(g.version() == 3);
        CHECK(g.tensors().size() == 48);
        llmt::io::gguf_writer w(g.version());
        for (const auto& kv : g.metadata()) w.set_value(kv.key, kv.value);
        for (const auto& t : g.tensors()) w.add_tensor(t.name, t.type, std::span(t.ne.data(), t.n_dims), g.tensor_data(t));
        const auto bytes = w.to_bytes();
        const auto orig = g.bytes();
        REQUIRE(bytes.size() == orig.size());
        CHECK(std::equal(bytes.begin(), bytes.end(), orig.begin()));
    }
}

TEST_CASE("gguf: typed accessors on stories260K") {
    auto g = llmt::io::gguf_file::open(models_dir + "/stories260K/stories260K.gguf");
    CHECK(g.get_string("general.architecture") == std::string_view("llama"));
    CHECK(g.require<std::uint32_t>("llama.embedding_length") == 64);
    CHECK(g.require<std::int64_t>("llama.block_count") == 5);
    CHECK_THROWS_AS((void)g.require<std::uint32_t>("no.such.key"), llmt::error);
    const auto* toks = g.get_array("tokenizer.ggml.tokens");
    REQUIRE(toks != nullptr);
    CHECK(toks->view<std::string_view>().size() == 512);
    const auto& emb = g.require_tensor("token_embd.weight");
    CHECK(emb.ne[0] == 64);
    CHECK(emb.ne[1] == 512);
    CHECK(emb.type == llmt::quant::qtype::f32);
}
