// llmt-quantize: converts a GGUF file's tensors to a quantization type or llama.cpp mixture (Q4_K_M, ...)
#include "cli_common.hpp"

#include <llmt/llmt.hpp>
#include <llmt/quant/quantize_file.hpp>
#include <llmt/quant/recipe.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace {

namespace q = llmt::quant;

void usage(std::FILE* to) {
    std::fprintf(to,
        "usage: llmt-quantize [options] IN.gguf OUT.gguf TYPE\n"
        "\n"
        "TYPE: a tensor type or one of llama.cpp's mixtures:\n"
        "  ");
    for (const auto& f : q::ftype_names) std::fprintf(to, "%.*s ", int(f.name.size()), f.name.data());
    std::fprintf(to,
        "\n  (Q3_K, Q4_K, Q5_K are llama-quantize's aliases of the _M mixtures)\n"
        "\n"
        "options:\n"
        "  --pure                      every quantizable tensor gets TYPE's base type (no mixture)\n"
        "  --threads N                 threads that quantize rows, 1 to 512 (default: all cores)\n"
        "  --tensor-type PATTERN=TYPE  tensors whose name matches the regex PATTERN get TYPE (repeatable)\n"
        "  --output-tensor-type TYPE   type of output.weight\n"
        "  --token-embedding-type TYPE type of token_embd.weight\n"
        "  --leave-output-tensor       keep output.weight as it is\n"
        "  --allow-requantize          allow converting tensors that are already quantized\n"
        "  --override-kv KEY=TYPE:VAL  set metadata (TYPE: int, float, bool, str); an existing key keeps its place\n"
        "                              and its integer type (a value that does not fit it is refused);\n"
        "                              a new int key is int32, or int64 when the value needs it\n"
        "  -h, --help\n"
        "\n"
        "OUT.gguf is written beside its final name and renamed into place when complete: an existing OUT.gguf\n"
        "is replaced only by a whole file, never removed; a directory, device, FIFO, read-only file or the input\n"
        "itself as OUT.gguf is refused. Exit status: 0 done, 1 failed, 2 wrong command line.\n"
        "\n"
        "Decisions follow llama.cpp's llama-quantize (without an importance matrix); a row length that fits\n"
        "no block of the chosen type falls back (K-quants to Q5_0/Q5_1/Q8_0, then F16).\n");
}

q::qtype parse_qtype(std::string_view s, std::string_view option) {
    const auto t = q::from_name(s);
    if (!t || !q::is_sized(std::uint32_t(*t))) llmt_cli::usage_fail("{}: unknown tensor type '{}'", option, s);
    return *t;
}

template <typename T>
bool fits(std::int64_t v) {
    return v >= std::int64_t(std::numeric_limits<T>::min()) &&
           (v < 0 || std::uint64_t(v) <= std::uint64_t(std::numeric_limits<T>::max()));
}

/// An integer override in the type of the key it replaces when the value fits, else refused; a new
/// key gets int32 when the value fits, else int64.
llmt::io::gguf_owned_value int_value(std::string_view key, std::int64_t v, const llmt::io::gguf_value* existing,
                                     std::string_view spec) {
    using V = llmt::io::gguf_owned_value;
    using T = llmt::io::gguf_type;
    if (!existing) return fits<std::int32_t>(v) ? V::of(std::int32_t(v)) : V::of(v);
    auto in_type = [&](auto proto) -> V {
        using U = decltype(proto);
        if (!fits<U>(v))
            llmt_cli::usage_fail("--override-kv '{}': {} does not fit the key's type {} (from {} to {})", spec, v,
                                 llmt::io::name(existing->type), +std::numeric_limits<U>::min(), +std::numeric_limits<U>::max());
        return V::of(U(v));
    };
    switch (existing->type) {
        case T::uint8: return in_type(std::uint8_t{});
        case T::int8: return in_type(std::int8_t{});
        case T::uint16: return in_type(std::uint16_t{});
        case T::int16: return in_type(std::int16_t{});
        case T::uint32: return in_type(std::uint32_t{});
        case T::int32: return in_type(std::int32_t{});
        case T::uint64: return in_type(std::uint64_t{});
        case T::int64: return in_type(std::int64_t{});
        default:
            llmt_cli::usage_fail("--override-kv '{}': the key {} holds a {}, not an integer (use {}:VALUE)", spec, key,
                                 llmt::io::name(existing->type), existing->type == T::string ? "str" : "float");
    }
}

/// KEY=TYPE:VALUE, as llama.cpp's --override-kv; `in` gives the types of existing keys.
std::pair<std::string, llmt::io::gguf_owned_value> parse_kv_override(const std::string& spec, const llmt::io::gguf_file& in) {
    const auto eq = spec.find('=');
    const auto colon = eq == std::string::npos ? std::string::npos : spec.find(':', eq);
    if (eq == std::string::npos || eq == 0 || colon == std::string::npos)
        llmt_cli::usage_fail("--override-kv wants KEY=TYPE:VALUE, got '{}'", spec);
    const std::string key = spec.substr(0, eq);
    const std::string type = spec.substr(eq + 1, colon - eq - 1), val = spec.substr(colon + 1);
    using V = llmt::io::gguf_owned_value;
    const auto* existing = in.find(key);
    if (type == "int") {
        std::int64_t v = 0;
        const char* b = val.data();
        const char* e = val.data() + val.size();
        if (b != e && *b == '+') ++b;
        const auto r = std::from_chars(b, e, v);
        if (r.ec == std::errc::result_out_of_range)
            llmt_cli::usage_fail("--override-kv '{}': {} is outside the 64-bit integers", spec, val);
        if (r.ec != std::errc{} || r.ptr != e || b == e) llmt_cli::usage_fail("--override-kv '{}': '{}' is not an integer", spec, val);
        return {key, int_value(key, v, existing, spec)};
    }
    if (type == "float") {
        char* end = nullptr;
        const double d = std::strtod(val.c_str(), &end);
        if (val.empty() || *end || !std::isfinite(d) || std::fabs(d) > double(std::numeric_limits<float>::max()))
            llmt_cli::usage_fail("--override-kv '{}': '{}' is not a finite float32 number", spec, val);
        return {key, V::of(float(d))};
    }
    if (type == "bool") {
        if (val == "true" || val == "false") return {key, V::of(val == "true")};
        llmt_cli::usage_fail("--override-kv '{}': a bool is true or false, got '{}'", spec, val);
    }
    if (type == "str") return {key, V::of(std::string_view(val))};
    llmt_cli::usage_fail("--override-kv '{}': the type is int, float, bool or str, got '{}'", spec, type);
}

std::string mib(std::uint64_t bytes) { return fmt::format("{:.2f} MiB", double(bytes) / (1024.0 * 1024.0)); }


int run(int argc, char** argv) {
    using llmt_cli::usage_fail;
    q::quantize_file_options opts;
    opts.threads = int(std::clamp(std::thread::hardware_concurrency(), 1u, 512u));
    std::vector<std::string> pos, kv_specs;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage_fail("{} needs a value", a);
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        } else if (a == "--pure") {
            opts.recipe.pure = true;
        } else if (a == "--threads" || a == "-t") {
            opts.threads = llmt_cli::parse_int<int>(next(), "--threads", 1, 512);
        } else if (a == "--tensor-type") {
            const std::string v = next();
            const auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) usage_fail("--tensor-type wants PATTERN=TYPE, got '{}'", v);
            std::string pat = v.substr(0, eq);
            std::transform(pat.begin(), pat.end(), pat.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            opts.recipe.overrides.push_back({pat, parse_qtype(v.substr(eq + 1), "--tensor-type")});
        } else if (a == "--output-tensor-type") {
            opts.recipe.output_type = parse_qtype(next(), a);
        } else if (a == "--token-embedding-type") {
            opts.recipe.token_embd_type = parse_qtype(next(), a);
        } else if (a == "--leave-output-tensor") {
            opts.recipe.quantize_output = false;
        } else if (a == "--allow-requantize") {
            opts.allow_requantize = true;
        } else if (a == "--override-kv") {
            kv_specs.push_back(next());
        } else if (a.size() > 1 && a[0] == '-') {
            usage_fail("unknown option {}", a);
        } else {
            pos.push_back(a);
        }
    }
    if (pos.size() != 3) usage_fail("want IN.gguf OUT.gguf TYPE, got {} argument(s)", pos.size());
    const auto ft = q::ftype_from_name(pos[2]);
    if (!ft) usage_fail("unknown type '{}' (see --help)", pos[2]);
    opts.recipe.file_type = *ft;
    llmt_cli::check_input_file(pos[0], "input");
    if (!kv_specs.empty()) {
        const auto in = llmt::io::gguf_file::open(pos[0]);  // the types of the keys overridden
        for (const auto& spec : kv_specs) opts.kv_overrides.push_back(parse_kv_override(spec, in));
    }

#if defined(__unix__) || defined(__APPLE__)
    const bool tty = isatty(2) != 0;
#else
    const bool tty = false;
#endif
    const auto t0 = std::chrono::steady_clock::now();
    q::quantize_report rep;
    try {
        rep = q::quantize_file(pos[0], pos[1], opts, [&](const q::quantize_progress& p) {
            const auto& t = *p.tensor;
            const bool finished = p.done == t.n_elements;
            if (tty) {
                const int width = 30;
                const int fill = p.total ? int(double(p.total_done) / double(p.total) * width) : width;
                std::fprintf(stderr, "\r[%.*s%*s] %3d%% [%4zu/%4zu] %-40.40s", fill, "##############################",
                             width - fill, "", p.total ? int(100.0 * double(p.total_done) / double(p.total)) : 100,
                             p.index + 1, p.count, t.name.c_str());
                if (finished && p.index + 1 == p.count) std::fputc('\n', stderr);
            } else if (finished) {
                std::fprintf(stderr, "[%4zu/%4zu] %-40s %6s -> %-6s %10s -> %10s%s%s\n", p.index + 1, p.count, t.name.c_str(),
                             std::string(q::name(t.from)).c_str(), std::string(q::name(t.to)).c_str(), mib(t.bytes_in).c_str(),
                             mib(t.bytes_out).c_str(), t.note.empty() ? "" : "  ", t.note.c_str());
            }
            std::fflush(stderr);
        });
    } catch (...) {
        if (tty) std::fputc('\n', stderr);
        throw;
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    std::map<std::string, int> counts;
    for (const auto& t : rep.tensors) ++counts[std::string(q::name(t.to))];
    if (tty)
        for (const auto& t : rep.tensors)
            if (!t.note.empty()) std::fprintf(stderr, "note: %s: %s\n", t.name.c_str(), t.note.c_str());
    const double n = double(std::max<std::uint64_t>(1, rep.n_elements));
    std::fprintf(stderr, "tensors:");
    for (const auto& [name, c] : counts) std::fprintf(stderr, " %s x%d", name.c_str(), c);
    std::fprintf(stderr, "\nsize before: %s (%.2f bpw)\nsize after:  %s (%.2f bpw), %.1f%% of before\n", mib(rep.bytes_in).c_str(),
                 8.0 * double(rep.bytes_in) / n, mib(rep.bytes_out).c_str(), 8.0 * double(rep.bytes_out) / n,
                 rep.bytes_in ? 100.0 * double(rep.bytes_out) / double(rep.bytes_in) : 0.0);
    if (rep.n_fallback) std::fprintf(stderr, "%d tensor(s) needed a fallback type\n", rep.n_fallback);
    std::fprintf(stderr, "wrote %s (%s) in %.2f s with %d thread(s)\n", pos[1].c_str(), pos[2].c_str(), secs, opts.threads);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-quantize", [&] { return run(argc, argv); });
}
