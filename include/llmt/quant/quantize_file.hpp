// quantize_file: rewrites a GGUF file with its tensors converted by a recipe, streamed, like llama-quantize
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/thread_pool.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/io/gguf_writer.hpp>
#include <llmt/quant/dispatch.hpp>
#include <llmt/quant/formats.hpp>
#include <llmt/quant/qtype.hpp>
#include <llmt/quant/quantize_rows.hpp>
#include <llmt/quant/recipe.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

LLMT_BEGIN_NAMESPACE
namespace quant {

/// The recipe's view of a model, from GGUF metadata. Every key is optional (a file that is not a
/// complete model still quantizes): without {arch}.block_count the layers are counted from the
/// tensor names.
inline model_info model_info_from(const io::gguf_file& f) {
    model_info m;
    m.arch = std::string(f.get_string("general.architecture").value_or(""));
    auto first_int = [&](const std::string& key) -> int {
        const io::gguf_value* v = f.find(key);
        if (!v) return 0;
        if (v->type == io::gguf_type::array) {
            const auto xs = v->array->to_vector<std::int64_t>();
            return xs.empty() ? 0 : int(std::clamp<std::int64_t>(xs[0], 0, 1 << 30));
        }
        return int(std::clamp<std::int64_t>(f.get<std::int64_t>(key).value_or(0), 0, 1 << 30));
    };
    const std::string a = m.arch;
    m.n_layer = first_int(a + ".block_count");
    if (m.n_layer == 0)
        for (const auto& t : f.tensors())
            if (auto l = block_index(t.name); l && *l >= 0 && *l < (1 << 20)) m.n_layer = std::max(m.n_layer, *l + 1);
    m.n_head = first_int(a + ".attention.head_count");
    m.n_head_kv = f.contains(a + ".attention.head_count_kv") ? first_int(a + ".attention.head_count_kv") : m.n_head;
    m.n_expert = first_int(a + ".expert_count");
    return m;
}

struct quantize_file_options {
    recipe_options recipe;
    int threads = 1;
    bool allow_requantize = false;  // convert tensors that are already block-quantized (lossy twice)
    /// Metadata to set: a key of the input is replaced where it stands, a new key is appended.
    std::vector<std::pair<std::string, io::gguf_owned_value>> kv_overrides;
};

struct tensor_report {
    std::string name;
    qtype from = qtype::f32, to = qtype::f32;
    std::uint64_t n_elements = 0, bytes_in = 0, bytes_out = 0;
    std::string note;  // fallback / override explanation from the recipe
};

struct quantize_report {
    std::vector<tensor_report> tensors;  // in output order
    std::uint64_t n_elements = 0, bytes_in = 0, bytes_out = 0;
    int n_fallback = 0;
};

/// Where quantize_file is: called after each slice of rows and once per tensor (done == n_elements).
struct quantize_progress {
    std::size_t index = 0, count = 0;      // tensor index in output order, number of tensors
    const tensor_report* tensor = nullptr;
    std::uint64_t done = 0;                // elements of this tensor written
    std::uint64_t total_done = 0, total = 0;  // elements of all tensors
};

/// Tensors of the input in output order with their decided types; nothing is written.
inline std::pair<std::vector<const io::gguf_tensor_info*>, std::vector<tensor_plan>>
plan_file(const io::gguf_file& in, const recipe_options& opts) {
    std::vector<const io::gguf_tensor_info*> order;
    for (const auto& t : in.tensors()) order.push_back(&t);
    std::stable_sort(order.begin(), order.end(),
                     [](const auto* a, const auto* b) { return processing_order_less(a->name, b->name); });
    std::vector<tensor_desc> descs;
    for (const auto* t : order) {
        tensor_desc d;
        d.name = std::string(t->name);
        d.type = t->type;
        d.n_dims = t->n_dims;
        d.ne = t->ne;
        descs.push_back(std::move(d));
    }
    recipe r(model_info_from(in), opts);
    return {std::move(order), r.plan(descs)};
}

/// Reads `in`, converts every tensor to the type the recipe picks, and writes `out`: metadata copied
/// in order, general.quantization_version = 2 and general.file_type moved to the end (as llama.cpp
/// does), split keys dropped, tensors in llama.cpp's order. progress(const quantize_progress&) is
/// called from the calling thread.
template <typename Progress>
quantize_report quantize_file(const std::filesystem::path& in_path, const std::filesystem::path& out_path,
                              const quantize_file_options& opts, Progress&& progress) {
    {
        std::error_code ec;
        LLMT_CHECK_CODE(!std::filesystem::equivalent(in_path, out_path, ec), errc::invalid_argument,
                        "quantize_file: '{}' is both input and output", out_path.string());
    }
    const io::gguf_file in = io::gguf_file::open(in_path);
    auto planned = plan_file(in, opts.recipe);  // (no structured binding: Clang 14 cannot capture one)
    const auto& order = planned.first;
    const auto& plans = planned.second;
    const auto& table = format_table<all_formats>::entries;

    quantize_report rep;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const auto& t = *order[i];
        const auto& p = plans[i];
        LLMT_CHECK_CODE(is_sized(std::uint32_t(p.type)), errc::invalid_argument, "tensor '{}': type {} has no block layout",
                        t.name, name(p.type));
        tensor_report tr;
        tr.name = std::string(t.name);
        tr.from = t.type;
        tr.to = p.type;
        tr.n_elements = t.n_elements;
        tr.bytes_in = t.n_bytes;
        tr.bytes_out = t.n_elements / block_size(p.type) * type_size(p.type);
        tr.note = p.note;
        if (p.type != t.type) {  // check everything before the output file is created
            LLMT_CHECK_CODE(table[std::size_t(p.type)].valid(), errc::unsupported,
                            "tensor '{}': llmt cannot write {} yet", t.name, name(p.type));
            if (t.type != qtype::f32) {
                LLMT_CHECK_CODE(!is_block_quantized(t.type) || opts.allow_requantize, errc::invalid_argument,
                                "tensor '{}' is already {}: requantizing loses precision twice; allow it explicitly",
                                t.name, name(t.type));
                LLMT_CHECK_CODE(table[std::size_t(t.type)].valid(), errc::unsupported,
                                "tensor '{}': llmt cannot read {} yet", t.name, name(t.type));
            }
        }
        rep.n_fallback += p.fallback ? 1 : 0;
        rep.n_elements += tr.n_elements;
        rep.bytes_in += tr.bytes_in;
        rep.bytes_out += tr.bytes_out;
        rep.tensors.push_back(std::move(tr));
    }

    io::gguf_writer w(3);
    auto override_of = [&](std::string_view key) -> const io::gguf_owned_value* {
        for (const auto& [k, v] : opts.kv_overrides)
            if (k == key) return &v;
        return nullptr;
    };
    for (const auto& kv : in.metadata()) {
        if (const auto* o = override_of(kv.key)) w.set_value(kv.key, *o);
        else w.set_value(kv.key, kv.value);
    }
    for (const char* k : {"split.no", "split.count", "split.tensors.count"}) w.remove(k);
    w.remove("general.quantization_version");
    w.set("general.quantization_version", std::uint32_t(2));
    w.remove("general.file_type");
    w.set("general.file_type", std::uint32_t(opts.recipe.file_type));
    for (const auto& [k, v] : opts.kv_overrides)
        if (!in.contains(k)) w.set_value(k, v);

    for (std::size_t i = 0; i < order.size(); ++i)
        w.add_tensor_info(order[i]->name, plans[i].type, std::span<const std::uint64_t>(order[i]->ne.data(), order[i]->n_dims));

    thread_pool pool(opts.threads);
    std::vector<float> f32_buf;
    std::vector<std::byte> out_buf;
    std::uint64_t total_done = 0;
    auto fill = [&](std::size_t i, auto&& out) {
        const auto& t = *order[i];
        const auto& tr = rep.tensors[i];
        const auto src = in.tensor_data(t);
        quantize_progress pr{i, order.size(), &tr, 0, total_done, rep.n_elements};
        if (tr.to == tr.from) {
            out(src.data(), src.size());
        } else {
            const std::int64_t n_per_row = std::int64_t(t.ne[0]);
            const std::int64_t n_rows = std::int64_t(t.n_elements / t.ne[0]);
            // slices of about 4M values bound the buffers and pace the progress reports
            const std::int64_t slice = std::max<std::int64_t>(1, (std::int64_t(1) << 22) / n_per_row);
            const std::size_t in_row = row_size(tr.from, std::size_t(n_per_row));
            const std::size_t out_row = row_size(tr.to, std::size_t(n_per_row));
            out_buf.resize(out_row * std::size_t(std::min(slice, n_rows)));
            for (std::int64_t r0 = 0; r0 < n_rows; r0 += slice) {
                const std::int64_t nr = std::min(slice, n_rows - r0);
                const float* rows;
                const std::byte* at = src.data() + std::size_t(r0) * in_row;
                if (tr.from == qtype::f32 && reinterpret_cast<std::uintptr_t>(at) % alignof(float) == 0) {
                    rows = reinterpret_cast<const float*>(at);
                } else if (tr.from == qtype::f32) {  // a file with general.alignment < 4
                    f32_buf.resize(std::size_t(nr * n_per_row));
                    std::memcpy(f32_buf.data(), at, f32_buf.size() * sizeof(float));
                    rows = f32_buf.data();
                } else {
                    f32_buf.resize(std::size_t(nr * n_per_row));
                    dequantize_rows(pool, table[std::size_t(tr.from)], at, nr, n_per_row, f32_buf.data());
                    rows = f32_buf.data();
                }
                quantize_rows(pool, table[std::size_t(tr.to)], rows, nr, n_per_row, out_buf.data());
                out(out_buf.data(), out_row * std::size_t(nr));
                pr.done = std::uint64_t(r0 + nr) * std::uint64_t(n_per_row);
                pr.total_done = total_done + pr.done;
                if (pr.done < tr.n_elements) progress(pr);
            }
        }
        total_done += tr.n_elements;
        pr.done = tr.n_elements;
        pr.total_done = total_done;
        progress(pr);
    };
    // A temporary file renamed into place when complete: a failure never touches what out_path was.
    io::atomic_output_file out(out_path, {in_path});
    w.write(out, fill);
    return rep;
}

}  // namespace quant
LLMT_END_NAMESPACE
