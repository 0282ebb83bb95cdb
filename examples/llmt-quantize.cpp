// llmt-quantize: converts a GGUF file's tensors to a quantization type or llama.cpp mixture (Q4_K_M, ...)
#include <llmt/llmt.hpp>
#include <llmt/quant/quantize_file.hpp>
#include <llmt/quant/recipe.hpp>

#include <algorithm>
#include <cctype>
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
        "  --threads N                 threads that quantize rows (default: all cores)\n"
        "  --tensor-type PATTERN=TYPE  tensors whose name matches the regex PATTERN get TYPE (repeatable)\n"
        "  --output-tensor-type TYPE   type of output.weight\n"
        "  --token-embedding-type TYPE type of token_embd.weight\n"
        "  --leave-output-tensor       keep output.weight as it is\n"
        "  --allow-requantize          allow converting tensors that are already quantized\n"
        "  --override-kv KEY=TYPE:VAL  set metadata (TYPE: int, float, bool, str); an existing key keeps its place\n"
        "  -h, --help\n"
        "\n"
        "Decisions follow llama.cpp's llama-quantize (without an importance matrix); a row length that fits\n"
        "no block of the chosen type falls back (K-quants to Q5_0/Q5_1/Q8_0, then F16).\n");
}

[[noreturn]] void die(const std::string& msg) {
    std::fprintf(stderr, "llmt-quantize: %s\n", msg.c_str());
    std::exit(1);
}

q::qtype parse_qtype(std::string_view s) {
    const auto t = q::from_name(s);
    if (!t || !q::is_sized(std::uint32_t(*t))) die("unknown tensor type '" + std::string(s) + "'");
    return *t;
}

llmt::io::gguf_owned_value parse_kv_value(const std::string& spec, std::string& key) {
    // KEY=TYPE:VALUE, as llama.cpp's --override-kv
    const auto eq = spec.find('=');
    const auto colon = eq == std::string::npos ? std::string::npos : spec.find(':', eq);
    if (eq == std::string::npos || eq == 0 || colon == std::string::npos) die("--override-kv wants KEY=TYPE:VALUE, got '" + spec + "'");
    key = spec.substr(0, eq);
    const std::string type = spec.substr(eq + 1, colon - eq - 1), val = spec.substr(colon + 1);
    using V = llmt::io::gguf_owned_value;
    try {
        if (type == "int") return V::of(std::uint32_t(std::llabs(std::stoll(val))));  // llama.cpp stores ints as u32
        if (type == "float") return V::of(float(std::stod(val)));
        if (type == "bool") {
            if (val == "true" || val == "false") return V::of(val == "true");
        }
        if (type == "str") return V::of(std::string_view(val));
    } catch (const std::exception&) {
    }
    die("--override-kv: cannot read '" + val + "' as " + type);
}

std::string mib(std::uint64_t bytes) { return fmt::format("{:.2f} MiB", double(bytes) / (1024.0 * 1024.0)); }

}  // namespace

int main(int argc, char** argv) {
    q::quantize_file_options opts;
    opts.threads = int(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::string> pos;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) die(a + " needs a value");
            return argv[++i];
        };
        if (a == "-h" || a == "--help") {
            usage(stdout);
            return 0;
        } else if (a == "--pure") {
            opts.recipe.pure = true;
        } else if (a == "--threads" || a == "-t") {
            const std::string v = next();
            char* end = nullptr;
            const long n = std::strtol(v.c_str(), &end, 10);
            if (end == v.c_str() || *end || n < 1 || n > 1024) die("--threads wants a count from 1 to 1024, got '" + v + "'");
            opts.threads = int(n);
        } else if (a == "--tensor-type") {
            const std::string v = next();
            const auto eq = v.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == v.size()) die("--tensor-type wants PATTERN=TYPE, got '" + v + "'");
            std::string pat = v.substr(0, eq);
            std::transform(pat.begin(), pat.end(), pat.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            opts.recipe.overrides.push_back({pat, parse_qtype(v.substr(eq + 1))});
        } else if (a == "--output-tensor-type") {
            opts.recipe.output_type = parse_qtype(next());
        } else if (a == "--token-embedding-type") {
            opts.recipe.token_embd_type = parse_qtype(next());
        } else if (a == "--leave-output-tensor") {
            opts.recipe.quantize_output = false;
        } else if (a == "--allow-requantize") {
            opts.allow_requantize = true;
        } else if (a == "--override-kv") {
            std::string key;
            auto v = parse_kv_value(next(), key);
            opts.kv_overrides.emplace_back(key, std::move(v));
        } else if (a.size() > 1 && a[0] == '-') {
            usage(stderr);
            die("unknown option " + a);
        } else {
            pos.push_back(a);
        }
    }
    if (pos.size() != 3) {
        usage(stderr);
        return 1;
    }
    const auto ft = q::ftype_from_name(pos[2]);
    if (!ft) die("unknown type '" + pos[2] + "' (see --help)");
    opts.recipe.file_type = *ft;

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
    } catch (const std::exception& e) {
        if (tty) std::fputc('\n', stderr);
        die(e.what());
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
