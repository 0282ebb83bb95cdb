// test_gguf: the GGUF reader and writer on real files, on files the writer builds, and the qtype table
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

namespace {
const std::string data_dir = LLMT_TEST_DATA_DIR;
const std::string models_dir = LLMT_MODELS_DIR;

using llmt::io::gguf_file;
using llmt::io::gguf_owned_value;
using llmt::io::gguf_type;
using llmt::io::gguf_writer;
using llmt::quant::qtype;

/// Every .gguf file shipped with the repository (tests/data and models/).
std::vector<std::filesystem::path> real_gguf_files() {
    std::vector<std::filesystem::path> out;
    for (const auto& root : {data_dir, models_dir})
        for (const auto& e : std::filesystem::recursive_directory_iterator(root))
            if (e.is_regular_file() && e.path().extension() == ".gguf") out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

/// Rebuilds a parsed file with the writer (same version, keys, tensors, in order).
std::vector<std::byte> rewrite(const gguf_file& g) {
    gguf_writer w(g.version());
    for (const auto& kv : g.metadata()) w.set_value(kv.key, kv.value);
    for (const auto& t : g.tensors()) w.add_tensor(t.name, t.type, std::span(t.ne.data(), t.n_dims), g.tensor_data(t));
    return w.to_bytes();
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

template <typename T>
std::vector<std::byte> bytes_of(const std::vector<T>& xs) {
    const auto s = std::as_bytes(std::span(xs));
    return {s.begin(), s.end()};
}

/// A file holding one key of every metadata type, nested and empty arrays, and a few tensors.
gguf_writer every_type_writer(std::uint32_t version, std::uint32_t alignment = 32) {
    gguf_writer w(version);
    w.set("u8", std::uint8_t{200});
    w.set("i8", std::int8_t{-100});
    w.set("u16", std::uint16_t{60000});
    w.set("i16", std::int16_t{-30000});
    w.set("u32", std::uint32_t{4000000000u});
    w.set("i32", std::int32_t{-1});
    w.set("f32", 0.125f);
    w.set("bool_t", true);
    w.set("bool_f", false);
    w.set("str", std::string_view("llama"));
    w.set("empty_str", std::string_view(""));
    w.set("bin_str", std::string_view("a\0b\xff\n", 5));
    w.set("u64", std::uint64_t{0xfedcba9876543210ull});
    w.set("i64", std::int64_t{std::numeric_limits<std::int64_t>::min()});
    w.set("f64", -2.5e300);
    w.set_array("arr_u8", std::vector<std::uint8_t>{1, 2, 255});
    w.set_array("arr_i8", std::vector<std::int8_t>{-128, 0, 127});
    w.set_array("arr_u16", std::vector<std::uint16_t>{0, 65535});
    w.set_array("arr_i16", std::vector<std::int16_t>{-32768, 32767});
    w.set_array("arr_u32", std::vector<std::uint32_t>{7, 8, 9});
    w.set_array("arr_i32", std::vector<std::int32_t>{-7, 8, -9});
    w.set_array("arr_f32", std::vector<float>{1.5f, -0.0f, std::numeric_limits<float>::infinity()});
    w.set_array("arr_bool", std::vector<bool>{true, false, true});
    w.set_array("arr_str", std::vector<std::string>{"a", "", "ccc"});
    w.set_array("arr_u64", std::vector<std::uint64_t>{std::numeric_limits<std::uint64_t>::max()});
    w.set_array("arr_i64", std::vector<std::int64_t>{-1, 1});
    w.set_array("arr_f64", std::vector<double>{3.25, -1e-300});
    w.set_array("arr_empty_f32", std::vector<float>{});
    w.set_array("arr_empty_str", std::vector<std::string>{});
    // arrays of arrays: [[1, 2], [], [[...]]] and a list of string lists
    const auto inner1 = gguf_owned_value::array_of(std::vector<std::int32_t>{1, 2});
    const auto inner2 = gguf_owned_value::array_of(std::vector<std::int32_t>{});
    const auto deeper = gguf_owned_value::array_of(std::vector<gguf_owned_value>{
        gguf_owned_value::array_of(std::vector<std::string>{"x", "yz"})});
    w.set_array("arr_arr", std::vector<gguf_owned_value>{inner1, inner2, deeper});
    w.set_array("arr_arr_empty", std::vector<gguf_owned_value>{});
    if (alignment != 32) w.set_alignment(alignment);

    const std::vector<float> f32s{1, 2, 3, 4, 5, 6};
    w.add_tensor<float>("t.f32", qtype::f32, {3, 2}, f32s);
    const std::vector<std::uint16_t> f16s(32 * 3, 0x3c00);
    w.add_tensor<std::uint16_t>("t.f16", qtype::f16, {32, 1, 3}, f16s);
    std::vector<std::uint8_t> q8(34 * 2);
    for (std::size_t k = 0; k < q8.size(); ++k) q8[k] = std::uint8_t(k * 7);
    w.add_tensor<std::uint8_t>("t.q8_0", qtype::q8_0, {64, 1, 1, 1}, q8);
    return w;
}
}  // namespace

TEST_CASE("gguf: every real file parses and round-trips byte for byte through the writer") {
    const auto files = real_gguf_files();
    REQUIRE(files.size() >= 13);
    for (const auto& path : files) {
        CAPTURE(path.string());
        auto g = gguf_file::open(path);
        CHECK(g.version() == 3);
        CHECK(!g.metadata().empty());
        CHECK(same_bytes(rewrite(g), g.bytes()));
    }
}

TEST_CASE("gguf: mmap and read() loading give the same file") {
    const auto path = models_dir + "/stories260K/stories260K-Q4_K_M.gguf";
    auto mapped = gguf_file::open(path, llmt::io::load_mode::mmap_only);
    auto read = gguf_file::open(path, llmt::io::load_mode::read_only);
    auto either = gguf_file::open(path);
    CHECK(mapped.is_mapped());
    CHECK_FALSE(read.is_mapped());
    CHECK(either.is_mapped());
    CHECK(mapped.bytes().size() == std::filesystem::file_size(path));
    CHECK(same_bytes(mapped.bytes(), read.bytes()));
    REQUIRE(mapped.tensors().size() == read.tensors().size());
    for (std::size_t k = 0; k < mapped.tensors().size(); ++k) {
        const auto& a = mapped.tensors()[k];
        const auto& b = read.tensors()[k];
        CHECK(a.name == b.name);
        CHECK(a.type == b.type);
        CHECK(a.offset == b.offset);
        CHECK(same_bytes(mapped.tensor_data(a), read.tensor_data(b)));
    }
    // the Q4_K_M file mixes formats
    CHECK(mapped.require_tensor("blk.0.attn_q.weight").type != mapped.require_tensor("output_norm.weight").type);
    // moving keeps every view valid
    gguf_file moved = std::move(read);
    CHECK(moved.get_string("general.architecture") == std::string_view("llama"));
    CHECK(same_bytes(moved.tensor_data(moved.tensors()[0]), mapped.tensor_data(mapped.tensors()[0])));
}

TEST_CASE("gguf: typed accessors on stories260K") {
    auto g = gguf_file::open(models_dir + "/stories260K/stories260K.gguf");
    CHECK(g.get_string("general.architecture") == std::string_view("llama"));
    CHECK(g.require<std::uint32_t>("llama.embedding_length") == 64);
    CHECK(g.require<std::int64_t>("llama.block_count") == 5);
    CHECK_THROWS_AS((void)g.require<std::uint32_t>("no.such.key"), llmt::error);
    const auto* toks = g.get_array("tokenizer.ggml.tokens");
    REQUIRE(toks != nullptr);
    CHECK(toks->view<std::string_view>().size() == 512);
    const auto scores = g.get_array("tokenizer.ggml.scores")->view<float>();
    CHECK(scores.size() == 512);
    const auto& emb = g.require_tensor("token_embd.weight");
    CHECK(emb.ne[0] == 64);
    CHECK(emb.ne[1] == 512);
    CHECK(emb.n_elements == 64 * 512);
    CHECK(emb.n_bytes == 64 * 512 * 4);
    CHECK(emb.type == qtype::f32);
    CHECK(g.tensor_data(emb).data() == g.bytes().data() + g.data_offset() + emb.offset);
    // a string view points into the file, not into a copy
    const auto arch = *g.get_string("general.architecture");
    CHECK(arch.data() >= reinterpret_cast<const char*>(g.bytes().data()));
    CHECK(arch.data() < reinterpret_cast<const char*>(g.bytes().data() + g.bytes().size()));
}

TEST_CASE("gguf: writer output reads back equal, for every value type and versions 1 to 3") {
    for (std::uint32_t version : {1u, 2u, 3u}) {
        for (std::uint32_t alignment : {32u, 1u, 64u, 4096u}) {
            CAPTURE(version);
            CAPTURE(alignment);
            const auto bytes = every_type_writer(version, alignment).to_bytes();
            auto g = gguf_file::from_bytes(bytes);
            CHECK(g.version() == version);
            CHECK(g.alignment() == alignment);
            CHECK(g.data_offset() % alignment == 0);

            CHECK(g.require<std::uint8_t>("u8") == 200);
            CHECK(g.require<std::int8_t>("i8") == -100);
            CHECK(g.require<std::uint16_t>("u16") == 60000);
            CHECK(g.require<std::int16_t>("i16") == -30000);
            CHECK(g.require<std::uint32_t>("u32") == 4000000000u);
            CHECK(g.require<std::int32_t>("i32") == -1);
            CHECK(g.require<float>("f32") == 0.125f);
            CHECK(g.require<bool>("bool_t") == true);
            CHECK(g.require<bool>("bool_f") == false);
            CHECK(g.require<std::string_view>("str") == "llama");
            CHECK(g.require<std::string_view>("empty_str").empty());
            CHECK(g.require<std::string_view>("bin_str") == std::string_view("a\0b\xff\n", 5));
            CHECK(g.require<std::uint64_t>("u64") == 0xfedcba9876543210ull);
            CHECK(g.require<std::int64_t>("i64") == std::numeric_limits<std::int64_t>::min());
            CHECK(g.require<double>("f64") == -2.5e300);
            const std::pair<const char*, gguf_type> stored_as[] = {
                {"u8", gguf_type::uint8},     {"i8", gguf_type::int8},       {"u16", gguf_type::uint16},
                {"i16", gguf_type::int16},    {"u32", gguf_type::uint32},    {"i32", gguf_type::int32},
                {"f32", gguf_type::float32},  {"bool_t", gguf_type::boolean}, {"str", gguf_type::string},
                {"arr_u8", gguf_type::array}, {"u64", gguf_type::uint64},    {"i64", gguf_type::int64},
                {"f64", gguf_type::float64}};
            for (const auto& [k, type] : stored_as) CHECK(g.find(k)->type == type);

            auto u8s = g.get_array("arr_u8")->view<std::uint8_t>();
            CHECK(std::vector<std::uint8_t>(u8s.begin(), u8s.end()) == std::vector<std::uint8_t>{1, 2, 255});
            auto i8s = g.get_array("arr_i8")->view<std::int8_t>();
            CHECK(std::vector<std::int8_t>(i8s.begin(), i8s.end()) == std::vector<std::int8_t>{-128, 0, 127});
            auto u16s = g.get_array("arr_u16")->view<std::uint16_t>();
            CHECK(std::vector<std::uint16_t>(u16s.begin(), u16s.end()) == std::vector<std::uint16_t>{0, 65535});
            auto i16s = g.get_array("arr_i16")->view<std::int16_t>();
            CHECK(std::vector<std::int16_t>(i16s.begin(), i16s.end()) == std::vector<std::int16_t>{-32768, 32767});
            CHECK(g.get_array("arr_u32")->to_vector<std::uint32_t>() == std::vector<std::uint32_t>{7, 8, 9});
            CHECK(g.get_array("arr_i32")->to_vector<std::int32_t>() == std::vector<std::int32_t>{-7, 8, -9});
            auto f32s = g.get_array("arr_f32")->view<float>();
            REQUIRE(f32s.size() == 3);
            CHECK(f32s[0] == 1.5f);
            CHECK(std::signbit(f32s[1]));
            CHECK(std::isinf(f32s[2]));
            CHECK(g.get_array("arr_bool")->type == gguf_type::boolean);
            CHECK(g.get_array("arr_bool")->to_vector<bool>() == std::vector<bool>{true, false, true});
            auto bools = g.get_array("arr_bool")->view<std::uint8_t>();
            CHECK(std::vector<std::uint8_t>(bools.begin(), bools.end()) == std::vector<std::uint8_t>{1, 0, 1});
            auto strs = g.get_array("arr_str")->view<std::string_view>();
            CHECK(std::vector<std::string_view>(strs.begin(), strs.end()) == std::vector<std::string_view>{"a", "", "ccc"});
            CHECK(g.get_array("arr_u64")->view<std::uint64_t>()[0] == std::numeric_limits<std::uint64_t>::max());
            CHECK(g.get_array("arr_i64")->to_vector<std::int64_t>() == std::vector<std::int64_t>{-1, 1});
            CHECK(g.get_array("arr_f64")->to_vector<double>() == std::vector<double>{3.25, -1e-300});
            CHECK(g.get_array("arr_empty_f32")->count == 0);
            CHECK(g.get_array("arr_empty_f32")->view<float>().empty());
            CHECK(g.get_array("arr_empty_str")->type == gguf_type::string);
            CHECK(g.get_array("arr_empty_str")->view<std::string_view>().empty());

            const auto* aa = g.get_array("arr_arr");
            REQUIRE(aa->type == gguf_type::array);
            const auto outer = aa->view<llmt::io::gguf_value>();
            REQUIRE(outer.size() == 3);
            CHECK(outer[0].array->to_vector<std::int32_t>() == std::vector<std::int32_t>{1, 2});
            CHECK(outer[1].array->count == 0);
            CHECK(outer[1].array->type == gguf_type::int32);
            REQUIRE(outer[2].array->type == gguf_type::array);
            const auto& deepest = *outer[2].array->arrays.at(0).array;
            CHECK(deepest.to_vector<std::string_view>() == std::vector<std::string_view>{"x", "yz"});
            CHECK(g.get_array("arr_arr_empty")->count == 0);
            CHECK(g.get_array("arr_arr_empty")->type == gguf_type::array);

            REQUIRE(g.tensors().size() == 3);
            const auto& tf = g.require_tensor("t.f32");
            CHECK(tf.n_dims == 2);
            CHECK(tf.ne == std::array<std::uint64_t, 4>{3, 2, 1, 1});
            CHECK(tf.n_bytes == 24);
            const auto fdata = g.tensor_data(tf);
            float f[6];
            std::memcpy(f, fdata.data(), 24);
            CHECK(f[0] == 1);
            CHECK(f[5] == 6);
            const auto& th = g.require_tensor("t.f16");
            CHECK(th.n_dims == 3);
            CHECK(th.n_rows() == 3);
            CHECK(th.row_bytes() == 64);
            const auto& tq = g.require_tensor("t.q8_0");
            CHECK(tq.n_dims == 4);
            CHECK(tq.type == qtype::q8_0);
            CHECK(tq.n_bytes == 68);
            CHECK(std::to_integer<int>(g.tensor_data(tq)[1]) == 7);
            for (const auto& t : g.tensors()) CHECK((g.data_offset() + t.offset) % alignment == 0);

            // writer(reader(writer(x))) == writer(x), byte for byte
            CHECK(same_bytes(rewrite(g), bytes));
        }
    }
}

TEST_CASE("gguf: version 1 stores counts and lengths in 32 bits") {
    gguf_writer w1(1), w3(3);
    for (auto* w : {&w1, &w3}) {
        w->set("k", std::string_view("abc"));
        w->set_array("a", std::vector<std::uint8_t>{1});
    }
    const auto b1 = w1.to_bytes();
    const auto b3 = w3.to_bytes();
    // header: 4 + 4 + two counts; key: length + 1 byte; type; value: length + 3; array: type + count + 1
    CHECK(b1.size() == 4 + 4 + 4 + 4 + (4 + 1 + 4 + 4 + 3) + (4 + 1 + 4 + 4 + 4 + 1));
    CHECK(b3.size() == 4 + 4 + 8 + 8 + (8 + 1 + 4 + 8 + 3) + (8 + 1 + 4 + 4 + 8 + 1));
    CHECK(gguf_file::from_bytes(b1).require<std::string_view>("k") == "abc");
    CHECK(gguf_file::from_bytes(b3).require<std::string_view>("k") == "abc");
    // the same bytes read with the other version's widths are not the same file
    auto patched = b1;
    patched[4] = std::byte{3};
    CHECK_THROWS_AS((void)gguf_file::from_bytes(patched), llmt::error);
}

TEST_CASE("gguf: a NaN payload and every float bit pattern survive the round trip") {
    std::uint32_t snan32 = 0x7f800001u;  // signalling NaN: converting through double would set the quiet bit
    std::uint64_t snan64 = 0x7ff0000000000001ull;
    float f;
    double d;
    std::memcpy(&f, &snan32, 4);
    std::memcpy(&d, &snan64, 8);
    gguf_writer w;
    w.set("f", f);
    w.set("d", d);
    const auto bytes = w.to_bytes();
    auto g = gguf_file::from_bytes(bytes);
    CHECK(std::isnan(g.require<float>("f")));
    CHECK(std::isnan(g.require<double>("d")));
    CHECK(same_bytes(rewrite(g), bytes));
}

TEST_CASE("gguf: integers widen safely and never narrow past their range") {
    gguf_writer w;
    w.set("u8", std::uint8_t{255});
    w.set("i32_neg", std::int32_t{-1});
    w.set("i32_pos", std::int32_t{70000});
    w.set("u64_huge", std::uint64_t{1} << 40);
    w.set("u64_small", std::uint64_t{17});
    w.set("i64_min", std::numeric_limits<std::int64_t>::min());
    w.set("f32", 2.5f);
    w.set("b", true);
    w.set("s", std::string_view("text"));
    const auto bytes = w.to_bytes();
    auto g = gguf_file::from_bytes(bytes);

    CHECK(g.require<std::int64_t>("u8") == 255);
    CHECK(g.require<std::uint16_t>("u8") == 255);
    CHECK(g.require<std::int16_t>("u8") == 255);
    CHECK_THROWS_AS((void)g.require<std::int8_t>("u8"), llmt::error);   // 255 > 127
    CHECK_THROWS_AS((void)g.require<std::uint32_t>("i32_neg"), llmt::error);
    CHECK_THROWS_AS((void)g.require<std::uint64_t>("i32_neg"), llmt::error);
    CHECK(g.require<std::int64_t>("i32_neg") == -1);
    CHECK(g.require<std::int8_t>("i32_neg") == -1);
    CHECK(g.require<std::uint32_t>("i32_pos") == 70000);
    CHECK_THROWS_AS((void)g.require<std::int16_t>("i32_pos"), llmt::error);
    CHECK_THROWS_AS((void)g.require<std::uint32_t>("u64_huge"), llmt::error);
    CHECK(g.require<std::int64_t>("u64_huge") == (std::int64_t{1} << 40));
    CHECK(g.require<std::uint32_t>("u64_small") == 17);
    CHECK_THROWS_AS((void)g.require<std::uint64_t>("i64_min"), llmt::error);
    CHECK_THROWS_AS((void)g.require<std::int32_t>("i64_min"), llmt::error);
    // floats and integers do not pretend to be each other, bools and strings neither
    CHECK_THROWS_AS((void)g.require<std::int32_t>("f32"), llmt::error);
    CHECK(g.require<double>("f32") == 2.5);
    CHECK(g.require<float>("u8") == 255.0f);
    CHECK_THROWS_AS((void)g.require<std::uint8_t>("b"), llmt::error);
    CHECK_THROWS_AS((void)g.require<bool>("u8"), llmt::error);
    CHECK_THROWS_AS((void)g.require<std::int32_t>("s"), llmt::error);
    CHECK_THROWS_AS((void)g.require<std::string_view>("u8"), llmt::error);
    CHECK(g.get_or<std::int32_t>("missing", 42) == 42);
    CHECK(!g.get<std::int32_t>("missing").has_value());
    // the messages name the key and the stored value
    try {
        (void)g.require<std::uint32_t>("i32_neg");
        FAIL("a negative value was narrowed to unsigned");
    } catch (const llmt::error& e) {
        CHECK(std::string(e.what()).find("'i32_neg'") != std::string::npos);
        CHECK(std::string(e.what()).find("int32 -1") != std::string::npos);
    }
    try {
        (void)g.require<std::uint32_t>("absent.key");
        FAIL("a missing key was found");
    } catch (const llmt::error& e) {
        CHECK(e.code() == llmt::errc::not_found);
        CHECK(std::string(e.what()).find("absent.key") != std::string::npos);
    }
    // typed array views refuse the wrong element type; to_vector converts element by element
    gguf_writer wa;
    wa.set_array("a", std::vector<std::int32_t>{1, -2});
    wa.set_array("b", std::vector<std::uint8_t>{3, 4});
    auto ga = gguf_file::from_bytes(wa.to_bytes());
    CHECK_THROWS_AS((void)ga.get_array("a")->view<std::uint32_t>(), llmt::error);
    CHECK_THROWS_AS((void)ga.get_array("a")->view<std::string_view>(), llmt::error);
    CHECK_THROWS_AS((void)ga.get_array("a")->to_vector<std::uint32_t>(), llmt::error);
    CHECK(ga.get_array("a")->to_vector<std::int64_t>() == std::vector<std::int64_t>{1, -2});
    CHECK(ga.get_array("b")->to_vector<std::int64_t>() == std::vector<std::int64_t>{3, 4});
    CHECK_THROWS_AS((void)ga.get_array("b")->view<std::int8_t>(), llmt::error);
    CHECK(ga.get_array("missing") == nullptr);
    CHECK_THROWS_AS((void)g.get_array("u8"), llmt::error);
}

TEST_CASE("gguf: lookups by key and tensor name over many entries") {
    gguf_writer w;
    const std::vector<float> one{1.0f};
    for (int k = 999; k >= 0; --k) {
        w.set(fmt::format("key.{}", k), std::int32_t(k));
        w.add_tensor<float>(fmt::format("t.{}", k), qtype::f32, {1}, one);
    }
    auto g = gguf_file::from_bytes(w.to_bytes());
    for (int k = 0; k < 1000; ++k) {
        CHECK(g.require<std::int32_t>(fmt::format("key.{}", k)) == k);
        CHECK(g.require_tensor(fmt::format("t.{}", k)).name == fmt::format("t.{}", k));
    }
    CHECK(g.metadata().front().key == "key.999");  // file order is kept
    CHECK(g.find("key.") == nullptr);
    CHECK(g.find("key.1000") == nullptr);
    CHECK(g.find("") == nullptr);
    CHECK(g.find_tensor("t.10000") == nullptr);
    CHECK_THROWS_AS((void)g.require_tensor("missing"), llmt::error);
}

TEST_CASE("gguf: the writer refuses what it cannot store") {
    gguf_writer w;
    const std::vector<float> four(4);
    CHECK_THROWS_AS(w.add_tensor<float>("t", qtype::f32, {5}, four), llmt::error);        // wrong byte count
    CHECK_THROWS_AS(w.add_tensor<float>("t", qtype::q4_0, {4}, four), llmt::error);       // row not a block multiple
    CHECK_THROWS_AS(w.add_tensor<float>("t", qtype::f32, {4, 0}, four), llmt::error);     // zero dimension
    CHECK_THROWS_AS(w.add_tensor<float>("t", qtype::f32, {1, 1, 1, 1, 4}, four), llmt::error);
    CHECK_THROWS_AS(w.add_tensor<float>("t", qtype::q4_2, {4}, four), llmt::error);       // unsized type
    CHECK_THROWS_AS(w.add_tensor<float>("t", qtype::f32, {std::uint64_t{1} << 62, 8}, four), llmt::error);
    w.add_tensor<float>("t", qtype::f32, {4}, four);
    CHECK_THROWS_AS(w.add_tensor<float>("t", qtype::f32, {4}, four), llmt::error);        // duplicate name
    CHECK_THROWS_AS(w.set_alignment(3), llmt::error);
    CHECK_THROWS_AS(w.set_alignment(0), llmt::error);
    CHECK_THROWS_AS(w.set("general.alignment", std::uint64_t{32}), llmt::error);
    CHECK_THROWS_AS(gguf_writer(0), llmt::error);
    CHECK_THROWS_AS(gguf_writer(4), llmt::error);
    // set() replaces an existing key instead of duplicating it
    w.set("k", std::int32_t{1});
    w.set("k", std::int32_t{2});
    auto g = gguf_file::from_bytes(w.to_bytes());
    CHECK(g.metadata().size() == 1);
    CHECK(g.require<std::int32_t>("k") == 2);
}

TEST_CASE("gguf: write() to disk and open() give back the same file, mmap and read()") {
    const auto dir = std::filesystem::temp_directory_path() / "llmt-test-gguf";
    std::filesystem::create_directories(dir);
    const auto path = dir / "every_type.gguf";
    const auto w = every_type_writer(3, 64);
    w.write(path);
    const auto expected = w.to_bytes();
    for (auto mode : {llmt::io::load_mode::mmap_only, llmt::io::load_mode::read_only}) {
        auto g = gguf_file::open(path, mode);
        CHECK(g.is_mapped() == (mode == llmt::io::load_mode::mmap_only));
        CHECK(same_bytes(g.bytes(), expected));
        CHECK(g.alignment() == 64);
        CHECK(g.require<std::string_view>("str") == "llama");
    }
    std::filesystem::remove_all(dir);
    CHECK_THROWS_AS(w.write(dir / "no-such-dir" / "x.gguf"), llmt::error);
}

// ---- the qtype table ----

namespace {
// The block layouts of ggml-common.h, written down independently; sizeof must match the table.
using half = std::uint16_t;
constexpr int qk_k = 256;
struct blk_q4_0 { half d; std::uint8_t qs[16]; };
struct blk_q4_1 { half d, m; std::uint8_t qs[16]; };
struct blk_q5_0 { half d; std::uint8_t qh[4]; std::uint8_t qs[16]; };
struct blk_q5_1 { half d, m; std::uint8_t qh[4]; std::uint8_t qs[16]; };
struct blk_q8_0 { half d; std::int8_t qs[32]; };
struct blk_q8_1 { half d, s; std::int8_t qs[32]; };
struct blk_q2_k { std::uint8_t scales[qk_k / 16]; std::uint8_t qs[qk_k / 4]; half d, dmin; };
struct blk_q3_k { std::uint8_t hmask[qk_k / 8]; std::uint8_t qs[qk_k / 4]; std::uint8_t scales[12]; half d; };
struct blk_q4_k { half d, dmin; std::uint8_t scales[12]; std::uint8_t qs[qk_k / 2]; };
struct blk_q5_k { half d, dmin; std::uint8_t scales[12]; std::uint8_t qh[qk_k / 8]; std::uint8_t qs[qk_k / 2]; };
struct blk_q6_k { std::uint8_t ql[qk_k / 2]; std::uint8_t qh[qk_k / 4]; std::int8_t scales[qk_k / 16]; half d; };
struct blk_q8_k { float d; std::int8_t qs[qk_k]; std::int16_t bsums[qk_k / 16]; };
struct blk_iq2_xxs { half d; std::uint16_t qs[qk_k / 8]; };
struct blk_iq2_xs { half d; std::uint16_t qs[qk_k / 8]; std::uint8_t scales[qk_k / 32]; };
struct blk_iq3_xxs { half d; std::uint8_t qs[3 * qk_k / 8]; };
struct blk_iq1_s { half d; std::uint8_t qs[qk_k / 8]; std::uint16_t qh[qk_k / 32]; };
struct blk_iq4_nl { half d; std::uint8_t qs[16]; };
struct blk_iq3_s { half d; std::uint8_t qs[qk_k / 4]; std::uint8_t qh[qk_k / 32]; std::uint8_t signs[qk_k / 8]; std::uint8_t scales[qk_k / 64]; };
struct blk_iq2_s { half d; std::uint8_t qs[qk_k / 4]; std::uint8_t qh[qk_k / 32]; std::uint8_t scales[qk_k / 32]; };
struct blk_iq4_xs { half d; std::uint16_t scales_h; std::uint8_t scales_l[qk_k / 64]; std::uint8_t qs[qk_k / 2]; };
struct blk_iq1_m { std::uint8_t qs[qk_k / 8]; std::uint8_t qh[qk_k / 16]; std::uint8_t scales[qk_k / 32]; };
struct blk_tq1_0 { std::uint8_t qs[(qk_k - 4 * qk_k / 64) / 5]; std::uint8_t qh[qk_k / 64]; half d; };
struct blk_tq2_0 { std::uint8_t qs[qk_k / 4]; half d; };
struct blk_mxfp4 { std::uint8_t e; std::uint8_t qs[16]; };
struct blk_nvfp4 { std::uint8_t d[4]; std::uint8_t qs[32]; };
struct blk_q1_0 { half d; std::uint8_t qs[128 / 8]; };

template <typename Block>
constexpr bool sized_as(qtype t, std::uint32_t elements) {
    return llmt::quant::type_size(t) == sizeof(Block) && llmt::quant::block_size(t) == elements;
}
static_assert(sized_as<blk_q4_0>(qtype::q4_0, 32));
static_assert(sized_as<blk_q4_1>(qtype::q4_1, 32));
static_assert(sized_as<blk_q5_0>(qtype::q5_0, 32));
static_assert(sized_as<blk_q5_1>(qtype::q5_1, 32));
static_assert(sized_as<blk_q8_0>(qtype::q8_0, 32));
static_assert(sized_as<blk_q8_1>(qtype::q8_1, 32));
static_assert(sized_as<blk_q2_k>(qtype::q2_k, qk_k));
static_assert(sized_as<blk_q3_k>(qtype::q3_k, qk_k));
static_assert(sized_as<blk_q4_k>(qtype::q4_k, qk_k));
static_assert(sized_as<blk_q5_k>(qtype::q5_k, qk_k));
static_assert(sized_as<blk_q6_k>(qtype::q6_k, qk_k));
static_assert(sized_as<blk_q8_k>(qtype::q8_k, qk_k));
static_assert(sized_as<blk_iq2_xxs>(qtype::iq2_xxs, qk_k));
static_assert(sized_as<blk_iq2_xs>(qtype::iq2_xs, qk_k));
static_assert(sized_as<blk_iq3_xxs>(qtype::iq3_xxs, qk_k));
static_assert(sized_as<blk_iq1_s>(qtype::iq1_s, qk_k));
static_assert(sized_as<blk_iq4_nl>(qtype::iq4_nl, 32));
static_assert(sized_as<blk_iq3_s>(qtype::iq3_s, qk_k));
static_assert(sized_as<blk_iq2_s>(qtype::iq2_s, qk_k));
static_assert(sized_as<blk_iq4_xs>(qtype::iq4_xs, qk_k));
static_assert(sized_as<blk_iq1_m>(qtype::iq1_m, qk_k));
static_assert(sized_as<blk_tq1_0>(qtype::tq1_0, qk_k));
static_assert(sized_as<blk_tq2_0>(qtype::tq2_0, qk_k));
static_assert(sized_as<blk_mxfp4>(qtype::mxfp4, 32));
static_assert(sized_as<blk_nvfp4>(qtype::nvfp4, 64));
static_assert(sized_as<blk_q1_0>(qtype::q1_0, 128));
static_assert(sized_as<float>(qtype::f32, 1) && sized_as<half>(qtype::f16, 1) && sized_as<half>(qtype::bf16, 1));
static_assert(sized_as<std::int8_t>(qtype::i8, 1) && sized_as<std::int16_t>(qtype::i16, 1));
static_assert(sized_as<std::int32_t>(qtype::i32, 1) && sized_as<std::int64_t>(qtype::i64, 1) && sized_as<double>(qtype::f64, 1));
// the removed interleaved formats were q4_0 / iq4_nl blocks
static_assert(sized_as<blk_q4_0>(qtype::q4_0_4_4, 32) && sized_as<blk_q4_0>(qtype::q4_0_8_8, 32));
static_assert(sized_as<blk_iq4_nl>(qtype::iq4_nl_4_4, 32) && sized_as<blk_iq4_nl>(qtype::iq4_nl_8_8, 32));
}  // namespace

TEST_CASE("qtype: the table covers every ggml id with a unique name and consistent sizes") {
    using namespace llmt::quant;
    CHECK(qtype_count == 42);
    CHECK(std::uint32_t(qtype::mxfp4) == 39);
    CHECK(std::uint32_t(qtype::q1_0) == qtype_count - 1);
    int sized = 0, removed = 0;
    for (std::uint32_t id = 0; id < qtype_count; ++id) {
        CAPTURE(id);
        const auto& t = qtype_table[id];
        CHECK(!t.name.empty());
        CHECK(from_name(t.name) == qtype(id));
        for (std::uint32_t other = 0; other < id; ++other) CHECK(qtype_table[other].name != t.name);
        CHECK(is_known(id));
        CHECK(is_sized(id) == (t.block_size != 0));
        CHECK((t.block_size == 0) == (t.type_size == 0));
        if (t.block_size) {
            // a block is 1 element or a multiple of 32 of them (every ggml quant), and bpw is sane
            CHECK((t.block_size == 1 || t.block_size % 32 == 0));
            CHECK(bits_per_weight(qtype(id)) > 1.0);
            CHECK(bits_per_weight(qtype(id)) <= 64.0);
            ++sized;
        }
        removed += is_removed(id);
    }
    CHECK(sized == 40);
    CHECK(removed == 8);
    CHECK_FALSE(is_known(qtype_count));
    CHECK_FALSE(is_sized(4));
    CHECK(is_removed(31));
    CHECK_FALSE(is_removed(2));
    CHECK(bits_per_weight(qtype::q4_0) == 4.5);
    CHECK(bits_per_weight(qtype::q4_k) == 4.5);
    CHECK(bits_per_weight(qtype::q6_k) == 6.5625);
    CHECK(bits_per_weight(qtype::q8_0) == 8.5);
    CHECK(bits_per_weight(qtype::q1_0) == 1.125);
    CHECK(row_size(qtype::q4_k, 512) == 288);
    CHECK(from_name("Q4_K") == qtype::q4_k);
    CHECK(from_name("F16") == qtype::f16);
    CHECK(from_name("BF16") == qtype::bf16);
    CHECK(!from_name("q4_k_m").has_value());
    CHECK(name(qtype::q6_k) == "q6_K");
}

TEST_CASE("gguf: a tensor of every sized type, removed ones included, can be written and listed") {
    using namespace llmt::quant;
    gguf_writer w;
    for (std::uint32_t id = 0; id < qtype_count; ++id) {
        if (!is_sized(id)) continue;
        const auto t = qtype(id);
        const std::uint64_t ne0 = block_size(t) * 2;
        std::vector<std::uint8_t> data(row_size(t, ne0) * 3, std::uint8_t(id));
        w.add_tensor<std::uint8_t>(fmt::format("t{}", id), t, {ne0, 3}, data);
    }
    const auto bytes = w.to_bytes();
    auto g = gguf_file::from_bytes(bytes);
    CHECK(g.tensors().size() == 40);
    for (const auto& t : g.tensors()) {
        CAPTURE(t.name);
        CHECK(t.name == fmt::format("t{}", std::uint32_t(t.type)));
        CHECK(t.n_bytes == 6 * type_size(t.type));
        CHECK(t.n_elements == 6ull * block_size(t.type));
        CHECK(std::to_integer<std::uint32_t>(g.tensor_data(t)[0]) == std::uint32_t(t.type));
    }
    CHECK(same_bytes(rewrite(g), bytes));
}
