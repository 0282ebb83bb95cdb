// llmt-bench: a drop-in for llama-bench (same flags and JSON fields) with bandwidth, load time and peak RSS columns
#include <llmt/llmt.hpp>

#include "membw.hpp"
#include "../examples/cli_common.hpp"

#include <fmt/format.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

struct params {
    std::vector<std::string> models;
    std::vector<int> n_prompt{512};
    std::vector<int> n_gen{128};
    std::vector<int> n_depth{0};  // tokens already in the KV cache when a test starts (llama-bench's -d)
    std::vector<std::pair<int, int>> n_pg;
    std::vector<int> threads;
    std::vector<int> n_batch{2048};
    std::vector<int> mmap{1};  // 1: mmap the file; 0: read it into (huge-page) memory
    std::vector<int> repack{1};  // 1: load_options::repack (the default); 0: matrices stay in the file's layout
    std::string kv_type;  // -ctk / -ctv: the KV cache element ("" = the library's default, f16)
    int reps = 5;
    std::string output = "md";
    bool warmup = true;
    bool measure_bw = true;
    bool verbose = false;
};

constexpr const char* usage_text =
    "usage: llmt-bench [-m MODEL]... [-p N,N] [-n N,N] [-pg PP,TG] [-t T,T] [-b N] [-mmp 0|1] [--repack 0|1]\n"
    "                  [-ctk TYPE] [-d N,N] [-r REPS] [-o md|csv|json|jsonl] [--no-warmup] [--no-bandwidth] [-v]\n"
    "A drop-in for llama-bench: lists take commas and ranges FIRST-LAST or FIRST-LAST+STEP.\n"
    "  -m, --model FILE        GGUF model, repeatable or comma-separated (default: the environment variable LLMT_MODEL)\n"
    "  -p, --n-prompt N        prompt sizes (default 512)\n"
    "  -n, --n-gen N           generation sizes (default 128)\n"
    "  -pg PP,TG               prompt then generation, ';'-separated pairs (default: none)\n"
    "  -ctk, -ctv TYPE         KV cache type f32, f16 or q8_0, one for K and V (default f16)\n"
    "  -d, --n-depth N         tokens already in the KV cache when each test starts, untimed (default 0)\n"
    "  -t, --threads N         threads, 1 to 512 (default: all cores)\n"
    "  -b, --batch-size N      prompt tokens evaluated together, at least 1 (default 2048)\n"
    "  -mmp, --mmap 0|1        1: map the file, 0: read it into memory (default 1)\n"
    "  --repack 0|1            1: decode layouts packed at load, 0: the file's layout (default 1)\n"
    "  -r, --repetitions N     runs per test, at least 1 (default 5)\n"
    "  -o, --output FORMAT     md, csv, json or jsonl (default md)\n"
    "  --no-warmup             no warm-up run before each test\n"
    "  --no-bandwidth          do not measure the memory bandwidth (no bw columns)\n"
    "  -v, --verbose           one line per repetition on stderr\n"
    "  -h, --help              this help\n"
    "Exit status: 0 done, 1 failed, 2 wrong command line.\n";

[[noreturn]] void usage_error(const std::string& msg) { throw llmt_cli::usage_error(msg); }

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (;;) {
        const auto k = s.find(sep, start);
        out.push_back(s.substr(start, k == std::string::npos ? std::string::npos : k - start));
        if (k == std::string::npos) return out;
        start = k + 1;
    }
}

int to_int(const std::string& s, const char* flag) {
    // at most 2^24 (prompt and generation sizes, batches, threads, repetitions): past it a run never ends
    return llmt_cli::parse_int<int>(s, flag, 0, 1 << 24);
}

/// Comma lists and llama-bench's ranges "first-last" / "first-last+step".
std::vector<int> int_list(const std::string& s, const char* flag) {
    std::vector<int> out;
    for (const auto& part : split(s, ',')) {
        const auto dash = part.find('-');
        if (dash == std::string::npos || dash == 0) {
            out.push_back(to_int(part, flag));
            continue;
        }
        const auto plus = part.find('+', dash);
        const int first = to_int(part.substr(0, dash), flag);
        const int last = to_int(part.substr(dash + 1, plus == std::string::npos ? std::string::npos : plus - dash - 1), flag);
        const int step = plus == std::string::npos ? 1 : to_int(part.substr(plus + 1), flag);
        if (step <= 0 || last < first) usage_error(fmt::format("bad range '{}' for {}", part, flag));
        if ((last - first) / step >= 4096) usage_error(fmt::format("range '{}' for {} has more than 4096 values", part, flag));
        for (int v = first; v <= last; v += step) out.push_back(v);
    }
    return out;
}

params parse(int argc, char** argv) {
    params p;
    bool p_set = false, n_set = false;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) usage_error(fmt::format("{} needs a value", a));
            return argv[++i];
        };
        if (a == "-m" || a == "--model") {
            for (auto& m : split(next(), ',')) p.models.push_back(m);
        } else if (a == "-p" || a == "--n-prompt") {
            p.n_prompt = int_list(next(), "-p");
            p_set = true;
        } else if (a == "-n" || a == "--n-gen") {
            p.n_gen = int_list(next(), "-n");
            n_set = true;
        } else if (a == "-pg") {
            for (const auto& pair : split(next(), ';')) {
                const auto v = split(pair, ',');
                if (v.size() != 2) usage_error(fmt::format("-pg expects PP,TG, got '{}'", pair));
                p.n_pg.emplace_back(to_int(v[0], "-pg"), to_int(v[1], "-pg"));
            }
        } else if (a == "-t" || a == "--threads") {
            p.threads = int_list(next(), "-t");
        } else if (a == "-b" || a == "--batch-size") {
            p.n_batch = int_list(next(), "-b");
        } else if (a == "-mmp" || a == "--mmap") {
            p.mmap = int_list(next(), "-mmp");
            for (int v : p.mmap)
                if (v != 0 && v != 1) usage_error(fmt::format("-mmp expects 0 or 1, got {}", v));
        } else if (a == "--repack") {
            p.repack = int_list(next(), "--repack");
            for (int v : p.repack)
                if (v != 0 && v != 1) usage_error(fmt::format("--repack expects 0 or 1, got {}", v));
        } else if (a == "-ctk" || a == "--cache-type-k" || a == "-ctv" || a == "--cache-type-v") {
            const std::string t = next();
            if (!p.kv_type.empty() && p.kv_type != t)
                usage_error(fmt::format("-ctk/-ctv: {} and {} differ: llmt keeps K and V in one type", p.kv_type, t));
            try {
                (void)llmt::parse_kv_type(t);
            } catch (const llmt::error& e) {
                usage_error(fmt::format("-ctk/-ctv: {}", e.what()));
            }
            p.kv_type = t;
        } else if (a == "-d" || a == "--n-depth") {
            p.n_depth = int_list(next(), "-d");
        } else if (a == "-r" || a == "--repetitions") {
            p.reps = to_int(next(), "-r");
        } else if (a == "-o" || a == "--output") {
            p.output = next();
            if (p.output != "md" && p.output != "csv" && p.output != "json" && p.output != "jsonl")
                usage_error(fmt::format("-o expects md, csv, json or jsonl, got '{}'", p.output));
        } else if (a == "--no-warmup") {
            p.warmup = false;
        } else if (a == "--no-bandwidth") {
            p.measure_bw = false;
        } else if (a == "-v" || a == "--verbose") {
            p.verbose = true;
        } else if (a == "-h" || a == "--help") {
            std::fputs(usage_text, stdout);
            throw llmt_cli::exit_request{0};
        } else {
            usage_error(fmt::format("unknown argument '{}'", a));
        }
    }
    (void)p_set;
    (void)n_set;
    if (p.models.empty()) p.models.push_back(llmt_cli::resolve_model(""));
    for (const auto& m : p.models) llmt_cli::check_input_file(m, "model");
    if (p.threads.empty()) p.threads.push_back(std::max(1, int(std::thread::hardware_concurrency())));
    if (p.reps < 1) usage_error("-r must be at least 1");
    for (int t : p.threads)
        if (t < 1 || t > 512) usage_error(fmt::format("-t values must be from 1 to 512, got {}", t));
    for (int b : p.n_batch)
        if (b < 1) usage_error(fmt::format("-b values must be at least 1, got {}", b));
    return p;
}

// ---- machine facts measured in this run ----

/// Read bandwidth of this machine (bench/membw.hpp, shared with llmt-kernels), measured by a child
/// process forked before any model is loaded, so that its buffer does not count in this process's
/// peak RSS and no thread pool is forked. The parent asks for passes through a pipe and waits.
class bandwidth_child {
public:
    bandwidth_child() {
        int to_child[2], to_parent[2];
        if (::pipe(to_child) != 0) return;
        if (::pipe(to_parent) != 0) {
            ::close(to_child[0]);
            ::close(to_child[1]);
            return;
        }
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(to_child[1]);
            ::close(to_parent[0]);
            serve(to_child[0], to_parent[1]);
            ::_exit(0);
        }
        ::close(to_child[0]);
        ::close(to_parent[1]);
        if (pid_ < 0) {
            ::close(to_child[1]);
            ::close(to_parent[0]);
            return;
        }
        out_ = to_child[1];
        in_ = to_parent[0];
    }
    bandwidth_child(const bandwidth_child&) = delete;
    bandwidth_child& operator=(const bandwidth_child&) = delete;
    ~bandwidth_child() {
        if (out_ >= 0) ::close(out_);  // the child sees end of file and exits
        if (in_ >= 0) ::close(in_);
        if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
    }

    /// Bytes/s of the best of `passes` passes over 1 GiB with n_threads; 0 if the child failed.
    double measure(int n_threads, int passes) {
        double r = 0;
        const int req[2] = {n_threads, passes};
        if (out_ < 0 || ::write(out_, req, sizeof req) != sizeof req || ::read(in_, &r, sizeof r) != sizeof r) return 0;
        return r;
    }

private:
    static void serve(int in, int out) {
        llmt_bench::read_meter meter;
        int req[2];
        while (::read(in, req, sizeof req) == sizeof req) {
            const double r = meter.measure(req[0], req[1]);
            if (::write(out, &r, sizeof r) != sizeof r) return;
        }
    }
    pid_t pid_ = -1;
    int out_ = -1, in_ = -1;
};

/// Resets the kernel's peak-RSS counter of this process (Linux: clear_refs 5).
void reset_peak_rss() {
    std::ofstream f("/proc/self/clear_refs");
    if (f) f << "5";
}
/// Peak resident set size in bytes since the last reset.
std::uint64_t peak_rss_bytes() {
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return std::uint64_t(ru.ru_maxrss) * 1024;
}

std::string cpu_name() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) {
            const auto k = line.find(':');
            return k == std::string::npos ? line : line.substr(k + 2);
        }
    return "unknown";
}

// ---- model facts ----

std::string ftype_name(std::uint32_t ftype) {
    // llama.cpp's llama_ftype values and its names for them.
    switch (ftype) {
        case 0: return "all F32";
        case 1: return "F16";
        case 2: return "Q4_0";
        case 3: return "Q4_1";
        case 7: return "Q8_0";
        case 8: return "Q5_0";
        case 9: return "Q5_1";
        case 10: return "Q2_K - Medium";
        case 11: return "Q3_K - Small";
        case 12: return "Q3_K - Medium";
        case 13: return "Q3_K - Large";
        case 14: return "Q4_K - Small";
        case 15: return "Q4_K - Medium";
        case 16: return "Q5_K - Small";
        case 17: return "Q5_K - Medium";
        case 18: return "Q6_K";
        case 25: return "IQ4_NL - 4.5 bpw";
        case 30: return "IQ4_XS - 4.25 bpw";
        case 32: return "BF16";
        case 36: return "TQ1_0 - 1.69 bpw ternary";
        case 37: return "TQ2_0 - 2.06 bpw ternary";
        default: return fmt::format("ftype {}", ftype);
    }
}

std::string size_label(std::uint64_t n_params) {
    if (n_params >= 1000000000ull) return fmt::format("{}B", (n_params + 500000000ull) / 1000000000ull);
    if (n_params >= 1000000ull) return fmt::format("{}M", (n_params + 500000ull) / 1000000ull);
    return fmt::format("{}K", (n_params + 500ull) / 1000ull);
}

struct model_facts {
    std::string type;
    std::uint64_t size = 0;      // bytes of all tensors
    std::uint64_t n_params = 0;  // elements of all tensors
    std::uint64_t bytes_per_token = 0;  // weight bytes a decode step reads
};

model_facts facts_of(const llmt::io::gguf_file& g) {
    model_facts f;
    const auto* emb = g.find_tensor("token_embd.weight");
    const bool tied = g.find_tensor("output.weight") == nullptr;
    for (const auto& t : g.tensors()) {
        f.size += t.n_bytes;
        f.n_params += t.n_elements;
        // the embedding table is gathered one row per token, unless it doubles as the output matrix
        if (&t == emb && !tied) f.bytes_per_token += t.row_bytes();
        else f.bytes_per_token += t.n_bytes;
    }
    const std::string arch(g.get_string("general.architecture").value_or("?"));
    const auto ftype = g.get<std::uint32_t>("general.file_type");
    f.type = fmt::format("{} {} {}", arch, size_label(f.n_params), ftype ? ftype_name(*ftype) : std::string("?"));
    return f;
}

// ---- one test ----

struct result {
    std::string model_filename;
    model_facts facts;
    int n_batch = 0, n_threads = 0, n_prompt = 0, n_gen = 0, n_depth = 0;
    bool use_mmap = true;
    bool repack = true;
    std::vector<double> samples_ns;
    double load_seconds = 0;
    double bandwidth = 0;  // bytes/s, measured with n_threads
    std::vector<double> paired;  // decode: bytes/s of the read passes made between its tokens
    std::uint64_t peak_rss = 0;
    std::string test_time;

    [[nodiscard]] int n_tokens() const { return n_prompt + n_gen; }
    [[nodiscard]] std::vector<double> samples_ts() const {
        std::vector<double> ts;
        for (double ns : samples_ns) ts.push_back(1e9 * n_tokens() / ns);
        return ts;
    }
    static double avg(const std::vector<double>& v) { return v.empty() ? 0 : std::accumulate(v.begin(), v.end(), 0.0) / double(v.size()); }
    static double stddev(const std::vector<double>& v) {
        if (v.size() < 2) return 0;
        const double m = avg(v);
        double s = 0;
        for (double x : v) s += (x - m) * (x - m);
        return std::sqrt(s / double(v.size() - 1));
    }
    [[nodiscard]] std::string test_name() const {
        const std::string depth = n_depth > 0 ? fmt::format(" @ d{}", n_depth) : std::string();
        if (n_prompt > 0 && n_gen == 0) return fmt::format("pp{}{}", n_prompt, depth);
        if (n_gen > 0 && n_prompt == 0) return fmt::format("tg{}{}", n_gen, depth);
        return fmt::format("pp{}+tg{}{}", n_prompt, n_gen, depth);
    }
    /// Fraction of the bandwidth bound reached: only meaningful for pure decode tests.
    [[nodiscard]] double bw_fraction() const {
        if (n_prompt != 0 || bandwidth <= 0) return 0;
        return avg(samples_ts()) * double(facts.bytes_per_token) / bandwidth;
    }
    /// Decode: median rate of the read passes made between its tokens (bytes/s; 0 if none). The
    /// median: a pass takes ~0.1 s, a repetition seconds, and one pass the host slowed down should
    /// not move the bound.
    [[nodiscard]] double paired_bandwidth() const {
        if (paired.empty()) return 0;
        std::vector<double> v = paired;
        std::sort(v.begin(), v.end());
        const std::size_t h = v.size() / 2;
        return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
    }
    /// Fraction of the bound taken from the paired passes: mean tokens/s against their median rate.
    [[nodiscard]] double paired_bw_fraction() const {
        const double bw = paired_bandwidth();
        return n_prompt == 0 && bw > 0 ? avg(samples_ts()) * double(facts.bytes_per_token) / bw : 0;
    }
};

void run_prompt(llmt::model_base& m, int n_prompt, int n_batch, std::mt19937& rng, std::vector<float>& logits) {
    std::vector<llmt::token_id> toks(static_cast<std::size_t>(n_prompt));
    std::uniform_int_distribution<int> dist(0, int(m.n_vocab()) - 1);
    for (auto& t : toks) t = dist(rng);
    if (!toks.empty()) toks[0] = llmt::token_id(m.gguf().get_or<std::uint32_t>("tokenizer.ggml.bos_token_id", 1) % std::uint32_t(m.n_vocab()));
    for (int i = 0; i < n_prompt; i += n_batch) {
        const int n = std::min(n_batch, n_prompt - i);
        m.forward(std::span<const llmt::token_id>(toks.data() + i, std::size_t(n)), m.n_past(), logits, false);
    }
}

/// Generates n_gen tokens and returns the nanoseconds spent generating them. Before every
/// `pause_every`-th token (0: never) it calls pause(), outside the timed part.
template <typename Pause>
double run_gen(llmt::model_base& m, int n_gen, std::mt19937& rng, std::vector<float>& logits, int pause_every, Pause&& pause) {
    std::uniform_int_distribution<int> dist(0, int(m.n_vocab()) - 1);
    llmt::token_id t = llmt::token_id(m.gguf().get_or<std::uint32_t>("tokenizer.ggml.bos_token_id", 1) % std::uint32_t(m.n_vocab()));
    double ns = 0;
    auto s0 = clock_type::now();
    for (int i = 0; i < n_gen; ++i) {
        if (pause_every > 0 && i % pause_every == 0) {
            ns += std::chrono::duration<double, std::nano>(clock_type::now() - s0).count();
            pause();
            s0 = clock_type::now();
        }
        m.forward(std::span<const llmt::token_id>(&t, 1), m.n_past(), logits, false);
        t = dist(rng);
    }
    return ns + std::chrono::duration<double, std::nano>(clock_type::now() - s0).count();
}
double run_gen(llmt::model_base& m, int n_gen, std::mt19937& rng, std::vector<float>& logits) {
    return run_gen(m, n_gen, rng, logits, 0, [] {});
}

std::string now_iso() {
    const std::time_t t = std::time(nullptr);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
}

// ---- output ----

std::string json_escape(const std::string& s) {
    std::string o;
    for (char c : s) {
        if (c == '"' || c == '\\') o += '\\', o += c;
        else if (static_cast<unsigned char>(c) < 0x20) o += fmt::format("\\u{:04x}", c);
        else o += c;
    }
    return o;
}

template <typename T>
std::string json_array(const std::vector<T>& v) {
    std::string o = "[";
    for (std::size_t i = 0; i < v.size(); ++i) o += fmt::format("{}{}", i ? ", " : "", v[i]);
    return o + "]";
}

std::string to_json(const result& r, const std::string& cpu, bool pretty) {
    const auto ts = r.samples_ts();
    std::vector<std::uint64_t> ns;
    for (double x : r.samples_ns) ns.push_back(std::uint64_t(x));
    const std::vector<std::pair<std::string, std::string>> fields = {
        {"build_commit", "\"llmt\""},
        {"build_number", "0"},
        {"cpu_info", fmt::format("\"{}\"", json_escape(cpu))},
        {"gpu_info", "\"\""},
        {"backends", "\"CPU\""},
        {"model_filename", fmt::format("\"{}\"", json_escape(r.model_filename))},
        {"model_type", fmt::format("\"{}\"", json_escape(r.facts.type))},
        {"model_size", fmt::format("{}", r.facts.size)},
        {"model_n_params", fmt::format("{}", r.facts.n_params)},
        {"n_batch", fmt::format("{}", r.n_batch)},
        {"n_ubatch", fmt::format("{}", r.n_batch)},
        {"n_threads", fmt::format("{}", r.n_threads)},
        {"type_k", "\"f32\""},
        {"type_v", "\"f32\""},
        {"n_gpu_layers", "0"},
        {"flash_attn", "false"},
        {"use_mmap", r.use_mmap ? "true" : "false"},
        {"repack", r.repack ? "true" : "false"},
        {"n_prompt", fmt::format("{}", r.n_prompt)},
        {"n_gen", fmt::format("{}", r.n_gen)},
        {"n_depth", fmt::format("{}", r.n_depth)},
        {"test_time", fmt::format("\"{}\"", r.test_time)},
        {"avg_ns", fmt::format("{}", std::uint64_t(result::avg(r.samples_ns)))},
        {"stddev_ns", fmt::format("{}", std::uint64_t(result::stddev(r.samples_ns)))},
        {"avg_ts", fmt::format("{:.6f}", result::avg(ts))},
        {"stddev_ts", fmt::format("{:.6f}", result::stddev(ts))},
        {"samples_ns", json_array(ns)},
        {"samples_ts", json_array(ts)},
        {"bytes_per_token", fmt::format("{}", r.facts.bytes_per_token)},
        {"mem_read_bw_gbps", fmt::format("{:.3f}", r.bandwidth / 1e9)},
        {"bw_fraction", fmt::format("{:.4f}", r.bw_fraction())},
        {"paired_bw_gbps", fmt::format("{:.3f}", r.paired_bandwidth() / 1e9)},
        {"paired_bw_fraction", fmt::format("{:.4f}", r.paired_bw_fraction())},
        {"load_seconds", fmt::format("{:.6f}", r.load_seconds)},
        {"peak_rss_bytes", fmt::format("{}", r.peak_rss)},
    };
    std::string o = pretty ? "  {\n" : "{";
    for (std::size_t i = 0; i < fields.size(); ++i) {
        o += pretty ? fmt::format("    \"{}\": {}{}\n", fields[i].first, fields[i].second, i + 1 < fields.size() ? "," : "")
                    : fmt::format("\"{}\": {}{}", fields[i].first, fields[i].second, i + 1 < fields.size() ? ", " : "");
    }
    return o + (pretty ? "  }" : "}");
}

bool g_mmap_column = false;  // as llama-bench: an mmap column only when some test does not map
bool g_repack_column = false;  // a repack column only when some test does not repack

void print_md_header() {
    const char* mmap = g_mmap_column ? " mmap |" : "";
    const char* repack = g_repack_column ? " repack |" : "";
    std::printf("| model | size | params | backend | threads |%s%s test | t/s | B/token | read BW GB/s | of bound | paired BW GB/s | of paired | load s | peak RSS MiB |\n",
                mmap, repack);
    std::printf("| --- | ---: | ---: | --- | ---: |%s%s ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n", g_mmap_column ? " ---: |" : "",
                g_repack_column ? " ---: |" : "");
}

void print_md(const result& r) {
    const auto ts = r.samples_ts();
    const std::string frac = r.n_prompt == 0 && r.bandwidth > 0 ? fmt::format("{:.1f}%", 100 * r.bw_fraction()) : "-";
    const std::string paired = r.paired_bandwidth() > 0 ? fmt::format("{:.2f} | {:.1f}%", r.paired_bandwidth() / 1e9, 100 * r.paired_bw_fraction()) : "- | -";
    std::string threads_col = fmt::format("{}", r.n_threads);
    if (g_mmap_column) threads_col += fmt::format(" | {}", r.use_mmap ? 1 : 0);
    if (g_repack_column) threads_col += fmt::format(" | {}", r.repack ? 1 : 0);
    std::printf("| %s | %.2f MiB | %.2f %s | CPU | %s | %s | %.2f ± %.2f | %.2f MiB | %.2f | %s | %s | %.3f | %.1f |\n",
                r.facts.type.c_str(), double(r.facts.size) / (1024.0 * 1024.0),
                r.facts.n_params >= 1000000000ull ? double(r.facts.n_params) / 1e9 : double(r.facts.n_params) / 1e6,
                r.facts.n_params >= 1000000000ull ? "B" : "M", threads_col.c_str(), r.test_name().c_str(), result::avg(ts),
                result::stddev(ts), double(r.facts.bytes_per_token) / (1024.0 * 1024.0), r.bandwidth / 1e9, frac.c_str(),
                paired.c_str(), r.load_seconds, double(r.peak_rss) / (1024.0 * 1024.0));
    std::fflush(stdout);
}

void print_csv(const result& r, const std::string& cpu, bool header) {
    const auto ts = r.samples_ts();
    if (header)
        std::printf("build_commit,cpu_info,backends,model_filename,model_type,model_size,model_n_params,n_batch,n_threads,"
                    "n_prompt,n_gen,test_time,avg_ns,stddev_ns,avg_ts,stddev_ts,bytes_per_token,mem_read_bw_gbps,"
                    "bw_fraction,load_seconds,peak_rss_bytes,use_mmap,repack,paired_bw_gbps,paired_bw_fraction\n");
    std::printf("\"llmt\",\"%s\",\"CPU\",\"%s\",\"%s\",%llu,%llu,%d,%d,%d,%d,\"%s\",%llu,%llu,%.6f,%.6f,%llu,%.3f,%.4f,%.6f,%llu,%s,%s,%.3f,%.4f\n",
                cpu.c_str(), r.model_filename.c_str(), r.facts.type.c_str(), (unsigned long long)r.facts.size,
                (unsigned long long)r.facts.n_params, r.n_batch, r.n_threads, r.n_prompt, r.n_gen, r.test_time.c_str(),
                (unsigned long long)result::avg(r.samples_ns), (unsigned long long)result::stddev(r.samples_ns),
                result::avg(ts), result::stddev(ts), (unsigned long long)r.facts.bytes_per_token, r.bandwidth / 1e9,
                r.bw_fraction(), r.load_seconds, (unsigned long long)r.peak_rss, r.use_mmap ? "true" : "false",
                r.repack ? "true" : "false", r.paired_bandwidth() / 1e9, r.paired_bw_fraction());
    std::fflush(stdout);
}

}  // namespace

int run(int argc, char** argv) {
    const params p = parse(argc, argv);
    const std::string cpu = cpu_name();

    // tests in llama-bench's order: prompt sizes, then generation sizes, then pp+tg pairs
    std::vector<std::pair<int, int>> tests;
    for (int n : p.n_prompt)
        if (n > 0) tests.emplace_back(n, 0);
    for (int n : p.n_gen)
        if (n > 0) tests.emplace_back(0, n);
    for (auto pg : p.n_pg) tests.push_back(pg);

    std::vector<double> bandwidth(std::size_t(*std::max_element(p.threads.begin(), p.threads.end()) + 1), 0.0);
    std::unique_ptr<bandwidth_child> meter;
    constexpr int paired_every = 16;
    if (p.measure_bw) {
        meter = std::make_unique<bandwidth_child>();
        for (int t : p.threads)
            if (bandwidth[std::size_t(t)] == 0) bandwidth[std::size_t(t)] = meter->measure(t, 6);
    }

    bool first = true;
    g_mmap_column = std::find(p.mmap.begin(), p.mmap.end(), 0) != p.mmap.end();
    g_repack_column = std::find(p.repack.begin(), p.repack.end(), 0) != p.repack.end();
    if (p.output == "md") print_md_header();
    if (p.output == "json") std::printf("[\n");
    for (const auto& path : p.models) {
        for (int threads : p.threads) {
            for (int n_batch : p.n_batch) for (int mmp : p.mmap) for (int rpk : p.repack) {
                reset_peak_rss();
                const auto t0 = clock_type::now();
                std::unique_ptr<llmt::model_base> m;
                int max_ctx = 0;
                for (auto [pp, tg] : tests) max_ctx = std::max(max_ctx, pp + tg);
                max_ctx += *std::max_element(p.n_depth.begin(), p.n_depth.end());
                try {
                    llmt::load_options opt;
                    opt.threads = threads;
                    opt.batch = std::max(1, std::min(n_batch, std::max(1, max_ctx)));
                    opt.context = std::max(max_ctx, 1);
                    opt.mode = mmp ? llmt::io::load_mode::mmap_or_read : llmt::io::load_mode::read_only;
                    opt.repack = rpk != 0;
                    if (!p.kv_type.empty()) opt.kv_type = llmt::parse_kv_type(p.kv_type);
                    m = llmt::load_any(path, opt);
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "llmt-bench: %s\n", e.what());
                    return 1;
                }
                const double load_s = std::chrono::duration<double>(clock_type::now() - t0).count();
                const model_facts facts = facts_of(m->gguf());
                std::vector<float> logits(std::size_t(m->n_vocab()));
                std::mt19937 rng(1234);
                for (const int depth : p.n_depth)
                for (auto [pp, tg] : tests) {
                    result r;
                    r.n_depth = depth;
                    // the cache holds `depth` tokens before the timed part: filled untimed, every repetition
                    auto fill = [&] {
                        m->clear();
                        if (depth > 0) run_prompt(*m, depth, n_batch, rng, logits);
                    };
                    r.model_filename = path;
                    r.facts = facts;
                    r.n_batch = n_batch;
                    r.n_threads = threads;
                    r.use_mmap = mmp != 0;
                    r.repack = rpk != 0;
                    r.n_prompt = pp;
                    r.n_gen = tg;
                    r.load_seconds = load_s;
                    r.bandwidth = bandwidth[std::size_t(threads)];
                    r.test_time = now_iso();
                    if (p.warmup) {
                        fill();
                        if (pp > 0) run_prompt(*m, pp, n_batch, rng, logits);
                        else run_gen(*m, 1, rng, logits);
                    }
                    // decode: a read pass of the bandwidth meter before every 16th token, outside the
                    // timed part, gives a bound measured in the same seconds as the tokens
                    auto paired_pass = [&] {
                        const auto b = meter->measure(threads, 1);
                        if (b > 0) r.paired.push_back(b);
                    };
                    for (int rep = 0; rep < p.reps; ++rep) {
                        fill();
                        if (pp == 0 && meter) {
                            r.samples_ns.push_back(run_gen(*m, tg, rng, logits, paired_every, paired_pass));
                        } else {
                            const auto s0 = clock_type::now();
                            if (pp > 0) run_prompt(*m, pp, n_batch, rng, logits);
                            if (tg > 0) run_gen(*m, tg, rng, logits);
                            r.samples_ns.push_back(std::chrono::duration<double, std::nano>(clock_type::now() - s0).count());
                        }
                        if (p.verbose) std::fprintf(stderr, "llmt-bench: %s %s rep %d: %.3f ms\n", path.c_str(), r.test_name().c_str(), rep, r.samples_ns.back() / 1e6);
                    }
                    r.peak_rss = peak_rss_bytes();
                    if (p.output == "md") print_md(r);
                    else if (p.output == "csv") print_csv(r, cpu, first);
                    else if (p.output == "json") std::printf("%s%s", first ? "" : ",\n", to_json(r, cpu, true).c_str());
                    else std::printf("%s\n", to_json(r, cpu, false).c_str());
                    std::fflush(stdout);
                    first = false;
                }
            }
        }
    }
    if (p.output == "json") std::printf("\n]\n");
    return 0;
}

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-bench", [&] { return run(argc, argv); });
}
