// model_fixtures: tiny random GGUF models written with io::gguf_writer, and the llama.cpp reference logits reader
#pragma once

#include <llmt/io/gguf.hpp>
#include <llmt/io/gguf_writer.hpp>
#include <llmt/quant/formats.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace llmt_test {

/// The shape and options of a tiny model.
struct tiny_model {
    std::string arch = "llama";
    int n_embd = 64, n_layer = 2, n_head = 4, n_head_kv = 2, n_ff = 96, n_vocab = 48, n_ctx = 128;
    int n_rot = 0;             // 0: the head size
    bool layer_norm = false;   // write layer_norm_epsilon and norm biases instead of the RMS key
    bool gated = true;         // write ffn_gate
    bool biases = false;       // write linear biases
    bool tied = false;         // no output.weight
    std::string rope_scaling;  // "", "linear", "yarn"
    float rope_factor = 1.0f;
    int rope_orig_ctx = 0;
    bool rope_freqs = false;   // write llama3-style rope_freqs.weight
    float freq_base = 10000.0f;
    int sliding_window = 0;
    // Other architectures' parts (model/arch/*.hpp):
    int head_dim = 0;          // attention.key_length / value_length when set (0: n_embd / n_head)
    bool qk_norm = false;      // attn_q_norm / attn_k_norm [head_dim] (Qwen 3, Gemma 3)
    bool sandwich = false;     // post_attention_norm / post_ffw_norm (Gemma 3)
    bool fused = false;        // attn_qkv and ffn_up [2 n_ff] instead of attn_q/k/v and ffn_gate (Phi-3)
    int swa_pattern = 0;       // attention.sliding_window_pattern when set (Gemma 3)
    float freq_base_swa = 0;   // rope.freq_base_swa when set (Gemma 3)
    bool longrope = false;     // rope_factors_long / rope_factors_short (Phi-3)
    llmt::quant::qtype wtype = llmt::quant::qtype::f32;  // matrices' format
    std::uint32_t seed = 1;
};

/// Deterministic values in [-1, 1) (not std::uniform_real_distribution, whose output is implementation-defined).
class test_rng {
public:
    explicit test_rng(std::uint32_t seed) : g_(seed) {}
    float next() { return float(double(g_() >> 11) * 0x1p-53 * 2.0 - 1.0); }

private:
    std::mt19937_64 g_;
};

/// Writes the tiny model as a GGUF file in memory.
inline llmt::io::gguf_file make_tiny(const tiny_model& m) {
    using llmt::quant::qtype;
    llmt::io::gguf_writer w;
    const std::string a = m.arch + ".";
    w.set("general.architecture", m.arch);
    w.set(a + "context_length", std::uint32_t(m.n_ctx));
    w.set(a + "embedding_length", std::uint32_t(m.n_embd));
    w.set(a + "block_count", std::uint32_t(m.n_layer));
    w.set(a + "feed_forward_length", std::uint32_t(m.n_ff));
    w.set(a + "attention.head_count", std::uint32_t(m.n_head));
    w.set(a + "attention.head_count_kv", std::uint32_t(m.n_head_kv));
    const int head = m.head_dim ? m.head_dim : m.n_embd / m.n_head;
    if (m.head_dim) {
        w.set(a + "attention.key_length", std::uint32_t(m.head_dim));
        w.set(a + "attention.value_length", std::uint32_t(m.head_dim));
    }
    if (m.swa_pattern) w.set(a + "attention.sliding_window_pattern", std::uint32_t(m.swa_pattern));
    if (m.freq_base_swa > 0) w.set(a + "rope.freq_base_swa", m.freq_base_swa);
    w.set(a + "rope.dimension_count", std::uint32_t(m.n_rot ? m.n_rot : head));
    w.set(a + "rope.freq_base", m.freq_base);
    if (m.layer_norm) w.set(a + "attention.layer_norm_epsilon", 1e-5f);
    else w.set(a + "attention.layer_norm_rms_epsilon", 1e-5f);
    if (!m.rope_scaling.empty()) {
        w.set(a + "rope.scaling.type", m.rope_scaling);
        w.set(a + "rope.scaling.factor", m.rope_factor);
        if (m.rope_orig_ctx) w.set(a + "rope.scaling.original_context_length", std::uint32_t(m.rope_orig_ctx));
    }
    if (m.sliding_window) w.set(a + "attention.sliding_window", std::uint32_t(m.sliding_window));

    test_rng rng(m.seed);
    auto add = [&](const std::string& name, int rows, int cols, float scale, float offset, qtype t) {
        std::vector<float> v(std::size_t(rows) * std::size_t(cols));
        for (auto& x : v) x = offset + scale * rng.next();
        const auto& e = llmt::quant::resolve<llmt::quant::all_formats>(t, name);
        std::vector<std::byte> bytes(llmt::quant::row_size(t, std::size_t(cols)) * std::size_t(rows));
        for (int r = 0; r < rows; ++r)
            e.quantize_row(v.data() + std::size_t(r) * cols, bytes.data() + std::size_t(r) * llmt::quant::row_size(t, std::size_t(cols)), cols);
        if (rows == 1) w.add_tensor(name, t, std::vector<std::uint64_t>{std::uint64_t(cols)}, bytes);
        else w.add_tensor(name, t, std::vector<std::uint64_t>{std::uint64_t(cols), std::uint64_t(rows)}, bytes);
    };
    auto mat = [&](const std::string& name, int rows, int cols) {
        add(name + ".weight", rows, cols, 1.5f / std::sqrt(float(cols)), 0.0f, m.wtype);
        if (m.biases) add(name + ".bias", 1, rows, 0.1f, 0.0f, qtype::f32);
    };
    auto norm = [&](const std::string& name) {
        add(name + ".weight", 1, m.n_embd, 0.3f, 1.0f, qtype::f32);
        if (m.layer_norm) add(name + ".bias", 1, m.n_embd, 0.1f, 0.0f, qtype::f32);
    };
    const int q_dim = m.n_head * head, kv_dim = m.n_head_kv * head;
    add("token_embd.weight", m.n_vocab, m.n_embd, 1.0f, 0.0f, m.wtype);
    norm("output_norm");
    if (!m.tied) add("output.weight", m.n_vocab, m.n_embd, 1.5f / std::sqrt(float(m.n_embd)), 0.0f, m.wtype);
    if (m.rope_freqs) add("rope_freqs.weight", 1, (m.n_rot ? m.n_rot : head) / 2, 1.5f, 2.5f, qtype::f32);
    if (m.longrope) {
        add("rope_factors_long.weight", 1, (m.n_rot ? m.n_rot : head) / 2, 1.5f, 2.5f, qtype::f32);
        add("rope_factors_short.weight", 1, (m.n_rot ? m.n_rot : head) / 2, 0.2f, 1.1f, qtype::f32);
    }
    auto head_norm = [&](const std::string& name) { add(name + ".weight", 1, head, 0.3f, 1.0f, qtype::f32); };
    for (int l = 0; l < m.n_layer; ++l) {
        const std::string b = "blk." + std::to_string(l) + ".";
        norm(b + "attn_norm");
        if (m.fused) {
            mat(b + "attn_qkv", q_dim + 2 * kv_dim, m.n_embd);
        } else {
            mat(b + "attn_q", q_dim, m.n_embd);
            mat(b + "attn_k", kv_dim, m.n_embd);
            mat(b + "attn_v", kv_dim, m.n_embd);
        }
        if (m.qk_norm) {
            head_norm(b + "attn_q_norm");
            head_norm(b + "attn_k_norm");
        }
        mat(b + "attn_output", m.n_embd, q_dim);
        if (m.sandwich) norm(b + "post_attention_norm");
        norm(b + "ffn_norm");
        if (m.fused) {
            mat(b + "ffn_up", 2 * m.n_ff, m.n_embd);
        } else {
            if (m.gated) mat(b + "ffn_gate", m.n_ff, m.n_embd);
            mat(b + "ffn_up", m.n_ff, m.n_embd);
        }
        mat(b + "ffn_down", m.n_embd, m.n_ff);
        if (m.sandwich) norm(b + "post_ffw_norm");
    }
    const auto bytes = w.to_bytes();
    return llmt::io::gguf_file::from_bytes(bytes, "tiny-" + m.arch + ".gguf");
}

/// One position of a llama.cpp logits dump (tests/data/stories260K/ref_logits_*.txt).
struct ref_position {
    bool gen = false;
    int pos = 0, input = 0, argmax = 0;
    std::vector<float> logits;
};
struct ref_logits {
    std::vector<int> prompt_tokens;
    std::vector<int> greedy_tokens;
    std::vector<ref_position> positions;
};

inline std::vector<int> parse_ints(const std::string& s) {
    std::istringstream is(s);
    std::vector<int> v;
    for (int x; is >> x;) v.push_back(x);
    return v;
}

inline ref_logits read_ref_logits(const std::string& path) {
    std::ifstream f(path);
    if (!f) throw std::runtime_error("cannot open " + path);
    ref_logits r;
    std::string line;
    while (std::getline(f, line)) {
        if (line.empty()) continue;
        if (line[0] == '#') {
            if (line.rfind("# prompt_tokens ", 0) == 0) r.prompt_tokens = parse_ints(line.substr(16));
            if (line.rfind("# greedy_generated_tokens ", 0) == 0) r.greedy_tokens = parse_ints(line.substr(26));
            continue;
        }
        if (line.rfind("prompt ", 0) == 0 || line.rfind("gen ", 0) == 0) {
            std::istringstream is(line);
            ref_position p;
            std::string kind, w;
            is >> kind >> w >> p.pos >> w >> p.input >> w >> p.argmax;
            p.gen = kind == "gen";
            r.positions.push_back(std::move(p));
        } else if (!r.positions.empty()) {
            std::istringstream is(line);
            for (float x; is >> x;) r.positions.back().logits.push_back(x);
        }
    }
    return r;
}

}  // namespace llmt_test
