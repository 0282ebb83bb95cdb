// fuzz_load: libFuzzer target: a valid model whose metadata and tensors the input edits, loaded by load_any and run
#include "fuzz_input.hpp"

#include <llmt/core/error.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/io/gguf_writer.hpp>
#include <llmt/model/load_any.hpp>
#include <llmt/quant/dispatch.hpp>
#include <llmt/quant/formats.hpp>
#include <llmt/tokenizer/tokenizer.hpp>
#include <llmt/tokenizer/unicode.hpp>

#include <fmt/format.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using llmt::io::gguf_owned_value;
using llmt::io::gguf_type;
using llmt::quant::qtype;
using llmt_fuzz::finding;
using llmt_fuzz::input;

constexpr std::string_view target = "fuzz_load";
constexpr std::uint64_t max_tensor_bytes = std::uint64_t(8) << 20;  // a skeleton stays small: the file must hold its data

struct tensor {
    std::string name;
    qtype type = qtype::f32;
    std::vector<std::uint64_t> ne;  // ne[0] = row length
    std::vector<std::byte> data;
};

/// A GGUF file as editable parts: keys in order, tensors in order.
struct document {
    std::uint32_t version = 3;
    std::vector<std::pair<std::string, gguf_owned_value>> kvs;
    std::vector<tensor> tensors;

    gguf_owned_value* find(std::string_view key) {
        for (auto& kv : kvs)
            if (kv.first == key) return &kv.second;
        return nullptr;
    }
    void set(std::string_view key, gguf_owned_value v) {
        if (auto* p = find(key)) *p = std::move(v);
        else kvs.emplace_back(std::string(key), std::move(v));
    }
};

std::vector<document>& skeletons() {
    static std::vector<document> s;
    return s;
}

// Bytes of a tensor of `type` and shape `ne`, or nullopt when the shape cannot be stored or is too large.
std::optional<std::uint64_t> tensor_bytes(qtype type, std::span<const std::uint64_t> ne) {
    if (!llmt::quant::is_sized(std::uint32_t(type)) || ne.empty() || ne.size() > 4) return std::nullopt;
    std::uint64_t n = 1;
    for (auto d : ne) {
        if (d == 0 || n > (std::uint64_t(1) << 40) / d) return std::nullopt;
        n *= d;
    }
    if (ne[0] % llmt::quant::block_size(type) != 0) return std::nullopt;
    const std::uint64_t bytes = n / llmt::quant::block_size(type) * llmt::quant::type_size(type);
    if (bytes > max_tensor_bytes) return std::nullopt;
    return bytes;
}

// Deterministic data (a function of type and shape): values in [-0.5, 0.5) quantized row by row where the
// format can and the tensor is small, else pattern bytes.
std::vector<std::byte> quantized_data(qtype type, std::span<const std::uint64_t> ne) {
    const auto bytes = tensor_bytes(type, ne);
    if (!bytes) return {};
    std::vector<std::byte> out(*bytes);
    std::uint32_t x = 2463534242u ^ (std::uint32_t(type) * 2654435761u);
    for (auto d : ne) x = (x ^ std::uint32_t(d)) * 16777619u;
    if (x == 0) x = 1;  // xorshift would stay at 0
    auto next = [&] {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        return x;
    };
    const llmt::quant::format_entry* e = nullptr;
    try {
        e = &llmt::quant::resolve<llmt::quant::all_formats>(type, "fuzz");
    } catch (const llmt::error&) {
    }
    // Quantizing is slow (K-quants search scales): large tensors get pattern bytes instead, scales and all.
    std::uint64_t n = 1;
    for (auto d : ne) n *= d;
    if (!e || n > (std::uint64_t(1) << 18)) {
        for (auto& b : out) b = std::byte(next() & 0xff);
        return out;
    }
    const auto cols = std::size_t(ne[0]);
    const std::size_t row_bytes = llmt::quant::row_size(type, cols);
    std::vector<float> row(cols);
    for (std::size_t r = 0; r * row_bytes < out.size(); ++r) {
        for (auto& v : row) v = float(next() >> 8) * 0x1p-24f - 0.5f;
        e->quantize_row(row.data(), out.data() + r * row_bytes, std::int64_t(cols));
    }
    return out;
}

// quantized_data, remembered by type and shape: the same edits come back all the time, and quantizing
// (K-quant scale searches) would otherwise take most of an execution.
std::vector<std::byte> make_data(qtype type, std::span<const std::uint64_t> ne) {
    static std::map<std::pair<qtype, std::vector<std::uint64_t>>, std::vector<std::byte>> cache;
    static std::size_t cached_bytes = 0;
    std::pair<qtype, std::vector<std::uint64_t>> key{type, std::vector<std::uint64_t>(ne.begin(), ne.end())};
    if (auto it = cache.find(key); it != cache.end()) return it->second;
    auto data = quantized_data(type, ne);
    if (cached_bytes + data.size() > (std::size_t(256) << 20)) {
        cache.clear();
        cached_bytes = 0;
    }
    cached_bytes += data.size();
    cache.emplace(std::move(key), data);
    return data;
}

tensor make_tensor(std::string name, qtype type, std::vector<std::uint64_t> ne) {
    tensor t{std::move(name), type, std::move(ne), {}};
    t.data = make_data(t.type, t.ne);
    if (t.data.empty()) finding(target, "a skeleton tensor cannot be made");
    return t;
}

// The tensors of a llama model of these sizes, each matrix in the next type of `types`.
void add_llama_tensors(document& d, int n_embd, int n_layer, int n_head, int n_head_kv, int n_ff, int n_vocab, bool tied,
                       std::span<const qtype> types) {
    const auto e = std::uint64_t(n_embd), v = std::uint64_t(n_vocab), f = std::uint64_t(n_ff);
    const auto kv = e / std::uint64_t(n_head) * std::uint64_t(n_head_kv);
    std::size_t k = 0;
    auto next_type = [&] { return types[k++ % types.size()]; };
    d.tensors.push_back(make_tensor("token_embd.weight", next_type(), {e, v}));
    d.tensors.push_back(make_tensor("output_norm.weight", qtype::f32, {e}));
    if (!tied) d.tensors.push_back(make_tensor("output.weight", next_type(), {e, v}));
    for (int l = 0; l < n_layer; ++l) {
        auto name = [&](std::string_view what) { return fmt::format("blk.{}.{}", l, what); };
        d.tensors.push_back(make_tensor(name("attn_norm.weight"), qtype::f32, {e}));
        d.tensors.push_back(make_tensor(name("attn_q.weight"), next_type(), {e, e}));
        d.tensors.push_back(make_tensor(name("attn_k.weight"), next_type(), {e, kv}));
        d.tensors.push_back(make_tensor(name("attn_v.weight"), next_type(), {e, kv}));
        d.tensors.push_back(make_tensor(name("attn_output.weight"), next_type(), {e, e}));
        d.tensors.push_back(make_tensor(name("ffn_norm.weight"), qtype::f32, {e}));
        d.tensors.push_back(make_tensor(name("ffn_gate.weight"), next_type(), {e, f}));
        d.tensors.push_back(make_tensor(name("ffn_up.weight"), next_type(), {e, f}));
        d.tensors.push_back(make_tensor(name("ffn_down.weight"), next_type(), {f, e}));
    }
}

void set_llama_sizes(document& d, int n_embd, int n_layer, int n_head, int n_head_kv, int n_ff, int n_ctx) {
    d.set("general.architecture", gguf_owned_value::of("llama"));
    d.set("llama.context_length", gguf_owned_value::of(std::uint32_t(n_ctx)));
    d.set("llama.embedding_length", gguf_owned_value::of(std::uint32_t(n_embd)));
    d.set("llama.block_count", gguf_owned_value::of(std::uint32_t(n_layer)));
    d.set("llama.feed_forward_length", gguf_owned_value::of(std::uint32_t(n_ff)));
    d.set("llama.attention.head_count", gguf_owned_value::of(std::uint32_t(n_head)));
    d.set("llama.attention.head_count_kv", gguf_owned_value::of(std::uint32_t(n_head_kv)));
    d.set("llama.rope.dimension_count", gguf_owned_value::of(std::uint32_t(n_embd / n_head)));
    d.set("llama.attention.layer_norm_rms_epsilon", gguf_owned_value::of(1e-5f));
    d.set("llama.rope.freq_base", gguf_owned_value::of(10000.0f));
}

document read_document(const llmt::io::gguf_file& g) {
    document d;
    d.version = g.version();
    for (const auto& kv : g.metadata()) d.kvs.emplace_back(std::string(kv.key), gguf_owned_value::from(kv.value));
    for (const auto& t : g.tensors()) {
        const auto bytes = g.tensor_data(t);
        d.tensors.push_back({std::string(t.name), t.type, std::vector<std::uint64_t>(t.ne.begin(), t.ne.begin() + t.n_dims),
                             std::vector<std::byte>(bytes.begin(), bytes.end())});
    }
    return d;
}

// Skeleton 0: stories260K's SentencePiece vocabulary (512 tokens) on a tiny model in small-block formats, tied output.
document tiny_spm(const llmt::io::gguf_file& stories) {
    document d;
    for (const auto& kv : stories.metadata())
        if (kv.key.starts_with("tokenizer.") || kv.key.starts_with("general.")) d.kvs.emplace_back(std::string(kv.key), gguf_owned_value::from(kv.value));
    set_llama_sizes(d, 32, 2, 4, 2, 64, 128);
    const qtype types[] = {qtype::f16, qtype::q8_0, qtype::f32, qtype::q4_0, qtype::bf16, qtype::q5_1, qtype::iq4_nl,
                           qtype::q4_1, qtype::q5_0, qtype::mxfp4};
    add_llama_tensors(d, 32, 2, 4, 2, 64, 512, /*tied=*/true, types);
    return d;
}

// Skeleton 2: a made-up byte-level BPE vocabulary (256 byte characters, 3 merges, 1 control) on a model
// whose rows are one K-quant super-block, with a separate output matrix.
document tiny_bpe() {
    document d;
    std::vector<std::string> tokens;
    for (int b = 0; b < 256; ++b) tokens.push_back(llmt::tokenizer::utf8_encode(llmt::tokenizer::byte_to_unicode(std::uint8_t(b))));
    for (const char* t : {"\xC4\xA0t", "he", "\xC4\xA0the", "<|endoftext|>"}) tokens.emplace_back(t);
    std::vector<std::int32_t> types(tokens.size(), 1);
    types.back() = 3;  // control
    d.set("general.name", gguf_owned_value::of("fuzz-bpe"));
    d.set("tokenizer.ggml.model", gguf_owned_value::of("gpt2"));
    d.set("tokenizer.ggml.pre", gguf_owned_value::of("gpt-2"));
    d.set("tokenizer.ggml.tokens", gguf_owned_value::array_of(tokens));
    d.set("tokenizer.ggml.token_type", gguf_owned_value::array_of(types));
    d.set("tokenizer.ggml.merges", gguf_owned_value::array_of(std::vector<std::string>{"\xC4\xA0 t", "h e", "\xC4\xA0t he"}));
    d.set("tokenizer.ggml.bos_token_id", gguf_owned_value::of(std::uint32_t(259)));
    d.set("tokenizer.ggml.eos_token_id", gguf_owned_value::of(std::uint32_t(259)));
    set_llama_sizes(d, 256, 1, 2, 1, 256, 64);
    const qtype types_k[] = {qtype::q4_k, qtype::q6_k, qtype::q5_k, qtype::q2_k, qtype::q3_k, qtype::iq4_xs,
                             qtype::q8_0, qtype::tq2_0, qtype::tq1_0};
    add_llama_tensors(d, 256, 1, 2, 1, 256, 260, /*tied=*/false, types_k);
    return d;
}

// ---- edits ----

constexpr std::string_view known_keys[] = {
    "general.architecture", "general.alignment", "general.name",
    "llama.context_length", "llama.embedding_length", "llama.block_count", "llama.feed_forward_length",
    "llama.attention.head_count", "llama.attention.head_count_kv", "llama.attention.key_length",
    "llama.attention.value_length", "llama.attention.layer_norm_rms_epsilon", "llama.attention.layer_norm_epsilon",
    "llama.attention.sliding_window", "llama.rope.dimension_count", "llama.rope.freq_base", "llama.rope.scaling.type",
    "llama.rope.scaling.factor", "llama.rope.scale_linear", "llama.rope.scaling.original_context_length",
    "llama.rope.scaling.attn_factor", "llama.rope.scaling.yarn_ext_factor", "llama.rope.scaling.yarn_attn_factor",
    "llama.rope.scaling.yarn_beta_fast", "llama.rope.scaling.yarn_beta_slow", "llama.vocab_size",
    "tokenizer.ggml.model", "tokenizer.ggml.pre", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
    "tokenizer.ggml.token_type", "tokenizer.ggml.merges", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
    "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id", "tokenizer.ggml.unknown_token_id",
    "tokenizer.ggml.seperator_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.mask_token_id",
    "tokenizer.ggml.prefix_token_id", "tokenizer.ggml.fim_pre_token_id", "tokenizer.ggml.add_bos_token",
    "tokenizer.ggml.add_eos_token", "tokenizer.ggml.add_sep_token", "tokenizer.ggml.add_space_prefix",
    "tokenizer.ggml.remove_extra_whitespaces", "tokenizer.ggml.normalizer.lowercase", "tokenizer.chat_template",
};

constexpr std::string_view known_strings[] = {
    "llama", "gpt2", "bert", "t5", "", "none", "linear", "yarn", "longrope", "default", "gpt-2", "llama3", "llama-bpe",
    "deepseek-coder", "qwen2", "falcon", "starcoder", "<s>", "</s>", "<|endoftext|>", "\xE2\x96\x81", "\xC4\xA0",
};

constexpr std::string_view tensor_kinds[] = {
    "attn_norm.weight", "attn_norm.bias", "attn_q.weight", "attn_q.bias", "attn_k.weight", "attn_k.bias",
    "attn_v.weight", "attn_v.bias", "attn_output.weight", "attn_output.bias", "ffn_norm.weight", "ffn_norm.bias",
    "ffn_gate.weight", "ffn_up.weight", "ffn_up.bias", "ffn_down.weight", "ffn_down.bias", "attn_k_norm.weight",
};

std::string pick_key(input& in, const document& d) {
    const std::uint8_t k = in.u8();
    if (k < std::size(known_keys)) return std::string(known_keys[k]);
    if (k < 250 && !d.kvs.empty()) return d.kvs[k % d.kvs.size()].first;
    return in.str();
}

std::string pick_string(input& in) {
    const std::uint8_t k = in.u8();
    if (k < std::size(known_strings)) return std::string(known_strings[k]);
    return in.str();
}

std::string pick_tensor_name(input& in) {
    const std::uint8_t k = in.u8();
    switch (k % 8) {
        case 0: return "token_embd.weight";
        case 1: return "output.weight";
        case 2: return "output_norm.weight";
        case 3: return "rope_freqs.weight";
        case 4: return in.str();
        default: {
            const auto layer = in.u8() < 240 ? std::int64_t(in.u8() % 4) : in.integer();
            return fmt::format("blk.{}.{}", layer, tensor_kinds[in.u8() % std::size(tensor_kinds)]);
        }
    }
}

qtype pick_type(input& in) {
    return qtype(in.u8() % (llmt::quant::qtype_count + 1));  // one id past the table too
}

// One element of a numeric type from the input, as bytes.
std::vector<std::byte> element(input& in, gguf_type t) {
    std::vector<std::byte> b;
    auto put = [&](auto v) {
        b.resize(sizeof(v));
        std::memcpy(b.data(), &v, sizeof(v));
    };
    switch (t) {
        case gguf_type::uint8: put(std::uint8_t(in.integer())); break;
        case gguf_type::int8: put(std::int8_t(in.integer())); break;
        case gguf_type::uint16: put(std::uint16_t(in.integer())); break;
        case gguf_type::int16: put(std::int16_t(in.integer())); break;
        case gguf_type::uint32: put(std::uint32_t(in.integer())); break;
        case gguf_type::int32: put(std::int32_t(in.integer())); break;
        case gguf_type::float32: put(in.real()); break;
        case gguf_type::boolean: put(std::uint8_t(in.u8() % 3)); break;  // 2 is not a valid bool
        case gguf_type::uint64: put(std::uint64_t(in.integer())); break;
        case gguf_type::int64: put(std::int64_t(in.integer())); break;
        case gguf_type::float64: put(double(in.real())); break;
        default: break;
    }
    return b;
}

gguf_owned_value make_value(input& in) {
    const auto t = gguf_type(in.u8() % llmt::io::gguf_type_count);
    gguf_owned_value v;
    v.type = t;
    if (t == gguf_type::string) {
        v.str = pick_string(in);
    } else if (t == gguf_type::array) {
        v.elem = gguf_type(in.u8() % llmt::io::gguf_type_count);
        if (v.elem == gguf_type::array) v.elem = gguf_type::string;  // nested arrays: the GGUF reader's target covers them
        const std::uint8_t c = in.u8();
        v.count = c < 200 ? c % 16 : std::uint64_t(in.raw<std::uint16_t>());
        for (std::uint64_t i = 0; i < v.count; ++i) {
            if (v.elem == gguf_type::string) {
                v.strings.push_back(in.empty() ? fmt::format("t{}", i) : pick_string(in));
            } else {
                auto b = element(in, v.elem);
                v.raw.insert(v.raw.end(), b.begin(), b.end());
            }
        }
    } else {
        v.scalar = element(in, t);
    }
    return v;
}

struct run_options {
    llmt::load_options load{.context = 64, .threads = 1};
    bool all_logits = false;
};

// Applies one edit; false when the input is used up.
bool edit(input& in, document& d, run_options& opt) {
    if (in.empty()) return false;
    const std::uint8_t op = in.u8();
    auto pick_tensor = [&]() -> tensor* { return d.tensors.empty() ? nullptr : &d.tensors[in.below(d.tensors.size())]; };
    switch (op % 12) {
        case 0: {  // set a key to a value of any type
            const auto key = pick_key(in, d);
            d.set(key, make_value(in));
            break;
        }
        case 1: {  // remove a key
            const auto key = pick_key(in, d);
            std::erase_if(d.kvs, [&](const auto& kv) { return kv.first == key; });
            break;
        }
        case 2: {  // one dimension of a tensor (its data follows the new shape)
            tensor* t = pick_tensor();
            if (!t) break;
            const std::size_t dim = in.u8() % 4;
            auto ne = t->ne;
            if (dim >= ne.size()) ne.resize(dim + 1, 1);
            ne[dim] = std::uint64_t(in.integer());
            if (tensor_bytes(t->type, ne)) {
                t->ne = std::move(ne);
                t->data = make_data(t->type, t->ne);
            }
            break;
        }
        case 3: {  // dimension count (a vector becomes a matrix, a matrix a vector)
            tensor* t = pick_tensor();
            if (!t) break;
            auto ne = t->ne;
            ne.resize(1 + in.u8() % 4, 1);
            if (tensor_bytes(t->type, ne)) {
                t->ne = std::move(ne);
                t->data = make_data(t->type, t->ne);
            }
            break;
        }
        case 4: {  // tensor type
            tensor* t = pick_tensor();
            if (!t) break;
            const qtype type = pick_type(in);
            if (tensor_bytes(type, t->ne)) {
                t->type = type;
                t->data = make_data(t->type, t->ne);
            }
            break;
        }
        case 5: {  // overwrite a few bytes of a tensor's data (nan, inf, huge scales)
            tensor* t = pick_tensor();
            if (!t || t->data.empty()) break;
            const std::size_t at = in.raw<std::uint32_t>() % t->data.size();
            const float f = in.real();
            std::memcpy(t->data.data() + at, &f, std::min<std::size_t>(4, t->data.size() - at));
            break;
        }
        case 6: {  // add a tensor
            tensor t;
            t.name = pick_tensor_name(in);
            t.type = pick_type(in);
            const std::size_t dims = 1 + in.u8() % 4;
            for (std::size_t k = 0; k < dims; ++k) t.ne.push_back(std::uint64_t(in.integer()));
            if (!tensor_bytes(t.type, t.ne)) break;
            t.data = make_data(t.type, t.ne);
            std::erase_if(d.tensors, [&](const tensor& x) { return x.name == t.name; });
            d.tensors.push_back(std::move(t));
            break;
        }
        case 7: {  // remove a tensor
            if (d.tensors.empty()) break;
            d.tensors.erase(d.tensors.begin() + std::ptrdiff_t(in.below(d.tensors.size())));
            break;
        }
        case 8: {  // rename a tensor
            tensor* t = pick_tensor();
            if (!t) break;
            auto name = pick_tensor_name(in);
            for (const auto& x : d.tensors)
                if (x.name == name) return true;
            t->name = std::move(name);
            break;
        }
        case 9: {  // one element of an array (a token's text or type, a score)
            auto* v = d.find(pick_key(in, d));
            if (!v || v->type != gguf_type::array || v->count == 0) break;
            const std::size_t i = in.below(std::size_t(v->count));
            if (v->elem == gguf_type::string) {
                if (i < v->strings.size()) v->strings[i] = pick_string(in);
            } else if (v->elem != gguf_type::array) {
                const auto b = element(in, v->elem);
                if ((i + 1) * b.size() <= v->raw.size()) std::memcpy(v->raw.data() + i * b.size(), b.data(), b.size());
            }
            break;
        }
        case 10: {  // array length (fewer scores than tokens, extra tokens)
            auto* v = d.find(pick_key(in, d));
            if (!v || v->type != gguf_type::array || v->elem == gguf_type::array) break;
            const std::uint8_t c = in.u8();
            const std::uint64_t n = c < 128 ? c : c < 192 ? v->count + (c - 128) : std::uint64_t(in.raw<std::uint16_t>());
            if (v->elem == gguf_type::string) {
                const std::size_t old = v->strings.size();
                v->strings.resize(std::size_t(n));
                for (std::size_t i = old; i < v->strings.size(); ++i) v->strings[i] = fmt::format("x{}", i);
            } else {
                v->raw.resize(std::size_t(n) * llmt::io::fixed_size(v->elem), std::byte{0});
            }
            v->count = n;
            break;
        }
        default: {  // load options and file version
            switch (in.u8() % 8) {
                case 0: {
                    // Small ones, and ones past max_context (2^24) that must be refused before anything is
                    // allocated. (2^24 itself is allowed: its KV cache fits this machine but not libFuzzer's 2 GB.)
                    static constexpr std::int64_t ctx[] = {64, 0, 1, 2, 3, 17, 128, 4096, (std::int64_t(1) << 24) + 1,
                                                           std::int64_t(1) << 31, std::int64_t(1) << 40,
                                                           (std::int64_t(1) << 61) + 1, INT64_MAX, -1, INT64_MIN};
                    opt.load.context = ctx[in.u8() % std::size(ctx)];
                    break;
                }
                case 1: opt.load.batch = in.u8() < 200 ? std::int64_t(in.u8() % 5) : in.integer(); break;
                case 2: opt.load.sliding_window = in.u8() < 200 ? std::int64_t(in.u8() % 5) - 1 : in.integer(); break;
                case 3: opt.load.repack = !opt.load.repack; break;
                case 4:
                    opt.load.f16_accum = opt.load.f16_accum == llmt::f16_accumulation::f32 ? llmt::f16_accumulation::half
                                                                                          : llmt::f16_accumulation::f32;
                    break;
                case 5: d.version = 1 + in.u8() % 3; break;
                case 6: opt.load.allow_unknown_tensors = !opt.load.allow_unknown_tensors; break;
                default: opt.all_logits = !opt.all_logits; break;
            }
            break;
        }
    }
    return true;
}

volatile std::size_t sink;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    try {
        const auto stories = llmt::io::gguf_file::open(LLMT_FUZZ_MODELS_DIR "/stories260K/stories260K.gguf");
        skeletons().push_back(tiny_spm(stories));
        skeletons().push_back(read_document(llmt::io::gguf_file::open(LLMT_FUZZ_MODELS_DIR "/stories260K/stories260K-Q4_K_M.gguf")));
        skeletons().push_back(tiny_bpe());
    } catch (const llmt::error& e) {
        std::fprintf(stderr, "fuzz_load: cannot build the skeletons: %s\n", e.what());
        std::exit(1);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    input in(std::span(data, size));
    document d = skeletons()[in.u8() % skeletons().size()];
    run_options opt;
    const std::size_t n_edits = in.u8() % 16;
    for (std::size_t k = 0; k < n_edits && edit(in, d, opt); ++k) {
    }

    // Write the edited file; what the writer refuses (duplicate names, a bad alignment) is not a model.
    std::vector<std::byte> bytes;
    try {
        llmt::io::gguf_writer w(d.version);
        for (const auto& [key, value] : d.kvs) w.set_value(key, value);
        for (const auto& t : d.tensors) w.add_tensor(t.name, t.type, t.ne, t.data);
        bytes = w.to_bytes();
    } catch (const llmt::error&) {
        return 0;
    }
    std::optional<llmt::io::gguf_file> file;
    try {
        file.emplace(llmt::io::gguf_file::from_bytes(bytes, "fuzz.gguf"));
    } catch (const llmt::error&) {
        return 0;  // e.g. a version 1 file cannot count past 2^32: the GGUF reader's own target covers these
    }

    // The vocabulary of the same file: built, then used once.
    std::vector<llmt::token_id> prompt;
    try {
        const auto tok = llmt::tokenizer::tokenizer::from_gguf(*file);
        prompt = tok.encode("Once upon a time", true, false);
        for (auto id : prompt)
            if (id < 0 || std::size_t(id) >= tok.n_tokens()) finding(target, "the tokenizer produced an id outside its vocabulary");
        sink = sink + tok.decode(prompt).size();
    } catch (const llmt::error&) {
    }

    std::unique_ptr<llmt::model_base> m;
    try {
        m = llmt::load_any(std::move(*file), opt.load);
    } catch (const llmt::error&) {
        return 0;  // refused with a proper error: fine
    }
    sink = sink + m->describe().size();
    const auto n_vocab = m->n_vocab();
    if (n_vocab <= 0) finding(target, "a loaded model has no vocabulary");

    // One forward of 1 or 2 tokens (the prompt's, or ids from the input, some outside the vocabulary), then one more.
    try {
        std::vector<llmt::token_id> ids;
        const std::size_t n = 1 + in.u8() % 2;
        for (std::size_t k = 0; k < n; ++k) {
            const std::uint8_t how = in.u8();
            if (how < 128 && k < prompt.size()) ids.push_back(prompt[k]);
            else if (how < 250) ids.push_back(llmt::token_id(std::int64_t(how) % n_vocab));
            else ids.push_back(llmt::token_id(in.integer()));
        }
        std::vector<float> logits(std::size_t(n_vocab) * (opt.all_logits ? n : 1));
        m->forward(ids, 0, logits, opt.all_logits);
        if (m->n_past() != std::int64_t(n)) finding(target, "forward did not advance n_past by its tokens");
        const std::int64_t pos = in.u8() % 3 == 0 ? 0 : m->n_past();
        m->forward(std::span(ids).first(1), pos, std::span(logits).first(std::size_t(n_vocab)), false);
        sink = sink + std::size_t(logits[0] == logits[0]);
    } catch (const llmt::error&) {
        // context full, a bad id: refused with a proper error
    }
    return 0;
}
