// reference_forward: the test oracle, a scalar llama2.c-style forward pass over a GGUF file (weights dequantized to f32)
#pragma once

// Written for clarity, not speed: one token at a time, plain loops, every weight dequantized to f32
// up front, angles computed from the formula (no table). It shares no code with the model beyond
// the GGUF reader and the formats' dequantizers, so the model is checked against an independent
// reading of the same file.

#include <llmt/io/gguf.hpp>
#include <llmt/quant/formats.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

namespace llmt_test {

/// The policies of the model under test, as run-time values.
struct reference_config {
    enum class norm_kind { rms, layer } norm = norm_kind::rms;
    enum class ffn_kind { swiglu, geglu, gelu_mlp } ffn = ffn_kind::swiglu;
    bool neox = false;
    llmt::quant::qtype kv_type = llmt::quant::qtype::f32;  // keys and values are rounded through this type
    int window = -1;                                       // -1: the file's sliding window; 0: none
};

class reference_model {
public:
    reference_model(const llmt::io::gguf_file& f, reference_config cfg) : cfg_(cfg) {
        const std::string a = std::string(*f.get_string("general.architecture")) + ".";
        auto u = [&](const std::string& k, std::int64_t def) { return f.get_or<std::int64_t>(a + k, def); };
        auto fl = [&](const std::string& k, float def) { return f.get_or<float>(a + k, def); };
        dim_ = int(u("embedding_length", 0));
        n_layers_ = int(u("block_count", 0));
        hidden_ = int(u("feed_forward_length", 0));
        n_heads_ = int(u("attention.head_count", 0));
        n_kv_heads_ = int(u("attention.head_count_kv", n_heads_));
        head_size_ = int(u("attention.key_length", dim_ / n_heads_));
        n_rot_ = int(u("rope.dimension_count", head_size_));
        eps_ = cfg.norm == reference_config::norm_kind::rms ? fl("attention.layer_norm_rms_epsilon", 1e-5f)
                                                            : fl("attention.layer_norm_epsilon", 1e-5f);
        window_ = cfg.window >= 0 ? cfg.window : int(u("attention.sliding_window", 0));
        base_ = fl("rope.freq_base", 10000.0f);
        const std::string arch = std::string(*f.get_string("general.architecture"));
        gemma3_ = arch == "gemma3";
        attn_scale_ = 1.0 / std::sqrt(double(head_size_));
        if (gemma3_) {  // model/arch/gemma3.hpp, read here from the formulas of Gemma 3
            embed_scale_ = std::sqrt(double(dim_));
            const int pattern = int(u("attention.sliding_window_pattern", 6));
            for (int l = 0; l < n_layers_; ++l) local_.push_back(window_ > 0 && (pattern == 0 || l % pattern < pattern - 1));
            base_swa_ = fl("rope.freq_base_swa", 10000.0f);
        }
        std::string scaling = std::string(f.get_string(a + "rope.scaling.type").value_or("none"));
        factor_ = fl("rope.scaling.factor", 1.0f);
        if (scaling == "none" || factor_ == 1.0f) scaling = "none", factor_ = 1.0f;
        linear_ = scaling == "linear";
        yarn_ = scaling == "yarn";
        n_ctx_orig_ = float(u("rope.scaling.original_context_length", u("context_length", 0)));
        beta_fast_ = fl("rope.scaling.yarn_beta_fast", 32.0f);
        beta_slow_ = fl("rope.scaling.yarn_beta_slow", 1.0f);

        embed_ = load(f, "token_embd.weight");
        vocab_ = int(embed_.size() / std::size_t(dim_));
        out_ = f.find_tensor("output.weight") ? load(f, "output.weight") : embed_;
        out_norm_ = load(f, "output_norm.weight");
        out_norm_b_ = load_opt(f, "output_norm.bias");
        freq_factors_ = load_opt(f, "rope_freqs.weight");
        if (freq_factors_.empty())  // LongRoPE: the short factors within the original context (the tests' contexts)
            freq_factors_ = load_opt(f, "rope_factors_short.weight");
        layers_.resize(std::size_t(n_layers_));
        for (int l = 0; l < n_layers_; ++l) {
            auto& L = layers_[std::size_t(l)];
            auto n = [&](const char* what) { return "blk." + std::to_string(l) + "." + what; };
            L.attn_norm = load(f, n("attn_norm.weight"));
            L.attn_norm_b = load_opt(f, n("attn_norm.bias"));
            if (f.find_tensor(n("attn_qkv.weight"))) {  // fused: Q rows, then K, then V
                const auto qkv = load(f, n("attn_qkv.weight"));
                const std::size_t qn = std::size_t(n_heads_ * head_size_) * dim_, kn = std::size_t(n_kv_heads_ * head_size_) * dim_;
                L.wq.assign(qkv.begin(), qkv.begin() + std::ptrdiff_t(qn));
                L.wk.assign(qkv.begin() + std::ptrdiff_t(qn), qkv.begin() + std::ptrdiff_t(qn + kn));
                L.wv.assign(qkv.begin() + std::ptrdiff_t(qn + kn), qkv.end());
            } else {
                L.wq = load(f, n("attn_q.weight"));
                L.bq = load_opt(f, n("attn_q.bias"));
                L.wk = load(f, n("attn_k.weight"));
                L.bk = load_opt(f, n("attn_k.bias"));
                L.wv = load(f, n("attn_v.weight"));
                L.bv = load_opt(f, n("attn_v.bias"));
            }
            L.q_norm = load_opt(f, n("attn_q_norm.weight"));
            L.k_norm = load_opt(f, n("attn_k_norm.weight"));
            L.attn_post_norm = load_opt(f, n("post_attention_norm.weight"));
            L.ffn_post_norm = load_opt(f, n("post_ffw_norm.weight"));
            L.wo = load(f, n("attn_output.weight"));
            L.bo = load_opt(f, n("attn_output.bias"));
            L.ffn_norm = load(f, n("ffn_norm.weight"));
            L.ffn_norm_b = load_opt(f, n("ffn_norm.bias"));
            if (cfg.ffn != reference_config::ffn_kind::gelu_mlp && !f.find_tensor(n("ffn_gate.weight"))) {
                // fused gate-up (Phi-3): the gate's rows first
                const auto gu = load(f, n("ffn_up.weight"));
                L.w_gate.assign(gu.begin(), gu.begin() + std::ptrdiff_t(gu.size() / 2));
                L.w_up.assign(gu.begin() + std::ptrdiff_t(gu.size() / 2), gu.end());
            } else if (cfg.ffn != reference_config::ffn_kind::gelu_mlp) {
                L.w_gate = load(f, n("ffn_gate.weight"));
                L.b_gate = load_opt(f, n("ffn_gate.bias"));
            }
            if (L.w_up.empty()) L.w_up = load(f, n("ffn_up.weight"));
            L.b_up = load_opt(f, n("ffn_up.bias"));
            L.w_down = load(f, n("ffn_down.weight"));
            L.b_down = load_opt(f, n("ffn_down.bias"));
        }
        key_cache_.resize(std::size_t(n_layers_));
        value_cache_.resize(std::size_t(n_layers_));
    }

    [[nodiscard]] int vocab() const { return vocab_; }

    /// Runs one token at position pos (== the number of tokens run so far) and returns its logits.
    std::vector<float> step(int token, int pos) {
        if (pos != pos_) throw std::runtime_error("reference_model: positions must be consecutive");
        ++pos_;
        const int kv_dim = n_kv_heads_ * head_size_, q_dim = n_heads_ * head_size_;
        std::vector<float> x(embed_.begin() + std::ptrdiff_t(token) * dim_, embed_.begin() + std::ptrdiff_t(token + 1) * dim_);
        for (auto& e : x) e = float(e * embed_scale_);
        std::vector<float> xb(std::size_t(dim_), 0.0f), q(std::size_t(q_dim), 0.0f), k(std::size_t(kv_dim), 0.0f), v(std::size_t(kv_dim), 0.0f);
        std::vector<float> att_out(std::size_t(q_dim), 0.0f), hb(std::size_t(hidden_), 0.0f), hb2(std::size_t(hidden_), 0.0f);
        for (int l = 0; l < n_layers_; ++l) {
            auto& L = layers_[std::size_t(l)];
            norm(xb.data(), x.data(), L.attn_norm, L.attn_norm_b);
            matvec(q.data(), xb.data(), L.wq, L.bq, q_dim, dim_);
            matvec(k.data(), xb.data(), L.wk, L.bk, kv_dim, dim_);
            matvec(v.data(), xb.data(), L.wv, L.bv, kv_dim, dim_);
            const bool local = gemma3_ && local_[std::size_t(l)];
            if (!L.q_norm.empty())
                for (int h = 0; h < n_heads_; ++h) rms(q.data() + h * head_size_, L.q_norm, head_size_);
            if (!L.k_norm.empty())
                for (int h = 0; h < n_kv_heads_; ++h) rms(k.data() + h * head_size_, L.k_norm, head_size_);
            for (int h = 0; h < n_heads_; ++h) rotate(q.data() + h * head_size_, pos, local);
            for (int h = 0; h < n_kv_heads_; ++h) rotate(k.data() + h * head_size_, pos, local);
            round_through_kv_type(k);
            round_through_kv_type(v);
            key_cache_[std::size_t(l)].insert(key_cache_[std::size_t(l)].end(), k.begin(), k.end());
            value_cache_[std::size_t(l)].insert(value_cache_[std::size_t(l)].end(), v.begin(), v.end());
            const int win = gemma3_ ? (local ? window_ : 0) : window_;
            const int first = win > 0 ? std::max(0, pos - win + 1) : 0;
            for (int h = 0; h < n_heads_; ++h) {
                const int g = h / (n_heads_ / n_kv_heads_);
                const float* qh = q.data() + h * head_size_;
                std::vector<float> att;
                for (int t = first; t <= pos; ++t) {
                    const float* kt = key_cache_[std::size_t(l)].data() + std::size_t(t) * kv_dim + g * head_size_;
                    double s = 0;
                    for (int i = 0; i < head_size_; ++i) s += double(qh[i]) * kt[i];
                    att.push_back(float(s * attn_scale_));
                }
                softmax(att);
                float* o = att_out.data() + h * head_size_;
                for (int i = 0; i < head_size_; ++i) {
                    double s = 0;
                    for (int t = first; t <= pos; ++t)
                        s += double(att[std::size_t(t - first)]) *
                             value_cache_[std::size_t(l)][std::size_t(t) * kv_dim + g * head_size_ + i];
                    o[i] = float(s);
                }
            }
            matvec(xb.data(), att_out.data(), L.wo, L.bo, dim_, q_dim);
            if (!L.attn_post_norm.empty()) rms(xb.data(), L.attn_post_norm, dim_);
            for (int i = 0; i < dim_; ++i) x[i] += xb[i];

            norm(xb.data(), x.data(), L.ffn_norm, L.ffn_norm_b);
            matvec(hb2.data(), xb.data(), L.w_up, L.b_up, hidden_, dim_);
            if (cfg_.ffn == reference_config::ffn_kind::gelu_mlp) {
                for (int i = 0; i < hidden_; ++i) hb[i] = gelu(hb2[i]);
            } else {
                matvec(hb.data(), xb.data(), L.w_gate, L.b_gate, hidden_, dim_);
                for (int i = 0; i < hidden_; ++i) {
                    const float g = hb[i];
                    const float a = cfg_.ffn == reference_config::ffn_kind::swiglu ? g / (1.0f + std::exp(-g)) : gelu(g);
                    hb[i] = a * hb2[i];
                }
            }
            matvec(xb.data(), hb.data(), L.w_down, L.b_down, dim_, hidden_);
            if (!L.ffn_post_norm.empty()) rms(xb.data(), L.ffn_post_norm, dim_);
            for (int i = 0; i < dim_; ++i) x[i] += xb[i];
        }
        norm(xb.data(), x.data(), out_norm_, out_norm_b_);
        std::vector<float> logits(std::size_t(vocab_), 0.0f);
        matvec(logits.data(), xb.data(), out_, {}, vocab_, dim_);
        return logits;
    }

private:
    struct layer {
        std::vector<float> attn_norm, attn_norm_b;    // (dim)
        std::vector<float> wq, bq;                    // (n_heads * head_size, dim), (n_heads * head_size)
        std::vector<float> wk, bk;                    // (n_kv_heads * head_size, dim)
        std::vector<float> wv, bv;                    // (n_kv_heads * head_size, dim)
        std::vector<float> wo, bo;                    // (dim, n_heads * head_size)
        std::vector<float> ffn_norm, ffn_norm_b;      // (dim)
        std::vector<float> w_gate, b_gate;            // (hidden_dim, dim)
        std::vector<float> w_up, b_up;                // (hidden_dim, dim)
        std::vector<float> w_down, b_down;            // (dim, hidden_dim)
        std::vector<float> q_norm, k_norm;            // (head_size) or empty
        std::vector<float> attn_post_norm, ffn_post_norm;  // (dim) or empty
    };

    // In place: x = x / sqrt(mean(x²) + eps) * w over n values.
    void rms(float* x, const std::vector<float>& w, int n) const {
        double ss = 0;
        for (int i = 0; i < n; ++i) ss += double(x[i]) * x[i];
        const double s = 1.0 / std::sqrt(ss / n + eps_);
        for (int i = 0; i < n; ++i) x[i] = float(x[i] * s * w[std::size_t(i)]);
    }

    static std::vector<float> load(const llmt::io::gguf_file& f, const std::string& name) {
        const auto& t = f.require_tensor(name);
        const auto& e = llmt::quant::resolve<llmt::quant::all_formats>(t.type, name);
        std::vector<float> out(t.n_elements);
        const auto bytes = f.tensor_data(t);
        const std::size_t row = llmt::quant::row_size(t.type, t.ne[0]);
        for (std::uint64_t r = 0; r < t.n_rows(); ++r) e.dequantize_row(bytes.data() + r * row, out.data() + r * t.ne[0], std::int64_t(t.ne[0]));
        return out;
    }
    static std::vector<float> load_opt(const llmt::io::gguf_file& f, const std::string& name) {
        return f.find_tensor(name) ? load(f, name) : std::vector<float>{};
    }

    // out = W x (+ b); W: (rows, cols)
    static void matvec(float* out, const float* x, const std::vector<float>& w, const std::vector<float>& b, int rows, int cols) {
        for (int r = 0; r < rows; ++r) {
            double s = 0;
            for (int c = 0; c < cols; ++c) s += double(w[std::size_t(r) * cols + c]) * x[c];
            out[r] = float(s) + (b.empty() ? 0.0f : b[std::size_t(r)]);
        }
    }
    void norm(float* out, const float* x, const std::vector<float>& w, const std::vector<float>& b) const {
        if (cfg_.norm == reference_config::norm_kind::rms) {
            double ss = 0;
            for (int i = 0; i < dim_; ++i) ss += double(x[i]) * x[i];
            const double s = 1.0 / std::sqrt(ss / dim_ + eps_);
            for (int i = 0; i < dim_; ++i) out[i] = float(x[i] * s * w[std::size_t(i)]);
        } else {
            double mean = 0, var = 0;
            for (int i = 0; i < dim_; ++i) mean += x[i];
            mean /= dim_;
            for (int i = 0; i < dim_; ++i) var += (x[i] - mean) * (x[i] - mean);
            const double s = 1.0 / std::sqrt(var / dim_ + eps_);
            for (int i = 0; i < dim_; ++i) out[i] = float((x[i] - mean) * s * w[std::size_t(i)] + (b.empty() ? 0.0 : b[std::size_t(i)]));
        }
    }
    static void softmax(std::vector<float>& x) {
        const float mx = *std::max_element(x.begin(), x.end());
        double sum = 0;
        for (auto& v : x) sum += (v = std::exp(v - mx));
        for (auto& v : x) v = float(v / sum);
    }
    static float gelu(float x) {
        return 0.5f * x * (1.0f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
    }
    // RoPE of one head at position pos, angles from the formula with the file's scaling.
    void rotate(float* head, int pos, bool local = false) const {
        const double base = local ? double(base_swa_) : double(base_);
        const int half = n_rot_ / 2;
        const double pi = std::numbers::pi;
        // YaRN blend range over pair indices.
        auto corr = [&](double rotations) { return n_rot_ * std::log(n_ctx_orig_ / (rotations * 2 * pi)) / (2 * std::log(base)); };
        const double lo = std::max(0.0, std::floor(corr(beta_fast_))), hi = std::min(double(n_rot_ - 1), std::ceil(corr(beta_slow_)));
        for (int i = 0; i < half; ++i) {
            double freq = std::pow(base, -2.0 * i / n_rot_);
            if (!freq_factors_.empty() && !local) freq /= freq_factors_[std::size_t(i)];
            const double extrap = pos * freq;
            double theta = extrap, mscale = 1.0;
            if (linear_ && !local) theta = extrap / factor_;
            if (yarn_ && !local) {
                const double interp = extrap / factor_;
                const double ramp = 1.0 - std::clamp((i - lo) / std::max(0.001, hi - lo), 0.0, 1.0);
                theta = interp * (1 - ramp) + extrap * ramp;
                mscale = 1.0 + 0.1 * std::log(double(factor_));
            }
            const double c = std::cos(theta) * mscale, s = std::sin(theta) * mscale;
            float& a = cfg_.neox ? head[i] : head[2 * i];
            float& b = cfg_.neox ? head[i + half] : head[2 * i + 1];
            const double a0 = a, b0 = b;
            a = float(a0 * c - b0 * s);
            b = float(a0 * s + b0 * c);
        }
    }
    // What the KV cache stores: each head vector quantized to kv_type and read back.
    void round_through_kv_type(std::vector<float>& x) const {
        if (cfg_.kv_type == llmt::quant::qtype::f32) return;
        const auto& e = llmt::quant::resolve<llmt::quant::all_formats>(cfg_.kv_type, "kv");
        std::vector<std::byte> tmp(llmt::quant::row_size(cfg_.kv_type, std::size_t(head_size_)));
        for (std::size_t h = 0; h < x.size() / std::size_t(head_size_); ++h) {
            e.quantize_row(x.data() + h * head_size_, tmp.data(), head_size_);
            e.dequantize_row(tmp.data(), x.data() + h * head_size_, head_size_);
        }
    }

    reference_config cfg_;
    int dim_ = 0, n_layers_ = 0, hidden_ = 0, n_heads_ = 0, n_kv_heads_ = 0, head_size_ = 0, n_rot_ = 0, vocab_ = 0;
    int window_ = 0;
    float eps_ = 1e-5f, base_ = 10000.0f, factor_ = 1.0f, n_ctx_orig_ = 0, beta_fast_ = 32, beta_slow_ = 1;
    bool linear_ = false, yarn_ = false;
    bool gemma3_ = false;                           // Gemma 3: scaled embeddings, local layers
    double embed_scale_ = 1.0, attn_scale_ = 1.0;
    float base_swa_ = 10000.0f;                     // RoPE base of Gemma 3's local layers
    std::vector<bool> local_;                       // (layer) Gemma 3: a local sliding-window layer
    std::vector<float> embed_;                      // (vocab, dim)
    std::vector<float> out_;                        // (vocab, dim)
    std::vector<float> out_norm_, out_norm_b_;      // (dim)
    std::vector<float> freq_factors_;               // (n_rot / 2) or empty
    std::vector<layer> layers_;                     // (layer)
    std::vector<std::vector<float>> key_cache_;     // (layer, pos, n_kv_heads * head_size)
    std::vector<std::vector<float>> value_cache_;   // (layer, pos, n_kv_heads * head_size)
    int pos_ = 0;
};

}  // namespace llmt_test
