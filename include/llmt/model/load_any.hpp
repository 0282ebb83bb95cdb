// load_any: opens any GGUF file whose architecture a compiled-in preset handles, as a type-erased model
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>
#include <llmt/core/type_list.hpp>
#include <llmt/io/gguf.hpp>
#include <llmt/model/model.hpp>
#include <llmt/model/model_base.hpp>
#include <llmt/model/presets.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>

LLMT_BEGIN_NAMESPACE

namespace presets {
/// The presets load_any() chooses from: llama with each KV element type (load_options::kv_type),
/// the first (f16, as llama.cpp's default) when none is asked for, then each other architecture with
/// an f16 KV cache. Each is one more instantiation of model<> (compile time: see README); the other
/// architectures' f32 and q8_0 variants are types (presets::qwen2, presets::qwen2_kv<q8_0>, ...), not
/// compiled into load_any.
using all = type_list<llama_kv<quant::f16>, llama, llama_kv<quant::q8_0>, qwen2_kv<quant::f16>, qwen3_kv<quant::f16>,
                      gemma3_kv<quant::f16>, phi3_kv<quant::f16>>;
}  // namespace presets

/// Loads a model from a parsed file with the first preset of Presets whose architectures include
/// the file's general.architecture and, when load_options::kv_type is set, whose KV cache holds
/// that element type. An architecture no preset handles is an errc::unsupported error, and so is a
/// kv_type none of its presets has.
template <typename Presets = presets::all>
std::unique_ptr<model_base> load_any(io::gguf_file file, const load_options& opt = {}) {
    const std::string arch(file.get_string("general.architecture").value_or(""));
    LLMT_CHECK_CODE(!arch.empty(), errc::not_found, "gguf '{}': key 'general.architecture' is missing", file.path());
    std::unique_ptr<model_base> out;
    std::string known, kv_types;  // architectures, and KV types of this architecture, compiled in
    for_each_type(Presets{}, [&](auto t) {
        using P = typename decltype(t)::type;
        constexpr kv_type kv = kv_cache::kv_type_of<typename P::kv_policy::element>;
        for (std::string_view a : P::architectures) {
            if (known.find(std::string(a)) == std::string::npos) known += known.empty() ? std::string(a) : ", " + std::string(a);
            if (a == arch && kv_types.find(std::string(to_string(kv))) == std::string::npos)
                kv_types += kv_types.empty() ? std::string(to_string(kv)) : ", " + std::string(to_string(kv));
            if (!out && a == arch && (!opt.kv_type || *opt.kv_type == kv))
                out = rethrow_as_error(fmt::format("cannot load '{}'", file.path()),
                                       [&] { return std::make_unique<model<P>>(model<P>::load(std::move(file), opt)); });
        }
    });
    if (!out && !kv_types.empty())
        fail(errc::unsupported, "gguf '{}': no compiled-in preset for architecture '{}' stores its KV cache as {} "
             "(load_options::kv_type; compiled in: {})", file.path(), arch, to_string(*opt.kv_type), kv_types);
    if (!out)
        fail(errc::unsupported, "gguf '{}': architecture '{}' is not supported (llmt knows: {})", file.path(), arch, known);
    return out;
}

/// A program of several translation units can compile the presets' models once: every preset is a
/// whole model<> instantiation, most of the time it takes to compile a program that calls load_any.
/// Define LLMT_PRESETS_EXTERN in all translation units but one, and in that one instantiate it:
///     template std::unique_ptr<llmt::model_base> llmt::load_any<llmt::presets::all>(llmt::io::gguf_file, const llmt::load_options&);
/// (the CLIs and benchmarks do: examples/presets_instance.cpp).
#if defined(LLMT_PRESETS_EXTERN)
extern template std::unique_ptr<model_base> load_any<presets::all>(io::gguf_file, const load_options&);
#endif

/// Opens path and loads it with load_any(gguf_file).
template <typename Presets = presets::all>
std::unique_ptr<model_base> load_any(const std::filesystem::path& path, const load_options& opt = {}) {
    return load_any<Presets>(io::gguf_file::open(path, opt.mode), opt);
}

LLMT_END_NAMESPACE
