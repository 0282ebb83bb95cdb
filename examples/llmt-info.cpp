// llmt-info: lists a GGUF file: version, the architecture and whether llmt runs it, metadata, tensors and totals
#include "cli_common.hpp"

#include <llmt/io/escape.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/model/load_any.hpp>
#include <llmt/quant/qtype.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using llmt::io::escape;
using llmt::io::gguf_array;
using llmt::io::gguf_file;
using llmt::io::gguf_tensor_info;
using llmt::io::gguf_type;
using llmt::io::gguf_value;
using json = nlohmann::ordered_json;

constexpr std::size_t shown_elements = 8;  // array elements printed without --all
constexpr std::size_t shown_bytes = 200;   // string bytes printed without --all

constexpr const char* usage =
    "usage: llmt-info [--all] [--json] FILE\n"
    "Lists a GGUF file: version, its architecture and whether llmt runs it, metadata, tensors (name,\n"
    "type, shape, bytes, offset) and totals.\n"
    "  --all    print every array element and whole strings (default: the first 8 elements of\n"
    "           an array, the first 200 bytes of a string; JSON always has whole strings)\n"
    "  --json   print one JSON document instead of text\n"
    "  -h, --help  this help\n"
    "Exit status: 0 done, 1 the file cannot be read or the output written, 2 wrong command line.\n";

struct options {
    bool all = false;
    bool json = false;
    std::string path;
};

// ---- text ----

std::string scalar_text(const gguf_value& v, bool all) {
    switch (v.type) {
        case gguf_type::string: return "\"" + escape(v.str, all ? std::string::npos : shown_bytes) + "\"";
        case gguf_type::boolean: return v.u ? "true" : "false";
        case gguf_type::float32: return fmt::format("{}", static_cast<float>(v.d));
        case gguf_type::float64: return fmt::format("{}", v.d);
        default: return llmt::io::is_signed_int(v.type) ? fmt::format("{}", v.i) : fmt::format("{}", v.u);
    }
}

std::string array_type_text(const gguf_array& a) {
    if (a.type == gguf_type::array) {
        // the element arrays may differ in type; name the first one's
        const std::string inner = a.arrays.empty() ? "array" : array_type_text(*a.arrays.front().array);
        return fmt::format("{}[{}]", inner, a.count);
    }
    return fmt::format("{}[{}]", llmt::io::name(a.type), a.count);
}

std::string value_text(const gguf_value& v, bool all);

std::string array_text(const gguf_array& a, bool all) {
    const std::size_t n = static_cast<std::size_t>(a.count);
    const std::size_t shown = all ? n : std::min(n, shown_elements);
    std::string out = "[";
    const auto raw = a.raw();
    const std::size_t esz = llmt::io::fixed_size(a.type);
    for (std::size_t k = 0; k < shown; ++k) {
        if (k) out += ", ";
        if (a.type == gguf_type::string) {
            gguf_value s;
            s.type = gguf_type::string;
            s.str = a.strings[k];
            out += scalar_text(s, all);
        } else if (a.type == gguf_type::array) {
            out += value_text(a.arrays[k], all);
        } else {
            out += scalar_text(a.element(raw.data() + k * esz), all);
        }
    }
    if (shown < n) out += fmt::format(", ... ({} more)", n - shown);
    return out + "]";
}

std::string value_text(const gguf_value& v, bool all) {
    return v.type == gguf_type::array ? array_text(*v.array, all) : scalar_text(v, all);
}

std::string type_text(const gguf_value& v) {
    return v.type == gguf_type::array ? array_type_text(*v.array) : std::string(llmt::io::name(v.type));
}

std::string shape_text(const gguf_tensor_info& t) {
    std::string s = "[";
    for (std::uint32_t d = 0; d < t.n_dims; ++d) s += fmt::format("{}{}", d ? ", " : "", t.ne[d]);
    return s + "]";
}

struct totals {
    std::uint64_t parameters = 0;
    std::uint64_t bytes = 0;
    std::map<std::string_view, std::pair<std::uint64_t, std::uint64_t>> by_type;  // name -> (tensors, bytes)

    explicit totals(const gguf_file& g) {
        for (const auto& t : g.tensors()) {
            parameters += t.n_elements;
            bytes += t.n_bytes;
            auto& e = by_type[llmt::quant::name(t.type)];
            e.first += 1;
            e.second += t.n_bytes;
        }
    }
    [[nodiscard]] double bits_per_weight() const { return parameters ? 8.0 * double(bytes) / double(parameters) : 0.0; }
};

/// The file's general.architecture, the KV cache types of the presets that run it (none: llmt does
/// not run it), and every architecture llmt knows (load_any's presets).
struct architecture_support {
    std::optional<std::string> name;  // absent when the key is missing or not a string
    std::vector<std::string> kv_types;
    std::vector<std::string> known;
};

architecture_support support_of(const gguf_file& g) {
    architecture_support s;
    for (const auto& kv : g.metadata())
        if (kv.key == "general.architecture" && kv.value.type == gguf_type::string) s.name = std::string(kv.value.str);
    llmt::for_each_type(llmt::presets::all{}, [&](auto t) {
        using P = typename decltype(t)::type;
        const std::string kv(llmt::to_string(llmt::kv_cache::kv_type_of<typename P::kv_policy::element>));
        for (std::string_view a : P::architectures) {
            if (std::find(s.known.begin(), s.known.end(), a) == s.known.end()) s.known.emplace_back(a);
            if (s.name && a == *s.name && std::find(s.kv_types.begin(), s.kv_types.end(), kv) == s.kv_types.end())
                s.kv_types.push_back(kv);
        }
    });
    return s;
}

std::string joined(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
    return out;
}

void print_text(const gguf_file& g, const options& opt) {
    std::string out;
    out += fmt::format("file: {}\n", escape(g.path()));
    out += fmt::format("GGUF version {}, {} bytes, alignment {}, tensor data at byte {}\n", g.version(),
                       g.bytes().size(), g.alignment(), g.data_offset());
    const auto arch = support_of(g);
    if (!arch.name)
        out += fmt::format("architecture: none (no string key 'general.architecture'); llmt knows: {}\n", joined(arch.known));
    else if (arch.kv_types.empty())
        out += fmt::format("architecture '{}' is not supported; llmt knows: {}\n", escape(*arch.name), joined(arch.known));
    else
        out += fmt::format("architecture: {} (llmt runs it; KV cache {})\n", escape(*arch.name), joined(arch.kv_types));

    out += fmt::format("\nmetadata: {} keys\n", g.metadata().size());
    std::size_t key_w = 0, type_w = 0;
    std::vector<std::pair<std::string, std::string>> rows;  // escaped key, type
    for (const auto& kv : g.metadata()) {
        rows.emplace_back(escape(kv.key), type_text(kv.value));
        key_w = std::max(key_w, rows.back().first.size());
        type_w = std::max(type_w, rows.back().second.size());
    }
    key_w = std::min<std::size_t>(key_w, 48);
    for (std::size_t k = 0; k < rows.size(); ++k)
        out += fmt::format("  {:<{}}  {:<{}}  {}\n", rows[k].first, key_w, rows[k].second, type_w,
                           value_text(g.metadata()[k].value, opt.all));

    out += fmt::format("\ntensors: {}\n", g.tensors().size());
    if (!g.tensors().empty()) {
        std::size_t name_w = 4, type_w2 = 4, shape_w = 5;
        for (const auto& t : g.tensors()) {
            name_w = std::max(name_w, escape(t.name).size());
            type_w2 = std::max(type_w2, llmt::quant::name(t.type).size());
            shape_w = std::max(shape_w, shape_text(t).size());
        }
        name_w = std::min<std::size_t>(name_w, 64);
        out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}\n", "name", name_w, "type", type_w2, "shape", shape_w,
                           "bytes", "offset");
        for (const auto& t : g.tensors())
            out += fmt::format("  {:<{}}  {:<{}}  {:<{}}  {:>12}  {:>12}\n", escape(t.name), name_w,
                               llmt::quant::name(t.type), type_w2, shape_text(t), shape_w, t.n_bytes, t.offset);
    }

    const totals tot(g);
    out += fmt::format("\ntotals: {} tensors, {} parameters, {} bytes, {:.4f} bits per weight\n", g.tensors().size(),
                       tot.parameters, tot.bytes, tot.bits_per_weight());
    for (const auto& [type, e] : tot.by_type)
        out += fmt::format("  {:<10} {:>5} tensors  {:>14} bytes\n", type, e.first, e.second);
    std::fwrite(out.data(), 1, out.size(), stdout);
}

// ---- JSON ----

json scalar_json(const gguf_value& v) {
    switch (v.type) {
        case gguf_type::string: return std::string(v.str);  // whole: JSON is for programs
        case gguf_type::boolean: return v.u != 0;
        case gguf_type::float32: return static_cast<float>(v.d);
        case gguf_type::float64: return v.d;
        default: return llmt::io::is_signed_int(v.type) ? json(v.i) : json(v.u);
    }
}

json value_json(const gguf_value& v, bool all);

json array_json(const gguf_array& a, bool all) {
    json j = json::object();
    j["element_type"] = std::string(llmt::io::name(a.type));
    j["count"] = a.count;
    const std::size_t n = static_cast<std::size_t>(a.count);
    const std::size_t shown = all ? n : std::min(n, shown_elements);
    json values = json::array();
    const auto raw = a.raw();
    const std::size_t esz = llmt::io::fixed_size(a.type);
    for (std::size_t k = 0; k < shown; ++k) {
        if (a.type == gguf_type::string) {
            values.push_back(std::string(a.strings[k]));
        } else if (a.type == gguf_type::array) {
            values.push_back(value_json(a.arrays[k], all));
        } else {
            values.push_back(scalar_json(a.element(raw.data() + k * esz)));
        }
    }
    j["values"] = std::move(values);
    if (shown < n) j["more"] = n - shown;
    return j;
}

json value_json(const gguf_value& v, bool all) {
    return v.type == gguf_type::array ? array_json(*v.array, all) : scalar_json(v);
}

void print_json(const gguf_file& g, const options& opt) {
    json doc = json::object();
    doc["file"] = g.path();
    doc["version"] = g.version();
    doc["size"] = g.bytes().size();
    doc["alignment"] = g.alignment();
    doc["data_offset"] = g.data_offset();
    const auto arch = support_of(g);
    json arch_j = json::object();
    arch_j["name"] = arch.name ? json(*arch.name) : json(nullptr);
    arch_j["supported"] = !arch.kv_types.empty();
    arch_j["kv_types"] = arch.kv_types;
    arch_j["known"] = arch.known;
    doc["architecture"] = std::move(arch_j);
    json md = json::object();
    for (const auto& kv : g.metadata()) {
        json e = json::object();
        e["type"] = std::string(llmt::io::name(kv.value.type));
        e["value"] = value_json(kv.value, opt.all);
        md[std::string(kv.key)] = std::move(e);
    }
    doc["metadata"] = std::move(md);
    json ts = json::array();
    for (const auto& t : g.tensors()) {
        json e = json::object();
        e["name"] = std::string(t.name);
        e["type"] = std::string(llmt::quant::name(t.type));
        e["type_id"] = static_cast<std::uint32_t>(t.type);
        e["shape"] = std::vector<std::uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims);
        e["elements"] = t.n_elements;
        e["bytes"] = t.n_bytes;
        e["offset"] = t.offset;
        e["file_offset"] = g.data_offset() + t.offset;
        ts.push_back(std::move(e));
    }
    doc["tensors"] = std::move(ts);
    const totals tot(g);
    json totals_j = json::object();
    totals_j["tensors"] = g.tensors().size();
    totals_j["parameters"] = tot.parameters;
    totals_j["bytes"] = tot.bytes;
    totals_j["bits_per_weight"] = tot.bits_per_weight();
    json by_type = json::object();
    for (const auto& [type, e] : tot.by_type) by_type[std::string(type)] = {{"tensors", e.first}, {"bytes", e.second}};
    totals_j["by_type"] = std::move(by_type);
    doc["totals"] = std::move(totals_j);
    // Strings in GGUF files are not always valid UTF-8: replace bad bytes with U+FFFD.
    const std::string out = doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
}

/// One line on stderr, control characters escaped.
int fail_with(int status, std::string_view message) {
    std::fprintf(stderr, "llmt-info: error: %s\n", escape(message).c_str());
    return status;
}

/// A usage error: the problem, then the one-line synopsis.
int usage_error(std::string_view message) {
    fail_with(2, message);
    std::fputs("usage: llmt-info [--all] [--json] FILE  (--help for more)\n", stderr);
    return 2;
}

int run(int argc, char** argv) {
    options opt;
    bool have_path = false;
    for (int k = 1; k < argc; ++k) {
        const std::string_view a = argv[k];
        if (a == "--all") {
            opt.all = true;
        } else if (a == "--json") {
            opt.json = true;
        } else if (a == "-h" || a == "--help") {
            std::fputs(usage, stdout);
            return 0;
        } else if (a.size() > 1 && a[0] == '-' && a != "--") {
            return usage_error(fmt::format("unknown option '{}'", a));
        } else {
            if (a == "--") {
                if (++k >= argc) break;
            }
            if (have_path) {
                return usage_error(fmt::format("one FILE expected, got '{}' and '{}'", opt.path, argv[k]));
            }
            opt.path = argv[k];
            have_path = true;
        }
    }
    if (!have_path) return usage_error("no FILE given");
    llmt_cli::check_input_file(opt.path, "input");
    const auto g = gguf_file::open(opt.path);
    if (opt.json)
        print_json(g, opt);
    else
        print_text(g, opt);
    return 0;  // main_wrapper checks that stdout took every byte
}

}  // namespace

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-info", [&] { return run(argc, argv); });
}
