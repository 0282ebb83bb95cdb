// recipe: llama.cpp's choice of a type per tensor for a file type (Q4_K_M, Q8_0, ...): categories, layer rules, fallbacks
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/quant/qtype.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// The decisions reproduce llama.cpp's src/llama-quant.cpp (llama_tensor_get_type and its helpers,
// at commit 34af94cd) for files quantized without an importance matrix, so that llmt-quantize
// writes the same tensor types as llama-quantize.

LLMT_BEGIN_NAMESPACE
namespace quant {

/// llama.cpp's file types (`enum llama_ftype`); the value is what general.file_type stores.
enum class ftype : std::uint32_t {
    f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q8_0 = 7, q5_0 = 8, q5_1 = 9,
    q2_k = 10, q3_k_s = 11, q3_k_m = 12, q3_k_l = 13, q4_k_s = 14, q4_k_m = 15, q5_k_s = 16, q5_k_m = 17,
    q6_k = 18, iq2_xxs = 19, iq2_xs = 20, q2_k_s = 21, iq3_xs = 22, iq3_xxs = 23, iq1_s = 24, iq4_nl = 25,
    iq3_s = 26, iq3_m = 27, iq2_s = 28, iq2_m = 29, iq4_xs = 30, iq1_m = 31, bf16 = 32,
    tq1_0 = 36, tq2_0 = 37, mxfp4_moe = 38,
};

struct ftype_name {
    std::string_view name;  // as llama-quantize spells it
    ftype type;
};
/// The file types llmt-quantize offers (those whose tensor types llmt can write without an
/// importance matrix), with llama-quantize's aliases: Q3_K, Q4_K and Q5_K mean the _M mixes.
inline constexpr std::array<ftype_name, 24> ftype_names{{
    {"F32", ftype::f32},       {"F16", ftype::f16},       {"BF16", ftype::bf16},     {"Q4_0", ftype::q4_0},
    {"Q4_1", ftype::q4_1},     {"Q5_0", ftype::q5_0},     {"Q5_1", ftype::q5_1},     {"Q8_0", ftype::q8_0},
    {"Q2_K", ftype::q2_k},     {"Q3_K", ftype::q3_k_m},   {"Q3_K_S", ftype::q3_k_s}, {"Q3_K_M", ftype::q3_k_m},
    {"Q3_K_L", ftype::q3_k_l}, {"Q4_K", ftype::q4_k_m},   {"Q4_K_S", ftype::q4_k_s}, {"Q4_K_M", ftype::q4_k_m},
    {"Q5_K", ftype::q5_k_m},   {"Q5_K_S", ftype::q5_k_s}, {"Q5_K_M", ftype::q5_k_m}, {"Q6_K", ftype::q6_k},
    {"IQ4_NL", ftype::iq4_nl}, {"IQ4_XS", ftype::iq4_xs}, {"TQ1_0", ftype::tq1_0},   {"TQ2_0", ftype::tq2_0},
}};

/// A file type by its llama-quantize name, case-insensitively.
constexpr std::optional<ftype> ftype_from_name(std::string_view s) noexcept {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    for (const auto& f : ftype_names) {
        if (f.name.size() != s.size()) continue;
        bool eq = true;
        for (std::size_t i = 0; i < s.size() && eq; ++i) eq = lower(f.name[i]) == lower(s[i]);
        if (eq) return f.type;
    }
    return std::nullopt;
}

/// The tensor type a file type is mostly made of (llama_ftype_get_default_type).
constexpr qtype default_type(ftype f) noexcept {
    switch (f) {
        case ftype::f32: return qtype::f32;
        case ftype::f16: return qtype::f16;
        case ftype::bf16: return qtype::bf16;
        case ftype::q4_0: return qtype::q4_0;
        case ftype::q4_1: return qtype::q4_1;
        case ftype::q5_0: return qtype::q5_0;
        case ftype::q5_1: return qtype::q5_1;
        case ftype::q8_0: return qtype::q8_0;
        case ftype::mxfp4_moe: return qtype::mxfp4;
        case ftype::q2_k_s: case ftype::q2_k: return qtype::q2_k;
        case ftype::iq3_xs: return qtype::iq3_s;
        case ftype::q3_k_s: case ftype::q3_k_m: case ftype::q3_k_l: return qtype::q3_k;
        case ftype::q4_k_s: case ftype::q4_k_m: return qtype::q4_k;
        case ftype::q5_k_s: case ftype::q5_k_m: return qtype::q5_k;
        case ftype::q6_k: return qtype::q6_k;
        case ftype::tq1_0: return qtype::tq1_0;
        case ftype::tq2_0: return qtype::tq2_0;
        case ftype::iq2_xxs: return qtype::iq2_xxs;
        case ftype::iq2_xs: case ftype::iq2_s: return qtype::iq2_xs;
        case ftype::iq2_m: return qtype::iq2_s;
        case ftype::iq3_xxs: return qtype::iq3_xxs;
        case ftype::iq1_s: return qtype::iq1_s;
        case ftype::iq1_m: return qtype::iq1_m;
        case ftype::iq4_nl: return qtype::iq4_nl;
        case ftype::iq4_xs: return qtype::iq4_xs;
        case ftype::iq3_s: case ftype::iq3_m: return qtype::iq3_s;
    }
    return qtype::f32;
}

/// True for block formats (everything but the plain float/int element types), like ggml_is_quantized.
constexpr bool is_block_quantized(qtype t) noexcept {
    switch (t) {
        case qtype::f32: case qtype::f16: case qtype::bf16: case qtype::f64:
        case qtype::i8: case qtype::i16: case qtype::i32: case qtype::i64: return false;
        default: return true;
    }
}

/// Broad roles of tensors that the recipes treat differently.
enum class tensor_category {
    token_embd, attn_q, attn_v, attn_k, attn_qkv, attn_kv_b, attn_output, ffn_up, ffn_gate, ffn_down, output, other,
};

/// The role of a tensor by name (checked in llama.cpp's order: the first match wins).
inline tensor_category categorize(std::string_view name) noexcept {
    auto has = [&](std::string_view s) { return name.find(s) != std::string_view::npos; };
    if (name == "output.weight") return tensor_category::output;
    if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return tensor_category::token_embd;
    if (has("attn_qkv.weight")) return tensor_category::attn_qkv;
    if (has("attn_kv_b.weight")) return tensor_category::attn_kv_b;
    if (has("attn_v.weight")) return tensor_category::attn_v;
    if (has("attn_k.weight")) return tensor_category::attn_k;
    if (has("attn_q.weight")) return tensor_category::attn_q;
    if (has("attn_output.weight")) return tensor_category::attn_output;
    if (has("ffn_up")) return tensor_category::ffn_up;
    if (has("ffn_gate")) return tensor_category::ffn_gate;
    if (has("ffn_down")) return tensor_category::ffn_down;
    return tensor_category::other;
}

/// attn_v and the fused tensors that contain it: the recipes give them more bits.
constexpr bool is_attn_v_like(tensor_category c) noexcept {
    return c == tensor_category::attn_v || c == tensor_category::attn_qkv || c == tensor_category::attn_kv_b;
}

/// What the recipes need to know about the model (from its GGUF metadata).
struct model_info {
    std::string arch;        // general.architecture ("llama", "falcon", ...)
    int n_layer = 0;         // {arch}.block_count
    int n_head = 0;          // {arch}.attention.head_count (of layer 0)
    int n_head_kv = 0;       // {arch}.attention.head_count_kv (of layer 0)
    int n_expert = 0;        // {arch}.expert_count
    [[nodiscard]] int n_gqa() const noexcept { return n_head_kv > 0 ? n_head / n_head_kv : 0; }
    /// llama.cpp's LLM_TYPE_70B, the one model size the recipes single out.
    [[nodiscard]] bool is_70b() const noexcept {
        if (arch == "llama") return n_expert != 8 && n_layer == 80 && n_head != n_head_kv;
        if (arch == "deci" || arch == "olmo" || arch == "qwen2") return n_layer == 80;
        if (arch == "jais2") return n_layer == 68;
        return false;
    }
};

/// One tensor of the input, as the recipe sees it.
struct tensor_desc {
    std::string name;
    qtype type = qtype::f32;
    std::uint32_t n_dims = 0;
    std::array<std::uint64_t, 4> ne{1, 1, 1, 1};  // ne[0] is the row length
};

/// `--tensor-type PATTERN=TYPE`: the first pattern found in a tensor's name (ECMAScript regex search) sets its type.
struct type_override {
    std::string pattern;
    qtype type;
};

struct recipe_options {
    ftype file_type = ftype::q8_0;
    bool pure = false;                     // --pure: no mixture, every quantizable tensor gets the default type
    bool quantize_output = true;           // false: --leave-output-tensor
    std::optional<qtype> output_type;      // --output-tensor-type
    std::optional<qtype> token_embd_type;  // --token-embedding-type
    std::vector<type_override> overrides;  // --tensor-type, in order
};

/// The decision for one tensor.
struct tensor_plan {
    qtype type = qtype::f32;  // the type it is written with
    bool quantizable = false; // false: copied as is (1-D tensors, norms, ...)
    bool fallback = false;    // its row length did not fit the first choice
    std::string note;         // why it is not what was asked for (fallbacks, overrides), empty if nothing to say
};

/// The N of a "blk.N." tensor name (what sscanf("blk.%d.") reads: an optional sign, then digits), or nullopt.
constexpr std::optional<int> block_index(std::string_view name) noexcept {
    if (name.substr(0, 4) != "blk.") return std::nullopt;
    std::size_t i = 4;
    bool neg = false;
    if (i < name.size() && (name[i] == '+' || name[i] == '-')) neg = name[i++] == '-';
    if (i >= name.size() || name[i] < '0' || name[i] > '9') return std::nullopt;
    long long v = 0;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) v = std::min(v * 10 + (name[i] - '0'), 1LL << 40);
    v = neg ? -v : v;
    return int(std::clamp(v, -(1LL << 31), (1LL << 31) - 1));
}

/// llama.cpp's processing order: tensors outside blocks first, then by block number, then by name.
inline bool processing_order_less(std::string_view a, std::string_view b) noexcept {
    const int la = block_index(a).value_or(-1), lb = block_index(b).value_or(-1);
    return la != lb ? la < lb : a < b;
}

/// True if the tensor may be converted at all: 2-D or more, named *weight, and not one of the
/// small or sensitive tensors llama.cpp always keeps (norms, expert routers, position tables, ...).
inline bool allows_quantization(const tensor_desc& t, const recipe_options& o) {
    if (t.n_dims < 2) return false;
    const std::string_view name = t.name;
    auto has = [&](std::string_view s) { return name.find(s) != std::string_view::npos; };
    if (name.size() < 6 || name.substr(name.size() - 6) != "weight") return false;
    if (has("_norm.weight")) return false;
    if (!o.quantize_output && name == "output.weight") return false;
    static constexpr std::string_view never[] = {
        "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
        "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
        "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
        "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
        "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
        "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
        "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos",
        ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
    };
    for (auto s : never)
        if (has(s)) return false;
    return name != "position_embd.weight" && name != "token_types.weight";
}

/// Decides the type of every tensor. `tensors` must be in processing order (processing_order_less):
/// the layer rules count attn_v / ffn_* tensors as they come, as llama.cpp does.
class recipe {
public:
    recipe(model_info model, recipe_options opts) : m_(std::move(model)), o_(std::move(opts)) {
        for (const auto& ov : o_.overrides) {
            try {
                patterns_.emplace_back(std::regex(ov.pattern), ov.type);
            } catch (const std::regex_error& e) {
                fail(errc::invalid_argument, "--tensor-type pattern '{}' is not a valid regular expression: {}", ov.pattern, e.what());
            }
        }
    }

    std::vector<tensor_plan> plan(std::span<const tensor_desc> tensors) {
        n_attn_v_ = i_attn_v_ = i_ffn_down_ = i_ffn_gate_ = i_ffn_up_ = 0;
        tied_embeddings_ = true;
        for (const auto& t : tensors) {
            const auto c = categorize(t.name);
            if (is_attn_v_like(c)) ++n_attn_v_;
            if (c == tensor_category::output) tied_embeddings_ = false;
        }
        n_ffn_ = m_.n_layer;
        std::vector<tensor_plan> out;
        out.reserve(tensors.size());
        for (const auto& t : tensors) out.push_back(decide(t));
        return out;
    }

    /// llama.cpp's use_more_bits: the first and last eighth of the layers and every third one between.
    static constexpr bool use_more_bits(int i_layer, int n_layers) noexcept {
        return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
    }

private:
    tensor_plan decide(const tensor_desc& t) {
        tensor_plan p;
        p.type = t.type;
        p.quantizable = allows_quantization(t, o_);
        if (!p.quantizable) return p;
        const auto cat = categorize(t.name);
        if (o_.token_embd_type && cat == tensor_category::token_embd) return p.type = *o_.token_embd_type, p;
        if (o_.output_type && cat == tensor_category::output) return p.type = *o_.output_type, p;

        const qtype def = default_type(o_.file_type);
        p.type = def;
        if (!is_block_quantized(def)) return p;  // F32/F16/BF16 files: no mixture, no overrides
        bool manual = false;
        for (const auto& [re, type] : patterns_)
            if (std::regex_search(t.name, re)) {
                if (type != p.type) p.note = fmt::format("override {} -> {}", name(p.type), name(type));
                p.type = type;
                manual = true;
                break;
            }
        if (!manual && !o_.pure) p.type = mixture_type(p.type, t, cat);
        fallback(t, p);
        return p;
    }

    /// tensor_type_fallback: a row length that is not a multiple of the block size gets a type whose block fits.
    void fallback(const tensor_desc& t, tensor_plan& p) const {
        const std::uint64_t bs = block_size(p.type);
        if (bs != 0 && t.ne[0] % bs == 0) return;
        const qtype asked = p.type;
        p.fallback = true;
        switch (asked) {
            case qtype::iq1_s: case qtype::iq1_m: case qtype::iq2_xxs: case qtype::iq2_xs: case qtype::iq2_s:
            case qtype::iq3_xxs: case qtype::iq3_s: case qtype::iq4_xs: p.type = qtype::iq4_nl; break;
            case qtype::q2_k: case qtype::q3_k: case qtype::tq1_0: case qtype::tq2_0: p.type = qtype::q4_0; break;
            case qtype::q4_k: p.type = qtype::q5_0; break;
            case qtype::q5_k: p.type = qtype::q5_1; break;
            case qtype::q6_k: p.type = qtype::q8_0; break;
            default:
                // llama.cpp stops here ("no tensor type fallback is defined"); llmt keeps going with F16.
                p.type = qtype::f16;
                p.note = fmt::format("row length {} is not a multiple of {} (block {}); llama.cpp refuses this, using f16",
                                     t.ne[0], name(asked), bs);
                return;
        }
        if (t.ne[0] % block_size(p.type) != 0) p.type = qtype::f16;
        p.note = fmt::format("row length {} does not fit {} (block {}), falling back to {}", t.ne[0], name(asked), bs, name(p.type));
    }

    /// The layer index of a per-layer tensor: a running count, or parsed from the name for MoE models.
    int layer_of(int counter, const tensor_desc& t) const {
        if (m_.n_expert <= 1) return counter;
        const auto idx = block_index(t.name);
        if (!idx) fail(errc::format, "cannot determine the layer of tensor '{}'", t.name);
        const int l = *idx;
        if (l < 0 || l >= n_ffn_) fail(errc::format, "tensor '{}' names layer {} of {}", t.name, l, n_ffn_);
        return l;
    }

    /// llama_tensor_get_type_impl, the mixtures. new_type starts as the file type's default type.
    qtype mixture_type(qtype new_type, const tensor_desc& t, tensor_category cat) {
        using F = ftype;
        using Q = qtype;
        const F ft = o_.file_type;
        const bool falcon = m_.arch == "falcon";
        const int n_gqa = m_.n_gqa(), n_expert = m_.n_expert;
        auto is = [ft](std::initializer_list<F> fs) { return std::find(fs.begin(), fs.end(), ft) != fs.end(); };
        const bool iq1_2 = is({F::iq2_xxs, F::iq2_xs, F::iq1_s, F::iq2_s, F::iq2_m, F::iq1_m});

        if (cat == tensor_category::output || (tied_embeddings_ && cat == tensor_category::token_embd)) {
            if (o_.output_type) return *o_.output_type;
            const std::uint64_t bs = block_size(new_type);
            if (ft == F::mxfp4_moe) return Q::q8_0;
            if (falcon || bs == 0 || t.ne[0] % bs != 0) return Q::q8_0;
            if (is({F::iq2_xxs, F::iq2_xs, F::iq3_xxs, F::iq1_s, F::iq2_s, F::iq2_m, F::iq1_m})) return Q::q5_k;
            if (new_type != Q::q8_0) return Q::q6_k;
            return new_type;
        }
        if (ft == F::mxfp4_moe) {  // expert tensors (3-D) MXFP4, the rest Q8_0
            const bool expert_role = cat == tensor_category::ffn_up || cat == tensor_category::ffn_gate || cat == tensor_category::ffn_down;
            return t.ne[2] > 1 && (m_.arch != "bailingmoe3" || expert_role) ? Q::mxfp4 : Q::q8_0;
        }
        if (cat == tensor_category::token_embd) {
            if (o_.token_embd_type) return *o_.token_embd_type;
            if (is({F::iq2_xxs, F::iq2_xs, F::iq1_s, F::iq1_m})) return Q::q2_k;
            if (is({F::iq2_s, F::iq2_m, F::iq3_xxs})) return Q::iq3_s;
            if (is({F::tq1_0, F::tq2_0})) return Q::q4_k;
            return new_type;
        }
        if (iq1_2) {
            const bool s_m = is({F::iq2_s, F::iq2_m});
            if (is_attn_v_like(cat)) {
                new_type = (n_gqa >= 4 || n_expert >= 4) ? Q::q4_k : s_m ? Q::iq3_s : Q::q2_k;
                ++i_attn_v_;
            } else if (n_expert == 8 && cat == tensor_category::attn_k) {
                new_type = Q::q4_k;
            } else if (cat == tensor_category::ffn_down) {
                if (i_ffn_down_ < n_ffn_ / 8) new_type = s_m ? Q::iq3_s : Q::q2_k;
                ++i_ffn_down_;
            } else if (cat == tensor_category::attn_output) {
                if (n_expert == 8) new_type = Q::q5_k;
                else if (is({F::iq1_s, F::iq1_m})) new_type = Q::iq2_xxs;
                else if (s_m) new_type = Q::iq3_s;
            }
            return new_type;
        }
        if (is_attn_v_like(cat)) {
            if (ft == F::q2_k) new_type = n_gqa >= 4 ? Q::q4_k : Q::q3_k;
            else if (ft == F::q2_k_s && n_gqa >= 4) new_type = Q::q4_k;
            else if (ft == F::iq3_xxs) new_type = n_gqa >= 4 ? Q::q4_k : Q::iq3_s;  // no imatrix
            else if (is({F::iq3_xs, F::iq3_s}) && n_gqa >= 4) new_type = Q::q4_k;
            else if (ft == F::iq3_m) new_type = Q::q4_k;
            else if (ft == F::q3_k_m) new_type = i_attn_v_ < 2 ? Q::q5_k : Q::q4_k;
            else if (ft == F::q3_k_l) new_type = Q::q5_k;
            else if (is({F::iq4_nl, F::iq4_xs}) && n_gqa >= 4) new_type = Q::q5_k;
            else if (is({F::q4_k_m, F::q5_k_m}) && use_more_bits(i_attn_v_, n_attn_v_)) new_type = Q::q6_k;
            else if (ft == F::q4_k_s && i_attn_v_ < 4) new_type = Q::q5_k;
            if (m_.is_70b() && (new_type == Q::q3_k || new_type == Q::q4_k)) new_type = Q::q5_k;
            if (n_expert == 8) new_type = Q::q8_0;
            ++i_attn_v_;
            return new_type;
        }
        switch (cat) {
            case tensor_category::attn_k:
                if (n_expert == 8) new_type = Q::q8_0;
                else if (ft == F::iq3_xs) new_type = Q::iq3_xxs;
                else if (ft == F::iq3_xxs) new_type = Q::iq2_s;
                break;
            case tensor_category::attn_q:
                if (ft == F::iq3_xs) new_type = Q::iq3_xxs;
                else if (ft == F::iq3_xxs) new_type = Q::iq2_s;
                break;
            case tensor_category::ffn_down: {
                const int i = layer_of(i_ffn_down_, t), n = n_ffn_;
                if (ft == F::q2_k) new_type = Q::q3_k;
                else if (ft == F::q2_k_s) { if (i < n / 8) new_type = Q::q4_k; }
                else if (ft == F::iq3_xxs) new_type = i < n / 8 ? Q::q4_k : Q::q3_k;  // no imatrix
                else if (ft == F::q3_k_m)
                    new_type = i < n / 16 ? Q::q5_k : (!falcon || use_more_bits(i, n)) ? Q::q4_k : Q::q3_k;
                else if (ft == F::iq3_m && (i < n / 8 || (n_expert == 8 && use_more_bits(i, n)))) new_type = Q::q4_k;
                else if (ft == F::q3_k_l) new_type = falcon ? Q::q4_k : Q::q5_k;
                else if (ft == F::q4_k_m) {
                    if (falcon) new_type = i < n / 16 ? Q::q6_k : use_more_bits(i, n) ? Q::q5_k : Q::q4_k;
                    else if (use_more_bits(i, n)) new_type = Q::q6_k;
                }
                else if (i < n / 8 && is({F::iq4_nl, F::iq4_xs})) new_type = Q::q5_k;  // no imatrix
                else if (ft == F::q5_k_m && use_more_bits(i, n)) new_type = Q::q6_k;
                else if (ft == F::q4_k_s && !falcon && i < n / 8) new_type = Q::q5_k;
                // (Q4_0/Q5_0 bump the first ffn_down layers only with an imatrix)
                ++i_ffn_down_;
                break;
            }
            case tensor_category::attn_output:
                if (!falcon) {
                    if (n_expert == 8) {
                        if (is({F::q2_k, F::iq3_xs, F::iq3_xxs, F::q3_k_s, F::q3_k_m, F::iq4_nl, F::q4_k_s, F::q4_k_m,
                                F::iq3_s, F::iq3_m, F::iq4_xs}))
                            new_type = Q::q5_k;
                    } else {
                        if (ft == F::q2_k) new_type = Q::q3_k;
                        else if (ft == F::iq3_xxs) new_type = Q::iq3_s;
                        else if (ft == F::q3_k_m) new_type = Q::q4_k;
                        else if (ft == F::q3_k_l) new_type = Q::q5_k;
                        else if (ft == F::iq3_m) new_type = Q::q4_k;
                    }
                } else if (ft == F::q3_k_l) {
                    new_type = Q::q4_k;
                }
                break;
            case tensor_category::ffn_gate:
            case tensor_category::ffn_up: {
                int& counter = cat == tensor_category::ffn_gate ? i_ffn_gate_ : i_ffn_up_;
                const int i = layer_of(counter, t), n = n_ffn_;
                if (ft == F::iq3_xs && i >= n / 8 && i < 7 * n / 8) new_type = Q::iq3_xxs;
                ++counter;
                break;
            }
            default: break;
        }
        return new_type;
    }

    model_info m_;
    recipe_options o_;
    std::vector<std::pair<std::regex, qtype>> patterns_;
    int n_attn_v_ = 0, i_attn_v_ = 0;
    int n_ffn_ = 0, i_ffn_down_ = 0, i_ffn_gate_ = 0, i_ffn_up_ = 0;
    bool tied_embeddings_ = true;
};

}  // namespace quant
LLMT_END_NAMESPACE
