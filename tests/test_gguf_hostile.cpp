// test_gguf_hostile: malformed GGUF files are refused with llmt::error naming the problem and the byte offset
#include <llmt/llmt.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace {
using llmt::io::gguf_file;
using llmt::io::gguf_type;
using llmt::io::gguf_writer;
using llmt::quant::qtype;

/// Assembles GGUF bytes by hand, with the version's count width (32-bit in v1, 64-bit after).
struct gguf_bytes {
    std::uint32_t version = 3;
    std::vector<std::byte> b;

    explicit gguf_bytes(std::uint32_t v = 3) : version(v) {}

    [[nodiscard]] std::uint64_t pos() const { return b.size(); }
    gguf_bytes& raw(const void* p, std::size_t n) {
        const auto* c = static_cast<const std::byte*>(p);
        b.insert(b.end(), c, c + n);
        return *this;
    }
    gguf_bytes& u8(std::uint8_t v) { return raw(&v, 1); }
    gguf_bytes& u32(std::uint32_t v) { return raw(&v, 4); }
    gguf_bytes& u64(std::uint64_t v) { return raw(&v, 8); }
    gguf_bytes& count(std::uint64_t v) { return version == 1 ? u32(static_cast<std::uint32_t>(v)) : u64(v); }
    gguf_bytes& str(std::string_view s) { return count(s.size()).raw(s.data(), s.size()); }
    gguf_bytes& zeros(std::size_t n) {
        b.resize(b.size() + n);
        return *this;
    }
    gguf_bytes& pad(std::uint64_t alignment) { return zeros((alignment - pos() % alignment) % alignment); }

    gguf_bytes& header(std::uint64_t n_tensors, std::uint64_t n_kv) {
        return u32(0x46554747u).u32(version).count(n_tensors).count(n_kv);
    }
    gguf_bytes& kv_u32(std::string_view key, std::uint32_t v) { return str(key).u32(std::uint32_t(gguf_type::uint32)).u32(v); }
    gguf_bytes& kv_str(std::string_view key, std::string_view v) {
        return str(key).u32(std::uint32_t(gguf_type::string)).str(v);
    }
    /// A tensor info record: name, dims, type id, offset into the data section.
    gguf_bytes& tensor(std::string_view name, std::initializer_list<std::uint64_t> ne, std::uint32_t type,
                       std::uint64_t offset) {
        str(name).u32(static_cast<std::uint32_t>(ne.size()));
        for (auto d : ne) count(d);
        return u32(type).u64(offset);
    }
};

std::string at_byte(std::uint64_t at) { return "at byte " + std::to_string(at); }

/// Parsing must throw llmt::error with the given code and every needle in its message.
void expect_refused(const std::vector<std::byte>& bytes, std::initializer_list<std::string> needles,
                    llmt::errc code = llmt::errc::format) {
    try {
        auto g = gguf_file::from_bytes(bytes);
        FAIL("a malformed file parsed: ", needles.begin()->c_str());
    } catch (const llmt::error& e) {
        const std::string what = e.what();
        INFO("message: ", what);
        CHECK(e.code() == code);
        for (const auto& n : needles) CHECK_MESSAGE(what.find(n) != std::string::npos, "missing '", n, "'");
    }
}

/// A small valid file with metadata of several kinds and three tensors. The last tensor fills
/// its aligned slot exactly, so the file has no trailing padding and no shorter prefix is valid.
std::vector<std::byte> small_valid_file(std::uint32_t version) {
    gguf_writer w(version);
    w.set("general.architecture", std::string_view("llama"));
    w.set("n", std::uint32_t{7});
    w.set("x", 1.5);
    w.set("flag", true);
    w.set_array("tokens", std::vector<std::string>{"<s>", "a", ""});
    w.set_array("scores", std::vector<float>{0, -1, -2});
    w.set_array("nested", std::vector<llmt::io::gguf_owned_value>{
                               llmt::io::gguf_owned_value::array_of(std::vector<std::int8_t>{1, -1})});
    w.set_alignment(16);
    const std::vector<float> a(8, 1.0f);
    const std::vector<std::uint8_t> q(34, 3);
    w.add_tensor<float>("a", qtype::f32, {4, 2}, a);
    w.add_tensor<std::uint8_t>("q", qtype::q8_0, {32}, q);
    w.add_tensor<float>("b", qtype::f32, {2, 2}, std::span(a).first(4));
    return w.to_bytes();
}
}  // namespace

TEST_CASE("gguf hostile: the hand assembler builds files the reader accepts") {
    gguf_bytes g;
    g.header(2, 2).kv_u32("general.alignment", 64).kv_str("name", "x");
    g.tensor("a", {4}, 0, 0).tensor("b", {2, 2}, 0, 64).pad(64).zeros(64 + 16);
    auto f = gguf_file::from_bytes(g.b);
    CHECK(f.alignment() == 64);
    CHECK(f.tensors().size() == 2);
    CHECK(f.require_tensor("b").n_bytes == 16);
    CHECK(f.require<std::string_view>("name") == "x");
}

TEST_CASE("gguf hostile: every truncation of a valid file is refused (versions 1 to 3)") {
    for (std::uint32_t version : {1u, 2u, 3u}) {
        CAPTURE(version);
        const auto full = small_valid_file(version);
        REQUIRE_NOTHROW((void)gguf_file::from_bytes(full));
        int refused = 0;
        for (std::size_t n = 0; n < full.size(); ++n) {
            CAPTURE(n);
            const std::vector<std::byte> prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
            try {
                auto g = gguf_file::from_bytes(prefix);
                FAIL("a truncated file parsed");
            } catch (const llmt::error& e) {
                CHECK(e.code() == llmt::errc::format);
                CHECK_MESSAGE(std::string(e.what()).find("byte") != std::string::npos, std::string(e.what()));
                ++refused;
            }
        }
        CHECK(refused == static_cast<int>(full.size()));
    }
    // the truncation message says so and where
    gguf_bytes g;
    g.header(0, 1).str("key").u32(std::uint32_t(gguf_type::uint64)).u32(0);
    expect_refused(g.b, {"truncated", "a metadata value", at_byte(g.pos() - 4)});
}

TEST_CASE("gguf: the padding after the last tensor is optional") {
    // Writers pad after every tensor, but the last tensor's data is all a reader needs (llama.cpp's
    // mmap loader checks the same extent), so a file cut right after it is still accepted.
    gguf_writer w;
    const std::vector<float> x(3, 2.0f);
    w.add_tensor<float>("x", qtype::f32, {3}, x);
    auto bytes = w.to_bytes();
    const auto full = gguf_file::from_bytes(bytes);
    const auto end = full.data_offset() + 12;
    REQUIRE(bytes.size() == full.data_offset() + 32);
    bytes.resize(end);
    CHECK(gguf_file::from_bytes(bytes).require_tensor("x").n_bytes == 12);
    bytes.resize(end - 1);
    expect_refused(bytes, {"tensor 'x'", "outside the data section"});
}

TEST_CASE("gguf hostile: wrong magic") {
    auto bytes = small_valid_file(3);
    std::memcpy(bytes.data(), "GGML", 4);
    expect_refused(bytes, {"wrong magic", at_byte(0)});
    expect_refused({}, {"truncated", "the magic", at_byte(0)});
}

TEST_CASE("gguf hostile: unsupported version") {
    for (std::uint32_t v : {0u, 4u, 0xffffffffu}) {
        gguf_bytes g(v);
        g.u32(0x46554747u).u32(v).u64(0).u64(0);
        expect_refused(g.b, {"unsupported version " + std::to_string(v), at_byte(4)}, llmt::errc::unsupported);
    }
    gguf_bytes be;
    be.u32(0x46554747u).u32(0x03000000u).u64(0).u64(0);
    expect_refused(be.b, {"unsupported version", "big-endian", at_byte(4)}, llmt::errc::unsupported);
}

TEST_CASE("gguf hostile: unknown metadata value type and array element type") {
    gguf_bytes g;
    g.header(0, 1).str("key");
    const auto at = g.pos();
    g.u32(13).u32(0);
    expect_refused(g.b, {"unknown metadata value type 13", "'key'", at_byte(at)});

    gguf_bytes a;
    a.header(0, 1).str("arr").u32(std::uint32_t(gguf_type::array));
    const auto elem_at = a.pos();
    a.u32(0x80000000u).count(0);
    expect_refused(a.b, {"unknown array element type 2147483648", "'arr'", at_byte(elem_at)});
}

TEST_CASE("gguf hostile: unknown or unsized tensor type") {
    for (std::uint32_t type : {42u, 1000u}) {
        gguf_bytes g;
        g.header(1, 0);
        const auto info = g.pos();
        g.tensor("w", {32}, type, 0).pad(32).zeros(256);
        expect_refused(g.b, {"tensor 'w' has unknown type id " + std::to_string(type), at_byte(info + 8 + 1 + 4 + 8)});
    }
    // q4_2 was removed before GGUF existed and has no known size
    gguf_bytes g;
    g.header(1, 0);
    const auto info = g.pos();
    g.tensor("old", {32}, 4, 0).pad(32).zeros(256);
    expect_refused(g.b, {"tensor 'old'", "q4_2", at_byte(info + 8 + 3 + 4 + 8)}, llmt::errc::unsupported);
}

TEST_CASE("gguf hostile: huge counts and lengths fail before allocating") {
    // a 100-byte file claiming 2^60 array elements
    gguf_bytes a;
    a.header(0, 1).str("arr").u32(std::uint32_t(gguf_type::array)).u32(std::uint32_t(gguf_type::uint64));
    const auto count_at = a.pos();
    a.u64(std::uint64_t{1} << 60);
    a.zeros(100 - a.pos());
    REQUIRE(a.b.size() == 100);
    expect_refused(a.b, {"array length 1152921504606846976", "'arr'", "cannot fit", at_byte(count_at)});
    // the same for arrays of strings and arrays of arrays
    for (auto elem : {gguf_type::string, gguf_type::array}) {
        gguf_bytes s;
        s.header(0, 1).str("arr").u32(std::uint32_t(gguf_type::array)).u32(std::uint32_t(elem));
        const auto at = s.pos();
        s.u64(~std::uint64_t{0}).zeros(64);
        expect_refused(s.b, {"array length", at_byte(at)});
    }
    // metadata and tensor counts
    gguf_bytes kv;
    kv.header(0, std::uint64_t{1} << 62).zeros(64);
    expect_refused(kv.b, {"metadata count 4611686018427387904", at_byte(16)});
    gguf_bytes kv1(1);
    kv1.header(0, 0xffffffffu).zeros(64);
    expect_refused(kv1.b, {"metadata count 4294967295", at_byte(12)});
    gguf_bytes t;
    t.header(~std::uint64_t{0}, 0).zeros(64);
    expect_refused(t.b, {"tensor count 18446744073709551615", at_byte(8)});
    // a string length past the end of the file, for keys, values and tensor names
    gguf_bytes k;
    k.header(0, 1).u64(~std::uint64_t{0}).zeros(16);
    expect_refused(k.b, {"metadata key", "claims length 18446744073709551615", at_byte(24)});
    gguf_bytes v;
    v.header(0, 1).str("k").u32(std::uint32_t(gguf_type::string));
    const auto vat = v.pos();
    v.u64(1000).zeros(16);
    expect_refused(v.b, {"string value", "claims length 1000", at_byte(vat)});
    gguf_bytes n;
    n.header(1, 0).u64(std::uint64_t{1} << 40).zeros(64);
    expect_refused(n.b, {"tensor name", at_byte(24)});
}

TEST_CASE("gguf hostile: bad general.alignment (not a power of two, wrong type)") {
    for (std::uint32_t a : {0u, 3u, 48u, 0xffffffffu}) {
        gguf_bytes g;
        g.header(0, 1);
        const auto at = g.pos();
        g.kv_u32("general.alignment", a);
        expect_refused(g.b, {"general.alignment " + std::to_string(a) + " is not a power of two", at_byte(at)});
    }
    gguf_bytes g;
    g.header(0, 2).kv_str("x", "y");
    const auto at = g.pos();
    g.str("general.alignment").u32(std::uint32_t(gguf_type::uint64)).u64(32);
    expect_refused(g.b, {"general.alignment must be uint32, found uint64", at_byte(at)});
    gguf_bytes s;
    s.header(0, 1).kv_str("general.alignment", "32");
    expect_refused(s.b, {"general.alignment must be uint32, found string", at_byte(24)});
}

TEST_CASE("gguf hostile: misaligned tensor offset") {
    gguf_bytes g;
    g.header(2, 0).tensor("a", {4}, 0, 0);
    const auto info = g.pos();
    g.tensor("b", {4}, 0, 20).pad(32).zeros(64);
    expect_refused(g.b, {"tensor 'b' offset 20 is not a multiple of the alignment 32", at_byte(info)});
}

TEST_CASE("gguf hostile: tensor data out of range") {
    // past the end of the file
    gguf_bytes g;
    g.header(1, 0);
    const auto info = g.pos();
    g.tensor("w", {8, 8}, 0, 0).pad(32).zeros(255);  // needs 256 bytes
    expect_refused(g.b, {"tensor 'w' data [0, +256)", "outside the data section of 255 bytes", at_byte(info)});
    // an offset so large that offset + size wraps around 2^64
    gguf_bytes w;
    w.header(1, 0).tensor("w", {4}, 0, ~std::uint64_t{0} - 31).pad(32).zeros(64);
    expect_refused(w.b, {"tensor 'w'", "outside the data section", at_byte(24)});
    // tensor infos that end past the file: the data section would start after the end
    gguf_bytes e;
    e.header(1, 0).tensor("w", {4}, 0, 0);
    const auto end = e.pos();
    expect_refused(e.b, {"ends before the tensor data section", at_byte(end)});
}

TEST_CASE("gguf hostile: overlapping tensors") {
    gguf_bytes g;
    g.header(3, 0).tensor("a", {16}, 0, 0).tensor("c", {8}, 0, 128);
    const auto info = g.pos();
    g.tensor("b", {8}, 0, 32).pad(32).zeros(192);  // a is [0, 64), b is [32, 64)
    expect_refused(g.b, {"tensor 'b' data overlaps tensor 'a'", at_byte(info)});
    // two tensors at the same offset
    gguf_bytes s;
    s.header(2, 0).tensor("x", {8}, 0, 0).tensor("y", {8}, 0, 0).pad(32).zeros(64);
    expect_refused(s.b, {"overlaps"});
}

TEST_CASE("gguf hostile: duplicate keys and duplicate tensor names") {
    gguf_bytes g;
    g.header(0, 3).kv_u32("a", 1).kv_u32("b", 2);
    const auto at = g.pos();
    g.kv_str("a", "again");
    expect_refused(g.b, {"duplicate metadata key 'a'", at_byte(at)});
    // with several repeats, the first record in file order that repeats a name is named
    gguf_bytes m;
    m.header(0, 5).kv_u32("z", 1).kv_u32("y", 2);
    const auto first_repeat = m.pos();
    m.kv_u32("y", 3).kv_u32("z", 4).kv_u32("y", 5);
    expect_refused(m.b, {"duplicate metadata key 'y'", at_byte(first_repeat)});

    gguf_bytes t;
    t.header(2, 0).tensor("w", {4}, 0, 0);
    const auto info = t.pos();
    t.tensor("w", {4}, 0, 32).pad(32).zeros(64);
    expect_refused(t.b, {"duplicate tensor name 'w'", at_byte(info)});
}

TEST_CASE("gguf hostile: more than 4 dimensions, or none") {
    gguf_bytes g;
    g.header(1, 0).str("w");
    const auto at = g.pos();
    g.u32(5);
    for (int k = 0; k < 5; ++k) g.u64(1);
    g.u32(0).u64(0).pad(32).zeros(32);
    expect_refused(g.b, {"tensor 'w' has 5 dimensions (1 to 4 allowed)", at_byte(at)});

    gguf_bytes z;
    z.header(1, 0).str("w");
    const auto zat = z.pos();
    z.u32(0).u32(0).u64(0).pad(32).zeros(32);
    expect_refused(z.b, {"tensor 'w' has 0 dimensions", at_byte(zat)});
}

TEST_CASE("gguf hostile: a zero dimension") {
    gguf_bytes g;
    g.header(1, 0).str("w").u32(3).u64(4);
    const auto at = g.pos();
    g.u64(0).u64(2).u32(0).u64(0).pad(32).zeros(32);
    expect_refused(g.b, {"tensor 'w' dimension 1 is zero", at_byte(at)});
}

TEST_CASE("gguf hostile: element count or byte size overflows") {
    gguf_bytes g;
    g.header(1, 0).str("w").u32(3).u64(std::uint64_t{1} << 32).u64(std::uint64_t{1} << 30);
    const auto at = g.pos();
    g.u64(4).u32(0).u64(0).pad(32).zeros(32);
    expect_refused(g.b, {"tensor 'w' element count overflows", at_byte(at)});
    // 2^51 f32 elements: the sizes are fine, the file is far too short for them
    gguf_bytes b;
    b.header(1, 0).str("w");
    const auto dims = b.pos();
    b.u32(2).u64(std::uint64_t{1} << 31).u64(std::uint64_t{1} << 20).u32(0).u64(0).pad(32).zeros(32);
    expect_refused(b.b, {"outside the data section", at_byte(dims - 9)});
    // 2^62 f64 elements fit an int64 count but not a byte size
    gguf_bytes c;
    c.header(1, 0).str("w");
    const auto cdims = c.pos();
    c.u32(2).u64(std::uint64_t{1} << 31).u64(std::uint64_t{1} << 31).u32(std::uint32_t(qtype::f64)).u64(0).pad(32).zeros(32);
    expect_refused(c.b, {"tensor 'w' byte size overflows", at_byte(cdims)});
}

TEST_CASE("gguf hostile: a row length that is not a whole number of blocks") {
    gguf_bytes g;
    g.header(1, 0).str("w");
    const auto at = g.pos();
    g.u32(2).u64(33).u64(2).u32(std::uint32_t(qtype::q4_0)).u64(0).pad(32).zeros(128);
    expect_refused(g.b, {"tensor 'w' row length 33 is not a multiple of the q4_0 block size 32", at_byte(at)});
}

TEST_CASE("gguf hostile: arrays nested too deep") {
    gguf_bytes g;
    g.header(0, 1).str("deep").u32(std::uint32_t(gguf_type::array));
    for (int k = 0; k < 9; ++k) g.u32(std::uint32_t(gguf_type::array)).u64(1);
    g.u32(std::uint32_t(gguf_type::uint8)).u64(0);
    expect_refused(g.b, {"nested deeper than 8 levels", "'deep'", at_byte(24 + 8 + 4 + 4 + 8 * 12)});
}

TEST_CASE("gguf hostile: a bool that is neither 0 nor 1") {
    gguf_bytes g;
    g.header(0, 1).str("b").u32(std::uint32_t(gguf_type::boolean));
    const auto at = g.pos();
    g.u8(2);
    expect_refused(g.b, {"bool value 2", "'b'", at_byte(at)});

    gguf_bytes a;
    a.header(0, 1).str("bs").u32(std::uint32_t(gguf_type::array)).u32(std::uint32_t(gguf_type::boolean)).u64(3);
    const auto aat = a.pos();
    a.u8(1).u8(0).u8(7);
    expect_refused(a.b, {"bool element 2", "'bs'", at_byte(aat + 2)});
}

TEST_CASE("gguf hostile: names with control characters or invalid UTF-8 are escaped in messages") {
    gguf_bytes g;
    g.header(0, 2).kv_u32(std::string_view("a\0b\n\xff", 5), 1);
    const auto at = g.pos();
    g.kv_u32(std::string_view("a\0b\n\xff", 5), 2);
    expect_refused(g.b, {"duplicate metadata key 'a\\x00b\\n\\xff'", at_byte(at)});
    // a huge name is cut in the message
    const std::string long_name(100000, 'n');
    gguf_bytes t;
    t.header(1, 0).str(long_name).u32(9).zeros(64);
    try {
        (void)gguf_file::from_bytes(t.b);
        FAIL("nine dimensions parsed");
    } catch (const llmt::error& e) {
        const std::string what = e.what();
        CHECK(what.size() < 400);
        CHECK(what.find("(100000 bytes)") != std::string::npos);
        CHECK(what.find("9 dimensions") != std::string::npos);
    }
}

TEST_CASE("gguf: escape keeps valid UTF-8 and escapes everything else") {
    using llmt::io::escape;
    CHECK(escape("plain text") == "plain text");
    CHECK(escape("tab\tnl\ncr\rbs\\") == "tab\\tnl\\ncr\\rbs\\\\");
    CHECK(escape(std::string_view("\0\x1b[31m", 6)) == "\\x00\\x1b[31m");
    CHECK(escape("caf\xc3\xa9 \xe2\x96\x81 \xf0\x9f\x98\x80") == "caf\xc3\xa9 \xe2\x96\x81 \xf0\x9f\x98\x80");
    CHECK(escape("\xff\xc3") == "\\xff\\xc3");              // invalid byte, truncated sequence
    CHECK(escape("\xc0\xaf") == "\\xc0\\xaf");              // overlong '/'
    CHECK(escape("\xed\xa0\x80") == "\\xed\\xa0\\x80");  // surrogate
    CHECK(escape("\xc2\x85") == "\\u0085");                  // C1 control (NEL)
    CHECK(escape("abcdef", 3) == "abc... (6 bytes)");
    CHECK(llmt::io::is_valid_utf8("caf\xc3\xa9"));
    CHECK_FALSE(llmt::io::is_valid_utf8("caf\xc3"));
    CHECK_FALSE(llmt::io::is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

TEST_CASE("gguf hostile: missing, empty and non-regular files are I/O errors") {
    const auto dir = std::filesystem::temp_directory_path() / "llmt-test-gguf-hostile";
    std::filesystem::create_directories(dir);
    for (auto mode : {llmt::io::load_mode::mmap_or_read, llmt::io::load_mode::read_only}) {
        try {
            (void)gguf_file::open(dir / "missing.gguf", mode);
            FAIL("a missing file opened");
        } catch (const llmt::error& e) {
            CHECK(e.code() == llmt::errc::io);
            CHECK(std::string(e.what()).find("missing.gguf") != std::string::npos);
        }
        try {
            (void)gguf_file::open(dir, mode);
            FAIL("a directory opened");
        } catch (const llmt::error& e) {
            CHECK(e.code() == llmt::errc::io);
            CHECK(std::string(e.what()).find("not a regular file") != std::string::npos);
        }
    }
    const auto empty = dir / "empty.gguf";
    { std::FILE* f = std::fopen(empty.string().c_str(), "wb"); REQUIRE(f); std::fclose(f); }
    try {
        (void)gguf_file::open(empty);
        FAIL("an empty file parsed");
    } catch (const llmt::error& e) {
        CHECK(e.code() == llmt::errc::format);
        CHECK(std::string(e.what()).find("empty.gguf") != std::string::npos);
        CHECK(std::string(e.what()).find(at_byte(0)) != std::string::npos);
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("gguf hostile: every single-byte corruption of the header region is parsed or refused cleanly") {
    // Not a fuzzer, but a cheap sweep: flip each byte before the data section to a few values.
    const auto full = small_valid_file(3);
    const auto data_offset = gguf_file::from_bytes(full).data_offset();
    int refused = 0, parsed = 0;
    for (std::uint64_t at = 0; at < data_offset; ++at) {
        for (std::uint8_t v : {std::uint8_t{0x00}, std::uint8_t{0x01}, std::uint8_t{0x7f}, std::uint8_t{0xff}}) {
            auto bytes = full;
            bytes[at] = std::byte{v};
            try {
                auto g = gguf_file::from_bytes(bytes);
                // what parses must be self-consistent: every tensor inside the file
                for (const auto& t : g.tensors())
                    CHECK(g.data_offset() + t.offset + t.n_bytes <= g.bytes().size());
                ++parsed;
            } catch (const llmt::error& e) {
                CHECK_MESSAGE(std::string(e.what()).find("byte") != std::string::npos, std::string(e.what()));
                ++refused;
            }
        }
    }
    CHECK(refused > 0);
    CHECK(parsed > 0);
}
