// llmt-kernels: memory read bandwidth, matvec GB/s (weights larger than the LLC; fraction of read passes interleaved with it) and matmul GFLOP/s per format and instruction set
#include <llmt/llmt.hpp>

#include "membw.hpp"
#include "../examples/cli_common.hpp"

#include <sys/mman.h>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace {
using namespace llmt;
using clock_type = std::chrono::steady_clock;

struct options {
    std::vector<quant::qtype> types;
    std::vector<std::pair<std::int64_t, std::int64_t>> sizes{{4096, 4096}, {14336, 4096}};
    std::vector<int> threads{1, 2};
    std::vector<std::int64_t> batches{32, 512};
    std::vector<simd::isa> isas;
    double min_time = 0.25;     // seconds per measurement
    std::size_t ws_bytes = 0;   // weight set of the matvec runs (0: twice the LLC, at least 256 MiB)
    std::string json;
    bool no_matmul = false, no_matvec = false;
    bool repack = true;         // matvec on the decode layout where the kernel has one (as models load)
};

std::vector<std::string> split(std::string_view s) {
    std::vector<std::string> out;
    std::size_t p = 0;
    while (p <= s.size()) {
        const auto q = std::min(s.find(',', p), s.size());
        if (q > p) out.emplace_back(s.substr(p, q - p));
        p = q + 1;
    }
    return out;
}

void usage() {
    std::puts(
        "usage: llmt-kernels [options]\n"
        "  --types q4_0,q8_0,...   formats (default: every format llmt implements)\n"
        "  --sizes 4096x4096,...   matvec/matmul shapes rows x cols (default 4096x4096,14336x4096)\n"
        "  --threads 1,2           thread counts (default 1,2)\n"
        "  --batches 32,512        matmul token counts (default 32,512)\n"
        "  --isa scalar,avx2,...   paths (default: every path this CPU runs)\n"
        "  --min-time S            seconds per measurement (default 0.25)\n"
        "  --ws-mb N               matvec weight set in MiB (default: 2 x LLC, >= 256)\n"
        "  --no-matmul / --no-matvec\n"
        "  --no-repack             matvec on the file's layout even where the kernel has a decode layout\n"
        "  --quick                 q4_0,q8_0,q4_K,q6_K,f16 at 4096x4096, batch 32, 0.1 s\n"
        "  --json FILE             one record per measurement (written beside FILE, renamed into place when complete)\n"
        "Exit status: 0 done, 1 failed, 2 wrong command line.");
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto next = [&]() -> std::string_view {
            if (i + 1 >= argc) llmt_cli::usage_fail("{} needs a value", a);
            return argv[++i];
        };
        if (a == "--types") {
            for (const auto& t : split(next())) {
                const auto q = quant::from_name(t);
                if (!q) llmt_cli::usage_fail("--types: unknown type {}", t);
                o.types.push_back(*q);
            }
        } else if (a == "--sizes") {
            o.sizes.clear();
            for (const auto& s : split(next())) {
                const auto x = s.find('x');
                if (x == std::string::npos) llmt_cli::usage_fail("--sizes: {} is not ROWSxCOLS", s);
                o.sizes.emplace_back(llmt_cli::parse_int<std::int64_t>(std::string_view(s).substr(0, x), "--sizes rows", 1, 1 << 20),
                                     llmt_cli::parse_int<std::int64_t>(std::string_view(s).substr(x + 1), "--sizes cols", 1, 1 << 20));
            }
        } else if (a == "--threads") {
            o.threads.clear();
            for (const auto& s : split(next())) o.threads.push_back(llmt_cli::parse_int<int>(s, "--threads", 1, 512));
        } else if (a == "--batches") {
            o.batches.clear();
            for (const auto& s : split(next())) o.batches.push_back(llmt_cli::parse_int<std::int64_t>(s, "--batches", 1, 1 << 16));
        } else if (a == "--isa") {
            for (const auto& s : split(next())) {
                try {
                    o.isas.push_back(simd::parse_isa(s));
                } catch (const llmt::error& e) {
                    throw llmt_cli::usage_error(fmt::format("--isa: {}", e.what()));
                }
            }
        } else if (a == "--min-time") {
            const std::string v(next());
            char* end = nullptr;
            o.min_time = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || !(o.min_time > 0 && o.min_time <= 3600))
                llmt_cli::usage_fail("--min-time wants seconds from 0 to 3600, got '{}'", v);
        } else if (a == "--ws-mb") {
            o.ws_bytes = std::size_t(llmt_cli::parse_int<std::int64_t>(next(), "--ws-mb", 1, 1 << 20)) << 20;
        } else if (a == "--json") {
            o.json = next();
        } else if (a == "--no-matmul") {
            o.no_matmul = true;
        } else if (a == "--no-matvec") {
            o.no_matvec = true;
        } else if (a == "--no-repack") {
            o.repack = false;
        } else if (a == "--quick") {
            o.types = {quant::qtype::q4_0, quant::qtype::q8_0, quant::qtype::q4_k, quant::qtype::q6_k, quant::qtype::f16};
            o.sizes = {{4096, 4096}};
            o.batches = {32};
            o.min_time = 0.1;
        } else if (a == "--help" || a == "-h") {
            usage();
            throw llmt_cli::exit_request{0};
        } else {
            llmt_cli::usage_fail("unknown option {}", a);
        }
    }
    if (o.types.empty())
        for_each_type(quant::all_formats::list{}, [&](auto t) { o.types.push_back(decltype(t)::type::id); });
    if (o.isas.empty())
        for (int i = 0; i < simd::isa_count; ++i)
            if (simd::isa(i) <= simd::best_isa()) o.isas.push_back(simd::isa(i));
    return o;
}

std::size_t llc_bytes() {
    for (int idx = 4; idx >= 0; --idx) {
        std::ifstream f(fmt::format("/sys/devices/system/cpu/cpu0/cache/index{}/size", idx));
        std::string s;
        if (!(f >> s) || s.empty()) continue;
        std::size_t v = std::stoull(s);
        if (s.back() == 'K') v <<= 10;
        if (s.back() == 'M') v <<= 20;
        return v;
    }
    return 32u << 20;
}

/// The matvec weight set: 2 MiB-aligned with transparent huge pages asked for, as membw's buffer, so
/// that bw% compares like with like.
struct aligned_buffer {
    std::unique_ptr<std::byte[], void (*)(std::byte*)> p{nullptr, [](std::byte* b) { ::operator delete[](b, std::align_val_t(2 << 20)); }};
    std::size_t size = 0;
    explicit aligned_buffer(std::size_t n) : size(n) {
        p.reset(static_cast<std::byte*>(::operator new[](n, std::align_val_t(2 << 20))));
#ifdef MADV_HUGEPAGE
        ::madvise(p.get(), n, MADV_HUGEPAGE);
#endif
        std::memset(p.get(), 0, n);  // touch every page now
    }
    std::byte* data() const { return p.get(); }
};

struct record {
    std::string kernel, type, isa;
    std::int64_t rows = 0, cols = 0, batch = 0;
    int threads = 0;
    double seconds = 0, gbps = 0, bw_fraction = 0, gflops = 0, speedup = 0;
    double bw_gbps = 0;                             // read bandwidth the fraction is taken of
    double gbps_mean = 0, bw_fraction_mean = 0;     // matvec: mean over the rounds, of the mean pass
    bool packed = false;  // matvec on the decode layout (kernels/pack.hpp)
};

/// A random matrix of type t: a 64-row block quantized with the reference quantizer, repeated.
void fill_matrix(const quant::format_entry& fe, std::byte* dst, std::int64_t rows, std::int64_t cols, std::uint32_t seed) {
    const std::int64_t base_rows = std::min<std::int64_t>(rows, 64);
    const std::size_t row_bytes = quant::row_size(fe.type, std::size_t(cols));
    std::mt19937 rng(seed);
    std::normal_distribution<float> nd(0.0f, 1.0f);
    std::vector<float> src(static_cast<std::size_t>(cols));
    for (std::int64_t r = 0; r < base_rows; ++r) {
        for (auto& v : src) v = nd(rng);
        fe.quantize_row(src.data(), dst + std::size_t(r) * row_bytes, cols);
    }
    for (std::int64_t r = base_rows; r < rows; r += base_rows)
        std::memcpy(dst + std::size_t(r) * row_bytes, dst, row_bytes * std::size_t(std::min(base_rows, rows - r)));
}

std::string json_escape(const std::string& s) { return s; }  // names here are plain identifiers

}  // namespace

int run(int argc, char** argv) {
    const options o = parse(argc, argv);
    const std::size_t llc = llc_bytes();
    const std::size_t ws = o.ws_bytes ? o.ws_bytes : std::max<std::size_t>(2 * llc, 256u << 20);
    std::vector<record> records;
    const int max_threads = *std::max_element(o.threads.begin(), o.threads.end());

    fmt::print("llmt-kernels: best isa {}, LLC {} MiB, matvec weight set {} MiB\n", simd::to_string(simd::best_isa()), llc >> 20, ws >> 20);
    aligned_buffer arena(ws);
    // matvec records take their bandwidth from passes of this meter next to them
    llmt_bench::read_meter meter(ws, std::clamp<std::size_t>(ws / 64, 4096, std::size_t(1) << 20));

    // 1. memory read bandwidth
    std::vector<double> bw(std::size_t(max_threads) + 1, 0.0);
    for (int t : o.threads) {
        bw[std::size_t(t)] = llmt_bench::read_bandwidth(t) / 1e9;
        fmt::print("read bandwidth, {} thread{}: {:.2f} GB/s\n", t, t > 1 ? "s" : "", bw[std::size_t(t)]);
        record r;
        r.kernel = "read";
        r.threads = t;
        r.gbps = bw[std::size_t(t)];
        r.bw_fraction = 1.0;
        r.bw_gbps = r.gbps;
        r.seconds = double(std::size_t(1) << 30) / (r.gbps * 1e9);
        r.cols = std::int64_t(1) << 30;
        records.push_back(r);
    }

    fmt::print("\n{:<7} {:<6} {:>11} {:>5} {:>3} {:<10} {:>9} {:>8} {:>6} {:>8} {:>8}\n", "kernel", "type", "rows x cols", "batch", "thr", "isa",
               "ms/call", "GB/s", "bw%", "GFLOP/s", "vs scal");
    std::vector<std::unique_ptr<thread_pool>> owned;
    for (int t : o.threads) owned.push_back(std::make_unique<thread_pool>(t));

    for (quant::qtype type : o.types) {
        const auto& fe = quant::resolve<quant::all_formats>(type, "bench");
        for (auto [rows, cols] : o.sizes) {
            if (cols % quant::block_size(type) != 0) continue;
            const std::size_t mat_bytes = quant::row_size(type, std::size_t(cols)) * std::size_t(rows);
            const std::size_t n_mats = std::max<std::size_t>(1, ws / mat_bytes);
            auto fill_arena = [&] {
                for (std::size_t m = 0; m < n_mats; ++m) {
                    if (m == 0) fill_matrix(fe, arena.data(), rows, cols, 1);
                    else std::memcpy(arena.data() + m * mat_bytes, arena.data(), mat_bytes);
                }
            };
            fill_arena();
            bool arena_packed = false;  // the matrices are in a level's decode layout
            std::vector<float> x(std::size_t(cols) * std::size_t(std::max<std::int64_t>(1, *std::max_element(o.batches.begin(), o.batches.end()))));
            std::mt19937 rng(5);
            std::normal_distribution<float> nd(0.0f, 1.0f);
            for (auto& v : x) v = nd(rng);
            std::vector<float> y(std::size_t(rows) * std::size_t(x.size() / std::size_t(cols)));

            // 2. matvec over the weight set, cycling so every matrix comes from memory
            if (!o.no_matvec) {
                for (std::size_t ti = 0; ti < o.threads.size(); ++ti) {
                    thread_pool& pool = *owned[ti];
                    double scalar_gbps = 0;
                    for (simd::isa level : o.isas) {
                        std::vector<kernels::weight_ref> ws_refs;
                        for (std::size_t m = 0; m < n_mats; ++m)
                            ws_refs.push_back(kernels::make_weight_ref<quant::all_formats>(type, arena.data() + m * mat_bytes, rows, cols, "bench", level));
                        if (ws_refs[0].kern->isa != level) continue;  // no hand path at this level: same as a lower one
                        const bool pack = o.repack && kernels::can_pack(ws_refs[0]);
                        if (arena_packed) fill_arena();  // back to the file's layout
                        arena_packed = pack;
                        if (pack)
                            for (auto& w : ws_refs) w = kernels::pack_weight(pool, w, const_cast<std::byte*>(w.data));  // in place
                        std::vector<std::byte> scratch(kernels::matmul_scratch_bytes(ws_refs[0], 1));
                        kernels::matvec(pool, ws_refs[0], x.data(), y.data(), scratch.data());  // warm the code
                        // Rounds of: one read pass of the bandwidth meter (same size, alignment and
                        // thread count as the weight set), then one sweep of matvec over every matrix of
                        // the weight set. Both sides see the same state of the machine; the fraction is
                        // best sweep / best pass (as STREAM reports), and mean / mean next to it.
                        double best_sweep = 0, kernel_seconds = 0, meter_best = 0, meter_inv = 0;
                        int rounds = 0;
                        while (rounds < 5 || (kernel_seconds < o.min_time && rounds < 1000)) {
                            const auto pass = meter.measure(pool.size(), 1);
                            meter_best = std::max(meter_best, pass);
                            meter_inv += 1.0 / pass;  // passes are equal in size: mean rate = passes / sum of 1/rate
                            const auto t0 = clock_type::now();
                            for (std::size_t m = 0; m < n_mats; ++m) kernels::matvec(pool, ws_refs[m], x.data(), y.data(), scratch.data());
                            const double el = std::chrono::duration<double>(clock_type::now() - t0).count();
                            best_sweep = std::max(best_sweep, double(mat_bytes * n_mats) / el);
                            kernel_seconds += el;
                            ++rounds;
                        }
                        const double calls = double(rounds) * double(n_mats);
                        record r;
                        r.kernel = "matvec";
                        r.packed = pack;
                        r.type = std::string(quant::name(type));
                        r.isa = std::string(simd::to_string(level));
                        r.rows = rows;
                        r.cols = cols;
                        r.batch = 1;
                        r.threads = pool.size();
                        r.seconds = double(mat_bytes) / best_sweep;
                        r.gbps = best_sweep / 1e9;
                        r.bw_gbps = meter_best / 1e9;
                        r.bw_fraction = best_sweep / meter_best;
                        r.gbps_mean = double(mat_bytes) * calls / kernel_seconds / 1e9;
                        r.bw_fraction_mean = r.gbps_mean * 1e9 / (double(rounds) / meter_inv);
                        r.gflops = 2.0 * double(rows) * double(cols) / r.seconds / 1e9;
                        if (level == simd::isa::scalar) scalar_gbps = r.gbps;
                        r.speedup = scalar_gbps > 0 ? r.gbps / scalar_gbps : 0;
                        records.push_back(r);
                        fmt::print("{:<7} {:<6} {:>5}x{:<5} {:>5} {:>3} {:<10} {:>9.3f} {:>8.2f} {:>5.0f}% {:>8.1f} {:>7.1f}x  of {:.1f} GB/s, mean {:.0f}%{}\n", r.kernel,
                                   r.type, rows, cols, 1, r.threads, r.isa, r.seconds * 1e3, r.gbps, r.bw_fraction * 100, r.gflops, r.speedup, r.bw_gbps,
                                   r.bw_fraction_mean * 100, pack ? ", packed" : "");
                        std::fflush(stdout);
                    }
                }
            }

            // 3. matmul (prefill), one matrix (compute-bound); the scalar path runs on fewer rows to bound its time
            if (!o.no_matmul) {
                if (arena_packed) fill_arena();
                for (std::int64_t batch : o.batches) {
                    for (std::size_t ti = 0; ti < o.threads.size(); ++ti) {
                        thread_pool& pool = *owned[ti];
                        double scalar_gflops = 0;
                        for (simd::isa level : o.isas) {
                            const std::int64_t mrows = level == simd::isa::scalar ? std::min<std::int64_t>(rows, 128) : rows;
                            const auto w = kernels::make_weight_ref<quant::all_formats>(type, arena.data(), mrows, cols, "bench", level);
                            if (w.kern->isa != level) continue;
                            std::vector<std::byte> scratch(kernels::matmul_scratch_bytes(w, batch));
                            kernels::matmul(pool, w, x.data(), batch, y.data(), scratch.data());
                            std::size_t calls = 0;
                            const auto t0 = clock_type::now();
                            double el = 0;
                            while (calls < 2 || el < o.min_time) {
                                kernels::matmul(pool, w, x.data(), batch, y.data(), scratch.data());
                                ++calls;
                                el = std::chrono::duration<double>(clock_type::now() - t0).count();
                            }
                            record r;
                            r.kernel = "matmul";
                            r.type = std::string(quant::name(type));
                            r.isa = std::string(simd::to_string(level));
                            r.rows = mrows;
                            r.cols = cols;
                            r.batch = batch;
                            r.threads = pool.size();
                            r.seconds = el / double(calls);
                            r.gflops = 2.0 * double(mrows) * double(cols) * double(batch) / r.seconds / 1e9;
                            r.gbps = double(quant::row_size(type, std::size_t(cols)) * std::size_t(mrows)) / r.seconds / 1e9;
                            r.bw_gbps = bw[std::size_t(pool.size())];
                            r.bw_fraction = r.gbps / r.bw_gbps;
                            if (level == simd::isa::scalar) scalar_gflops = r.gflops;
                            r.speedup = scalar_gflops > 0 ? r.gflops / scalar_gflops : 0;
                            records.push_back(r);
                            fmt::print("{:<7} {:<6} {:>5}x{:<5} {:>5} {:>3} {:<10} {:>9.3f} {:>8.2f} {:>5.0f}% {:>8.1f} {:>7.1f}x\n", r.kernel, r.type, mrows, cols,
                                       batch, r.threads, r.isa, r.seconds * 1e3, r.gbps, r.bw_fraction * 100, r.gflops, r.speedup);
                            std::fflush(stdout);
                        }
                    }
                }
            }
        }
    }

    if (!o.json.empty()) {
        io::atomic_output_file out(o.json);
        std::FILE* f = out.get();
        fmt::print(f, "[\n");
        for (std::size_t i = 0; i < records.size(); ++i) {
            const auto& r = records[i];
            fmt::print(f,
                       "  {{\"kernel\": \"{}\", \"type\": \"{}\", \"rows\": {}, \"cols\": {}, \"batch\": {}, \"threads\": {}, \"seconds\": {:.9g}, "
                       "\"gbps\": {:.6g}, \"bw_fraction\": {:.6g}, \"gflops\": {:.6g}, \"isa\": \"{}\", \"speedup_vs_scalar\": {:.6g}, \"packed\": {}, "
                       "\"bw_gbps\": {:.6g}, \"gbps_mean\": {:.6g}, \"bw_fraction_mean\": {:.6g}}}{}\n",
                       json_escape(r.kernel), json_escape(r.type), r.rows, r.cols, r.batch, r.threads, r.seconds, r.gbps, r.bw_fraction, r.gflops,
                       json_escape(r.isa), r.speedup, r.packed, r.bw_gbps, r.gbps_mean, r.bw_fraction_mean, i + 1 < records.size() ? "," : "");
        }
        fmt::print(f, "]\n");
        out.commit();
        fmt::print("\nwrote {} records to {}\n", records.size(), o.json);
    }
    return 0;
}

int main(int argc, char** argv) {
    return llmt_cli::main_wrapper("llmt-kernels", [&] { return run(argc, argv); });
}
