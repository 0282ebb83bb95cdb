// fuzz_gguf: libFuzzer target: arbitrary bytes into the GGUF reader; only llmt::error may escape
#include <llmt/io/gguf.hpp>
#include <llmt/io/gguf_writer.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <vector>
#include <span>
#include <string_view>

namespace {

// A broken invariant of the reader (not an input error): report and crash so libFuzzer keeps the input.
[[noreturn]] void finding(const char* what) {
    std::fprintf(stderr, "fuzz_gguf: %s\n", what);
    std::abort();
}

volatile unsigned sink;  // keeps the reads below from being optimized out

void walk(const llmt::io::gguf_value& v, unsigned depth) {
    using llmt::io::gguf_type;
    (void)llmt::io::gguf_file::describe(v);
    if (v.type == gguf_type::string) {
        if (!v.str.empty()) sink = sink + static_cast<unsigned char>(v.str.front()) + static_cast<unsigned char>(v.str.back());
        return;
    }
    if (v.type != gguf_type::array) return;
    if (!v.array) finding("array value without array");
    const auto& a = *v.array;
    if (depth > llmt::io::gguf_max_array_depth) finding("arrays nested deeper than the reader allows");
    if (a.type == gguf_type::string) {
        if (a.strings.size() != a.count) finding("string array size differs from its count");
        for (auto s : a.view<std::string_view>()) sink = sink + static_cast<unsigned>(s.size());
    } else if (a.type == gguf_type::array) {
        if (a.arrays.size() != a.count) finding("array of arrays size differs from its count");
        for (const auto& x : a.arrays) walk(x, depth + 1);
    } else {
        const auto raw = a.raw();
        if (raw.size() != a.count * llmt::io::fixed_size(a.type)) finding("numeric array bytes differ from count * size");
        if (!raw.empty()) sink = sink + std::to_integer<unsigned>(raw.front()) + std::to_integer<unsigned>(raw.back());
        try {
            sink = sink + static_cast<unsigned>(a.to_vector<double>().size());
        } catch (const llmt::error&) {  // bool arrays do not convert to numbers
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::optional<llmt::io::gguf_file> parsed;
    try {
        parsed.emplace(llmt::io::gguf_file::from_bytes(std::as_bytes(std::span(data, size)), "fuzz"));
    } catch (const llmt::error&) {
        return 0;  // refused with a proper error: fine
    }
    const auto& g = *parsed;

    // Every accessor works on whatever the reader accepted.
    for (const auto& kv : g.metadata()) {
        if (g.find(kv.key) != &kv.value) finding("metadata index does not find its own key");
        walk(kv.value, 0);
    }
    for (const auto& t : g.tensors()) {
        if (g.find_tensor(t.name) != &t) finding("tensor index does not find its own tensor");
        const auto bytes = g.tensor_data(t);
        if (bytes.size() != t.n_bytes) finding("tensor data size differs from n_bytes");
        if (!bytes.empty()) sink = sink + std::to_integer<unsigned>(bytes.front()) + std::to_integer<unsigned>(bytes.back());
        sink = sink + static_cast<unsigned>(t.n_rows() + t.row_bytes());
    }

    // What the reader accepts, the writer must write back, and the reader must read the same again.
    std::vector<std::byte> rewritten;
    try {
        llmt::io::gguf_writer w(g.version());
        for (const auto& kv : g.metadata()) w.set_value(kv.key, kv.value);
        for (const auto& t : g.tensors())
            w.add_tensor(t.name, t.type, std::span(t.ne.data(), t.n_dims), g.tensor_data(t));
        rewritten = w.to_bytes();
    } catch (const llmt::error& e) {
        std::fprintf(stderr, "fuzz_gguf: the writer refuses a file the reader accepted: %s\n", e.what());
        std::abort();
    }
    try {
        const auto h = llmt::io::gguf_file::from_bytes(rewritten, "rewritten");
        if (h.metadata().size() != g.metadata().size()) finding("rewritten file has a different key count");
        if (h.tensors().size() != g.tensors().size()) finding("rewritten file has a different tensor count");
        for (std::size_t k = 0; k < g.metadata().size(); ++k) {
            const auto& a = g.metadata()[k];
            const auto& b = h.metadata()[k];
            if (a.key != b.key || a.value.type != b.value.type) finding("rewritten key differs");
            if (llmt::io::gguf_file::describe(a.value) != llmt::io::gguf_file::describe(b.value))
                finding("rewritten value differs");
        }
        for (std::size_t k = 0; k < g.tensors().size(); ++k) {
            const auto& a = g.tensors()[k];
            const auto& b = h.tensors()[k];
            if (a.name != b.name || a.type != b.type || a.ne != b.ne) finding("rewritten tensor info differs");
            const auto da = g.tensor_data(a);
            const auto db = h.tensor_data(b);
            if (!std::equal(da.begin(), da.end(), db.begin(), db.end())) finding("rewritten tensor data differs");
        }
    } catch (const llmt::error& e) {
        std::fprintf(stderr, "fuzz_gguf: the reader refuses what the writer wrote: %s\n", e.what());
        std::abort();
    }
    return 0;
}
