// llmt-tokenize-bench: encoding speed (MB/s of text) per tokenizer kind on a mixed multilingual text
#include <llmt/llmt.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <time.h>

namespace fs = std::filesystem;
namespace tk = llmt::tokenizer;

namespace {

// Built-in snippets: prose in several scripts, source code, numbers, emoji sequences.
const char* const snippets[] = {
    "The quick brown fox jumps over the lazy dog. It wasn't the first time, and they'll say it won't be the last.",
    "In 1969, 600 million people watched the landing; the mission cost $25.4 billion (about $180B today).",
    "Der schnelle braune Fuchs springt über den faulen Hund. Größere Änderungen folgen später.",
    "Le renard brun rapide saute par-dessus le chien paresseux. « Où est-il ? » demanda-t-elle.",
    "El veloz murciélago hindú comía feliz cardillo y kiwi. ¿Dónde está la biblioteca?",
    "Быстрая коричневая лиса прыгает через ленивую собаку. Съешь же ещё этих мягких французских булок.",
    "Η γρήγορη καφέ αλεπού πηδάει πάνω από τον τεμπέλικο σκύλο.",
    "敏捷的棕色狐狸跳过了懒狗。我想在apple工作1314151天～今天天气很好，我们去公园散步吧。",
    "素早い茶色の狐がのろまな犬を飛び越えた。東京は日本の首都です。カタカナとひらがな。",
    "빠른 갈색 여우가 게으른 개를 뛰어넘었다. 안녕하세요, 만나서 반갑습니다.",
    "الثعلب البني السريع يقفز فوق الكلب الكسول. مرحبا بالعالم",
    "तेज़ भूरी लोमड़ी आलसी कुत्ते के ऊपर कूदती है। नमस्ते दुनिया",
    "สุนัขจิ้งจอกสีน้ำตาลกระโดดข้ามสุนัขขี้เกียจ ภาษาไทย",
    "Pchnąć w tę łódź jeża lub ośm skrzyń fig. Zażółć gęślą jaźń.",
    "🚀 (normal) 😶‍🌫️ (multiple emojis concatenated) ✅ 👨‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 🦙.cpp",
    "#include <vector>\nint main(int argc, char** argv) {\n    std::vector<int> v{1, 2, 3};\n    for (auto& x : v) x *= 2;\n    return v.size() > 2 ? 0 : 1;\n}\n",
    "def fib(n: int) -> int:\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    "fn main() {\n\tlet s = String::from(\"héllo\");\n\tprintln!(\"{s:?} {}\", s.len());\n}\n",
    "SELECT id, name FROM users WHERE created_at >= '2024-01-01' ORDER BY id DESC LIMIT 10;",
    "<html><body><p class=\"x\">Hello &amp; welcome</p></body></html>",
    "3.14159265358979323846264338327950288419716939937510 1,234,567.89 0xDEADBEEF 1e-9",
    "    indented line\n\t\ttabbed line\r\nwindows line\n\n\n   trailing spaces   ",
};

std::vector<std::string> read_inp_strings(const fs::path& dir) {
    std::set<std::string> seen;
    std::vector<std::string> out;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().extension() == ".inp") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    const std::string sep = "\n__ggml_vocab_test__\n";
    for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string all = ss.str();
        for (std::size_t pos = 0; pos < all.size();) {
            std::size_t next = all.find(sep, pos);
            if (next == std::string::npos) next = all.size();
            std::string s = all.substr(pos, next - pos);
            if (!s.empty() && seen.insert(s).second) out.push_back(s);
            pos = next + sep.size();
        }
    }
    return out;
}

// A deterministic text of about `bytes` bytes mixing the test strings and the snippets.
std::string make_text(const std::vector<std::string>& inp, std::size_t bytes) {
    std::vector<std::string> pool(inp);
    for (const char* s : snippets) pool.emplace_back(s);
    std::uint64_t state = 0x9E3779B97F4A7C15ull;
    auto next = [&] {  // splitmix64
        std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    };
    static const char* const joins[] = {" ", " ", "\n", "\n\n", ". ", " "};
    std::string text;
    text.reserve(bytes + 4096);
    while (text.size() < bytes) {
        text += pool[next() % pool.size()];
        text += joins[next() % std::size(joins)];
    }
    return text;
}

// CPU time of this thread: the encoders are single-threaded, and a busy machine does not skew it.
double thread_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

struct result {
    std::string name, kind, pre;
    std::size_t n_tokens = 0;
    double load_ms = 0, encode_s = 0, mb_per_s = 0, decode_mb_per_s = 0;
    bool roundtrip = false;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"llmt-tokenize-bench: tokenizer encoding speed per vocabulary on a mixed text"};
    const fs::path source_root = fs::path(__FILE__).parent_path().parent_path();
    std::string vocab_dir = (source_root / "tests/data/vocab").string();
    std::vector<std::string> vocabs;
    std::string text_file, write_text;
    double megabytes = 4;
    int repeats = 3;
    bool json = false;
    app.add_option("-v,--vocab", vocabs, "GGUF vocab or model files (default: every tests/data/vocab/*.gguf)");
    app.add_option("--vocab-dir", vocab_dir, "where the .gguf and .inp files are")->capture_default_str();
    app.add_option("-t,--text", text_file, "tokenize this file instead of the generated text");
    app.add_option("--write-text", write_text, "write the generated text to this path (for llama-tokenize side by side)");
    app.add_option("--mb", megabytes, "size of the generated text in MB")->capture_default_str();
    app.add_option("-r,--repeats", repeats, "runs per vocabulary (the best is reported)")->capture_default_str();
    app.add_flag("--json", json, "print JSON instead of a table");
    CLI11_PARSE(app, argc, argv);

    try {
        std::string text;
        if (!text_file.empty()) {
            std::ifstream in(text_file, std::ios::binary);
            if (!in) llmt::fail(llmt::errc::io, "cannot open '{}'", text_file);
            std::stringstream ss;
            ss << in.rdbuf();
            text = ss.str();
        } else {
            text = make_text(read_inp_strings(vocab_dir), std::size_t(megabytes * 1e6));
        }
        if (!write_text.empty()) {
            std::ofstream out(write_text, std::ios::binary);
            out.write(text.data(), std::streamsize(text.size()));
            if (!out) llmt::fail(llmt::errc::io, "cannot write '{}'", write_text);
        }
        if (vocabs.empty()) {
            for (const auto& e : fs::directory_iterator(vocab_dir))
                if (e.path().extension() == ".gguf") vocabs.push_back(e.path().string());
            std::sort(vocabs.begin(), vocabs.end());
        }

        using clock = std::chrono::steady_clock;
        std::vector<result> results;
        for (const auto& path : vocabs) {
            result r;
            r.name = fs::path(path).filename().string();
            const auto t0 = clock::now();
            const auto gguf = llmt::io::gguf_file::open(path);
            const auto tok = tk::tokenizer::from_gguf(gguf);
            r.load_ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
            r.kind = std::string(tk::name(tok.kind()));
            r.pre = tok.get_vocab().pre_name;
            double best = 1e30, best_dec = 1e30;
            std::vector<tk::token_id> ids;
            std::string back;
            for (int i = 0; i < std::max(1, repeats); ++i) {
                const double a = thread_seconds();
                ids = tok.encode(text, false, false);
                const double b = thread_seconds();
                back = tok.decode(ids);
                const double c = thread_seconds();
                best = std::min(best, b - a);
                best_dec = std::min(best_dec, c - b);
            }
            r.n_tokens = ids.size();
            r.encode_s = best;
            r.mb_per_s = double(text.size()) / 1e6 / best;
            r.decode_mb_per_s = double(back.size()) / 1e6 / best_dec;
            r.roundtrip = back == text;
            results.push_back(r);
        }

        if (json) {
            std::printf("{\n  \"text_bytes\": %zu,\n  \"results\": [\n", text.size());
            for (std::size_t i = 0; i < results.size(); ++i) {
                const auto& r = results[i];
                std::printf("    {\"vocab\": \"%s\", \"kind\": \"%s\", \"pre\": \"%s\", \"tokens\": %zu, \"load_ms\": %.1f, "
                            "\"encode_s\": %.4f, \"encode_mb_per_s\": %.2f, \"decode_mb_per_s\": %.2f, \"roundtrip\": %s}%s\n",
                            r.name.c_str(), r.kind.c_str(), r.pre.c_str(), r.n_tokens, r.load_ms, r.encode_s, r.mb_per_s,
                            r.decode_mb_per_s, r.roundtrip ? "true" : "false", i + 1 < results.size() ? "," : "");
            }
            std::printf("  ]\n}\n");
        } else {
            std::printf("text: %.2f MB (%s); speeds from thread CPU time, best of %d\n\n",  double(text.size()) / 1e6, text_file.empty() ? "generated" : text_file.c_str(), std::max(1, repeats));
            std::printf("%-32s %-4s %-15s %10s %9s %10s %10s %10s %9s\n", "vocab", "kind", "pre", "tokens", "bytes/tok",
                        "load ms", "enc MB/s", "dec MB/s", "roundtrip");
            for (const auto& r : results)
                std::printf("%-32s %-4s %-15s %10zu %9.2f %10.1f %10.2f %10.1f %9s\n", r.name.c_str(), r.kind.c_str(),
                            r.pre.c_str(), r.n_tokens, double(text.size()) / double(std::max<std::size_t>(1, r.n_tokens)),
                            r.load_ms, r.mb_per_s, r.decode_mb_per_s, r.roundtrip ? "yes" : "no");
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "llmt-tokenize-bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
