// test_load_checks: the loader refuses absurd sizes, inconsistent models and non-regular files with llmt::error, before allocating
#include <llmt/llmt.hpp>

#include "model_fixtures.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

// LLMT_TEST_BASE: compile against the library before these checks existed (44ca53e) to see the
// tests fail there; the parts naming options added since are left out.

namespace {
using llmt::errc;
using llmt::io::gguf_file;
using llmt::io::gguf_writer;
using llmt_test::make_tiny;
using llmt_test::tiny_model;

const std::string stories = std::string(LLMT_MODELS_DIR) + "/stories260K/stories260K.gguf";

/// Runs f, which must throw llmt::error with `code` and every needle in its message.
void expect_error(const std::function<void()>& f, errc code, std::initializer_list<std::string_view> needles) {
    try {
        f();
        FAIL("no error; expected ", std::string(llmt::to_string(code)));
    } catch (const llmt::error& e) {
        const std::string what = e.what();
        INFO("message: ", what);
        CHECK(llmt::to_string(e.code()) == std::string(llmt::to_string(code)));
        for (auto n : needles) CHECK_MESSAGE(what.find(n) != std::string::npos, "missing '", std::string(n), "'");
    } catch (const std::exception& e) {
        FAIL("not an llmt::error: ", std::string(e.what()));
    }
}

/// A copy of f's metadata and tensors, keeping the tensors keep() accepts: edit it, then parse it.
gguf_writer copy_of(const gguf_file& f, const std::function<bool(std::string_view)>& keep = {}) {
    gguf_writer w;
    for (const auto& kv : f.metadata()) w.set_value(kv.key, kv.value);
    for (const auto& t : f.tensors())
        if (!keep || keep(t.name))
            w.add_tensor(t.name, t.type, std::span<const std::uint64_t>(t.ne.data(), t.n_dims), f.tensor_data(t));
    return w;
}
gguf_file parsed(const gguf_writer& w, std::string name = "edited.gguf") { return gguf_file::from_bytes(w.to_bytes(), std::move(name)); }

using llama = llmt::model<llmt::presets::llama>;
void load(gguf_file f, const llmt::load_options& opt = {.threads = 1}) { (void)llama::load(std::move(f), opt); }

/// A tiny model with a tokenizer of n tokens (and whatever else edit() sets).
gguf_file tiny_with_vocab(int n_tokens, const std::function<void(gguf_writer&)>& edit = {}) {
    auto w = copy_of(make_tiny(tiny_model{}));
    std::vector<std::string> toks;
    for (int i = 0; i < n_tokens; ++i) toks.push_back(fmt::format("t{}", i));
    w.set("tokenizer.ggml.model", std::string_view("llama"));
    w.set_array("tokenizer.ggml.tokens", toks);
    if (edit) edit(w);
    return parsed(w);
}

long max_rss_kib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

#if defined(__SANITIZE_ADDRESS__)
constexpr bool asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool asan = true;
#else
constexpr bool asan = false;
#endif
#else
constexpr bool asan = false;
#endif

/// Runs f in a child process with its address space limited to the current use plus `extra`
/// bytes; returns the child's exit code (f's return value, 99 for an escaped exception).
int in_limited_child(std::size_t extra, const std::function<int()>& f) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        long vm_kib = 0;
        if (FILE* s = std::fopen("/proc/self/statm", "r")) {
            long pages = 0;
            if (std::fscanf(s, "%ld", &pages) == 1) vm_kib = pages * (sysconf(_SC_PAGESIZE) / 1024);
            std::fclose(s);
        }
        rlimit lim{};
        lim.rlim_cur = lim.rlim_max = rlim_t(vm_kib) * 1024 + extra;
        setrlimit(RLIMIT_AS, &lim);
        int rc = 99;
        try {
            rc = f();
        } catch (...) {
        }
        std::fflush(nullptr);
        _exit(rc);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

// ---- class 1: sizes from options -------------------------------------------------------------

TEST_CASE("load checks: a context whose RoPE table size overflows is refused, naming the option and the limit") {
    // n_ctx * n_rot wrapped to a tiny table that fill_rope_table then wrote past (heap-buffer-overflow)
    expect_error([] { (void)llmt::load_any(stories, {.context = 2305843009213693953, .threads = 1}); }, errc::invalid_argument,
                 {"load_options::context", "2305843009213693953", "16777216"});
}

TEST_CASE("load checks: a context of 2^31 is refused with llmt::error, not bad_alloc") {
    expect_error([] { (void)llmt::load_any(stories, {.context = 2147483648, .threads = 1}); }, errc::invalid_argument,
                 {"load_options::context", "2147483648", "16777216"});
    expect_error([] { (void)llmt::load_any(stories, {.context = -1, .threads = 1}); }, errc::invalid_argument,
                 {"load_options::context", "-1"});
}

TEST_CASE("load checks: a context whose KV cache exceeds physical memory is refused before allocating") {
    // 8 layers of 4 KV heads of 16 values: 4 KiB of K and V per position, 64 GiB for 2^24 positions.
    tiny_model big;
    big.n_layer = 8;
    big.n_head_kv = 4;
    const double phys = double(sysconf(_SC_PHYS_PAGES)) * double(sysconf(_SC_PAGE_SIZE));
    if (phys > 60.0 * double(1ull << 30)) {
        MESSAGE("skipped: this machine has more physical memory than 2^24 positions of the test model need");
        return;
    }
    const long before = max_rss_kib();
    expect_error([&] { load(make_tiny(big), {.context = std::int64_t(1) << 24, .threads = 1}); }, errc::invalid_argument,
                 {"load_options::context", "16777216", "physical memory", "positions fit"});
    CHECK(max_rss_kib() - before < 256 * 1024);
}

TEST_CASE("load checks: threads above 512, negative threads and a batch below 1 are refused, naming the option") {
    expect_error([] { load(make_tiny(tiny_model{}), {.threads = 1000}); }, errc::invalid_argument, {"load_options::threads", "1000", "512"});
    expect_error([] { load(make_tiny(tiny_model{}), {.threads = -2}); }, errc::invalid_argument, {"load_options::threads", "-2"});
    expect_error([] { load(make_tiny(tiny_model{}), {.batch = 0, .threads = 1}); }, errc::invalid_argument, {"load_options::batch", "0"});
    expect_error([] { load(make_tiny(tiny_model{}), {.batch = -5, .threads = 1}); }, errc::invalid_argument, {"load_options::batch"});
    // the limits themselves are accepted
    CHECK_NOTHROW(load(make_tiny(tiny_model{}), {.context = 64, .batch = 1, .threads = 1}));
}

#ifndef LLMT_TEST_BASE
TEST_CASE("load checks: checked_mul and size_product refuse overflow") {
    CHECK(llmt::checked_mul<std::int64_t>(std::int64_t(1) << 40, std::int64_t(1) << 23) == std::nullopt);
    CHECK(llmt::checked_mul<std::int64_t>(std::int64_t(1) << 40, std::int64_t(1) << 22) == std::int64_t(1) << 62);
    CHECK(llmt::checked_mul<std::int64_t>(-1, 2) == std::nullopt);
    CHECK(llmt::checked_mul<std::int64_t>(3, 5) == 15);
    CHECK(llmt::checked_size(std::int64_t(2305843009213693953), 8) == std::nullopt);
    CHECK(llmt::checked_size(std::int64_t(4), std::size_t(8), 2) == std::size_t(64));
    expect_error([] { (void)llmt::size_product(errc::invalid_argument, "the RoPE table", std::int64_t(2305843009213693953), 8); },
                 errc::invalid_argument, {"the RoPE table", "overflows"});
}
#endif

// ---- class 3: allocation out of proportion to the file ----------------------------------------

TEST_CASE("load checks: a block_count far above the blocks present fails fast, without allocating per block") {
    for (const std::uint64_t n : {std::uint64_t(1) << 22, std::uint64_t(1) << 40, std::uint64_t(1) << 62}) {
        CAPTURE(n);
        auto w = copy_of(make_tiny(tiny_model{}));
        w.set("llama.block_count", n);
        const long before = max_rss_kib();
        const auto t0 = std::chrono::steady_clock::now();
        expect_error([&] { load(parsed(w)); }, errc::format, {"llama.block_count", std::to_string(n), "block 2"});
        CHECK(max_rss_kib() - before < 64 * 1024);  // 2^22 blocks took 2.7 GB on 44ca53e
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
    }
}

// ---- class 4: exceptions and files ------------------------------------------------------------

TEST_CASE("load checks: a FIFO, a directory and a device are refused as models without blocking") {
    const auto dir = std::filesystem::temp_directory_path() / ("llmt-load-checks-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const auto fifo = dir / "model.gguf";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    // On 44ca53e open() waited for a writer forever: run it aside, and be the writer if it hangs.
    auto pending = std::make_shared<std::promise<std::string>>();
    auto result = pending->get_future();
    std::thread([pending, fifo] {
        try {
            (void)llmt::load_any(fifo, {.threads = 1});
            pending->set_value("loaded");
        } catch (const llmt::error& e) {
            pending->set_value(std::string(llmt::to_string(e.code())) + ": " + e.what());
        } catch (const std::exception& e) {
            pending->set_value(std::string("std: ") + e.what());
        }
    }).detach();
    const bool done = result.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
    CHECK_MESSAGE(done, "loading a FIFO blocked");
    if (!done) {
        const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // unblock the reader
        if (w >= 0) ::close(w);
    }
    const std::string msg = result.get();
    INFO("message: ", msg);
    CHECK(msg.rfind("io: ", 0) == 0);
    CHECK(msg.find(fifo.string()) != std::string::npos);
    CHECK(msg.find("FIFO") != std::string::npos);

    expect_error([&] { (void)llmt::load_any(dir, {.threads = 1}); }, errc::io, {dir.string(), "directory", "not a regular file"});
    expect_error([] { (void)llmt::load_any("/dev/null", {.threads = 1}); }, errc::io, {"/dev/null", "character device"});
    std::filesystem::remove_all(dir);
}

TEST_CASE("load checks: a thread the OS refuses is an llmt::error naming the thread count") {
    if (asan) {
        MESSAGE("skipped under AddressSanitizer: it reserves more address space than the limit leaves");
        return;
    }
    // 64 MiB of address space left: 8 MiB thread stacks run out after a few threads.
    const int rc = in_limited_child(std::size_t(64) << 20, [] {
        try {
            llmt::thread_pool pool(64);
            return 2;  // every thread started: the limit did not bite
        } catch (const llmt::error& e) {
            const std::string w = e.what();
            return e.code() == errc::runtime && w.find("cannot start 63 worker threads") != std::string::npos ? 0 : 3;
        } catch (const std::system_error&) {
            return 4;
        }
    });
    CHECK(rc == 0);
}

TEST_CASE("load checks: running out of memory while loading is an llmt::error naming the file") {
    if (asan) {
        MESSAGE("skipped under AddressSanitizer: it reserves more address space than the limit leaves");
        return;
    }
    // 2^20 positions of stories260K need 2.5 GiB: within physical memory, beyond the 512 MiB left.
    const int rc = in_limited_child(std::size_t(512) << 20, [] {
        try {
            (void)llmt::load_any(stories, {.context = std::int64_t(1) << 20, .threads = 1, .mode = llmt::io::load_mode::read_only});
            return 2;
        } catch (const llmt::error& e) {
            const std::string w = e.what();
            return e.code() == errc::runtime && w.find("stories260K.gguf") != std::string::npos && w.find("out of memory") != std::string::npos
                       ? 0 : 3;
        } catch (const std::bad_alloc&) {
            return 4;
        }
    });
    CHECK(rc == 0);
}

// ---- class 5: inconsistent models -------------------------------------------------------------

TEST_CASE("load checks: a tokenizer whose size differs from token_embd's rows is refused") {
    expect_error([] { load(tiny_with_vocab(40)); }, errc::format, {"tokenizer.ggml.tokens", "40", "48"});
    CHECK_NOTHROW(load(tiny_with_vocab(48)));
}

TEST_CASE("load checks: special token ids outside the vocabulary are refused") {
    expect_error([] { load(tiny_with_vocab(48, [](gguf_writer& w) { w.set("tokenizer.ggml.eos_token_id", std::uint32_t(48)); })); },
                 errc::format, {"tokenizer.ggml.eos_token_id", "48"});
    expect_error([] { load(tiny_with_vocab(48, [](gguf_writer& w) { w.set("tokenizer.ggml.padding_token_id", std::int32_t(-7)); })); },
                 errc::format, {"tokenizer.ggml.padding_token_id", "-7"});
    CHECK_NOTHROW(load(tiny_with_vocab(48, [](gguf_writer& w) { w.set("tokenizer.ggml.bos_token_id", std::uint32_t(47)); })));
    // -1 and 0xFFFFFFFF mean "none" (stories260K's separator and padding ids)
    CHECK_NOTHROW(load(tiny_with_vocab(48, [](gguf_writer& w) {
        w.set("tokenizer.ggml.padding_token_id", std::uint32_t(0xFFFFFFFFu));
        w.set("tokenizer.ggml.seperator_token_id", std::int32_t(-1));
    })));
    // the tokenizer alone refuses them too
    expect_error([] {
        (void)llmt::tokenizer::vocab::from_gguf(tiny_with_vocab(48, [](gguf_writer& w) { w.set("tokenizer.ggml.eos_token_id", std::uint32_t(48)); }));
    }, errc::format, {"tokenizer.ggml.eos_token_id", "48", "outside the vocabulary"});
    CHECK(llmt::tokenizer::vocab::from_gguf(tiny_with_vocab(48, [](gguf_writer& w) {
              w.set("tokenizer.ggml.eos_token_id", std::uint32_t(47));
              w.set("tokenizer.ggml.padding_token_id", std::uint32_t(0xFFFFFFFFu));
          })).eos == 47);
}

TEST_CASE("load checks: tensors of a block beyond block_count, or a block without tensors, are refused") {
    auto w = copy_of(make_tiny(tiny_model{}));  // 2 blocks of tensors
    w.set("llama.block_count", std::uint32_t(1));
    expect_error([&] { load(parsed(w)); }, errc::format, {"blk.1.", "block 1", "llama.block_count", "is 1"});

    auto hole = copy_of(make_tiny(tiny_model{}), [](std::string_view n) { return n.substr(0, 6) != "blk.0."; });
    expect_error([&] { load(parsed(hole)); }, errc::format, {"llama.block_count", "block 0"});
}

TEST_CASE("load checks: non-finite hyper-parameters are refused, naming the key") {
    auto with = [](std::string_view key, float v, bool linear = false) {
        auto w = copy_of(make_tiny(tiny_model{}));
        if (linear) w.set("llama.rope.scaling.type", std::string_view("linear"));
        w.set(key, v);
        return parsed(w);
    };
    const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
    expect_error([&] { load(with("llama.rope.freq_base", inf)); }, errc::format, {"llama.rope.freq_base", "inf", "finite"});
    expect_error([&] { load(with("llama.attention.layer_norm_rms_epsilon", nan)); }, errc::format,
                 {"llama.attention.layer_norm_rms_epsilon", "nan", "finite"});
    expect_error([&] { load(with("llama.rope.scaling.factor", inf, true)); }, errc::format, {"llama.rope.scaling.factor", "finite"});
    expect_error([&] { load(with("llama.rope.scaling.factor", nan, true)); }, errc::format, {"llama.rope.scaling.factor", "finite"});
    expect_error([&] { load(with("llama.rope.scaling.attn_factor", inf)); }, errc::format, {"llama.rope.scaling.attn_factor", "finite"});
}

TEST_CASE("load checks: a tensor the model does not use is refused unless allow_unknown_tensors") {
    auto w = copy_of(make_tiny(tiny_model{}));
    const std::vector<float> extra(64, 0.5f);
    w.add_tensor("blk.0.ffn_gate_inp.weight", llmt::quant::qtype::f32, {64}, std::span<const float>(extra));
    expect_error([&] { load(parsed(w)); }, errc::unsupported, {"blk.0.ffn_gate_inp.weight", "allow_unknown_tensors"});
#ifndef LLMT_TEST_BASE
    CHECK_NOTHROW(load(parsed(w), {.threads = 1, .allow_unknown_tensors = true}));
#endif
    // a non-gated feed-forward model given ffn_gate tensors: ignored before, refused now
    using gelu = llmt::model_spec<llmt::rms_norm, llmt::gqa<>, llmt::rope_normal, llmt::gelu_mlp, llmt::kv_cache::contiguous<llmt::f32>,
                                  llmt::weight_types<llmt::f32>>;
    expect_error([] { (void)llmt::model<gelu>::load(make_tiny(tiny_model{}), {.threads = 1}); }, errc::unsupported, {"ffn_gate"});
}

TEST_CASE("load checks: a norm of the wrong shape reports the shape, not the same count twice") {
    auto w = copy_of(make_tiny(tiny_model{}), [](std::string_view n) { return n != "output_norm.weight"; });
    const std::vector<float> square(64, 1.0f);
    w.add_tensor("output_norm.weight", llmt::quant::qtype::f32, {8, 8}, std::span<const float>(square));
    expect_error([&] { load(parsed(w)); }, errc::format, {"output_norm.weight", "[8, 8]", "64"});
}

// ---- KV cache type (load_options::kv_type, llama.cpp's -ctk / -ctv) ----------------------------

#ifndef LLMT_TEST_BASE
TEST_CASE("kv type: parse_kv_type reads llama.cpp's names and lists them on an unknown one") {
    CHECK(llmt::parse_kv_type("f32") == llmt::kv_type::f32);
    CHECK(llmt::parse_kv_type("f16") == llmt::kv_type::f16);
    CHECK(llmt::parse_kv_type("q8_0") == llmt::kv_type::q8_0);
    CHECK(llmt::parse_kv_type("Q8_0") == llmt::kv_type::q8_0);
    for (const auto t : llmt::all_kv_types) CHECK(llmt::parse_kv_type(llmt::to_string(t)) == t);
    expect_error([] { (void)llmt::parse_kv_type("q4_0"); }, errc::invalid_argument, {"'q4_0'", "f32, f16 or q8_0"});
    expect_error([] { (void)llmt::parse_kv_type(""); }, errc::invalid_argument, {"''", "f32, f16 or q8_0"});
}

TEST_CASE("kv type: load_any picks the preset with the KV element type asked for") {
    for (const auto t : llmt::all_kv_types) {
        CAPTURE(llmt::to_string(t));
        tiny_model m;
        m.n_head = 2;  // heads of 32 values: q8_0 blocks fit
        m.n_head_kv = 1;
        auto model = llmt::load_any(make_tiny(m), {.threads = 1, .kv_type = t});
        CHECK(model->describe() == fmt::format("rms_norm gqa rope_normal swiglu kv_cache::contiguous<{}>", llmt::to_string(t)));
    }
    // unset: the f16 preset, as llama.cpp
    CHECK(llmt::load_any(make_tiny(tiny_model{}), {.threads = 1})->describe().ends_with("<f16>"));
}

TEST_CASE("kv type: a concrete spec refuses another kv_type; q8_0 refuses heads its blocks do not divide") {
    expect_error([] { (void)llama::load(make_tiny(tiny_model{}), {.threads = 1, .kv_type = llmt::kv_type::f16}); }, errc::invalid_argument,
                 {"load_options::kv_type is f16", "stores its KV cache as f32"});
    CHECK_NOTHROW((void)llama::load(make_tiny(tiny_model{}), {.threads = 1, .kv_type = llmt::kv_type::f32}));
    // stories260K's heads have 8 values: llama.cpp refuses a q8_0 cache there too
    expect_error([] { (void)llmt::load_any(stories, {.threads = 1, .kv_type = llmt::kv_type::q8_0}); }, errc::config,
                 {"head_dim 8", "q8_0 block size 32", "load_options::kv_type"});
    using only_f32 = llmt::type_list<llmt::presets::llama>;
    expect_error([] { (void)llmt::load_any<only_f32>(make_tiny(tiny_model{}), {.threads = 1, .kv_type = llmt::kv_type::f16}); },
                 errc::unsupported, {"stores its KV cache as f16", "compiled in: f32"});
}

namespace {
/// Teacher-forced logits of every position of inputs (the first n_prompt as one batch).
std::vector<std::vector<float>> run_positions(llmt::model_base& m, const std::vector<int>& inputs, std::size_t n_prompt) {
    const auto V = std::size_t(m.n_vocab());
    std::vector<float> all(n_prompt * V);
    m.forward(std::span<const int>(inputs.data(), n_prompt), 0, all, true);
    std::vector<std::vector<float>> out;
    for (std::size_t i = 0; i < n_prompt; ++i) out.emplace_back(all.begin() + std::ptrdiff_t(i * V), all.begin() + std::ptrdiff_t((i + 1) * V));
    std::vector<float> one(V);
    for (std::size_t i = n_prompt; i < inputs.size(); ++i) {
        m.forward(std::span<const int>(&inputs[i], 1), std::int64_t(i), one, false);
        out.push_back(one);
    }
    return out;
}
/// Greedy continuation of prompt for n tokens.
std::vector<int> greedy(llmt::model_base& m, std::vector<int> ids, int n) {
    std::vector<float> logits(std::size_t(m.n_vocab()));
    m.forward(ids, 0, logits, false);
    for (int i = 0; i < n; ++i) {
        const int next = int(std::max_element(logits.begin(), logits.end()) - logits.begin());
        ids.push_back(next);
        m.forward(std::span<const int>(&ids.back(), 1), std::int64_t(ids.size() - 1), logits, false);
    }
    return ids;
}
double worst_rel_diff(const std::vector<std::vector<float>>& a, const std::vector<std::vector<float>>& b) {
    double worst = 0;
    for (std::size_t p = 0; p < a.size(); ++p) {
        double d = 0, m = 0;
        for (std::size_t i = 0; i < a[p].size(); ++i) {
            d = std::max(d, double(std::fabs(a[p][i] - b[p][i])));
            m = std::max(m, double(std::fabs(b[p][i])));
        }
        worst = std::max(worst, d / std::max(m, 1e-30));
    }
    return worst;
}
}  // namespace

TEST_CASE("kv type: stories260K with an f16 KV cache gives logits close to f32's and the same greedy text") {
    auto f32 = llmt::load_any(stories, {.context = 128, .threads = 1, .kv_type = llmt::kv_type::f32});
    auto f16 = llmt::load_any(stories, {.context = 128, .threads = 1});
    REQUIRE(f16->describe().ends_with("<f16>"));  // the default, as llama.cpp's
    REQUIRE_FALSE(f32->describe().ends_with("<f16>"));
    const std::vector<int> prompt = {1, 403, 407, 261, 378, 255, 265, 260, 373};  // BOS and a few tokens
    const auto ref = greedy(*f32, prompt, 48);
    const auto got = greedy(*f16, prompt, 48);
    CHECK(got == ref);
    const auto a = run_positions(*f32, ref, prompt.size());
    const auto b = run_positions(*f16, ref, prompt.size());
    const double rel = worst_rel_diff(b, a);
    MESSAGE("f16 KV vs f32 KV, stories260K, ", a.size(), " positions: max |diff| / max |logit| = ", rel);
    CHECK(rel < 5e-3);
    CHECK(rel > 0);  // the f16 cache is really used
}

TEST_CASE("kv type: a q8_0 KV cache gives logits close to f32's on a model with 32-value heads") {
    tiny_model m;
    m.n_head = 2;
    m.n_head_kv = 1;
    m.n_layer = 3;
    auto f32 = llmt::load_any(make_tiny(m), {.threads = 1});
    auto q8 = llmt::load_any(make_tiny(m), {.threads = 1, .kv_type = llmt::kv_type::q8_0});
    std::vector<int> ids;
    for (int i = 0; i < 40; ++i) ids.push_back((i * 7 + 3) % m.n_vocab);
    const auto a = run_positions(*f32, ids, 16);
    const auto b = run_positions(*q8, ids, 16);
    const double rel = worst_rel_diff(b, a);
    MESSAGE("q8_0 KV vs f32 KV, tiny model, 40 positions: max |diff| / max |logit| = ", rel);
    CHECK(rel < 3e-2);
    CHECK(rel > 0);
}
#endif
