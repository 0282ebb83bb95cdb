// cli_app: the CLI11 side of the generating tools (llmt-run, llmt-chat): shared options, parsing, load and sampler setup
#pragma once

#include "cli_common.hpp"

#include <llmt/llmt.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace llmt_cli {

/// Parses argv (llama.cpp's habits rewritten when `habits`): --help prints the help with every
/// default and leaves with 0; a parse error is a usage_error (exit 2).
inline void parse(CLI::App& app, int argc, char** argv, bool habits = true) {
    std::vector<std::string> args;
    if (habits) args = rewrite_habits(argc, argv);
    else args.assign(argv, argv + argc);
    std::vector<const char*> ptrs;
    for (const auto& a : args) ptrs.push_back(a.c_str());
    try {
        app.parse(int(ptrs.size()), ptrs.data());
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) {  // --help
            app.exit(e, std::cout, std::cerr);
            std::cout.flush();
            throw exit_request{exit_ok};
        }
        throw usage_error(e.what());
    }
}

/// A CLI11 check that refuses NaN and infinities (Range lets NaN through).
inline const CLI::Validator finite_number(
    [](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end) return "'" + s + "' is not a number";
        if (!std::isfinite(v)) return "must be a finite number, got '" + s + "'";
        return {};
    },
    "FINITE");

/// Options of the tools that load a model and generate (llmt-run, llmt-chat), with llama.cpp's names.
struct gen_options {
    std::string model, prompt, prompt_file, system_prompt, chat_template, samplers;
    std::int64_t n_predict = 128, ctx = 0, batch = 512, threads = 0, keep = -2, seed = -1;
    // sampling
    double temp = 0.8, top_p = 0.95, min_p = 0.05, typical_p = 1.0, repeat_penalty = 1.0, presence = 0.0,
           frequency = 0.0, mirostat_tau = 5.0, mirostat_eta = 0.1;
    std::int64_t top_k = 40, repeat_last_n = 64, mirostat = 0;
    bool context_shift = false, escape = false, no_escape = false, ignore_eos = false, no_display_prompt = false;
    bool conversation = false, no_conversation = false, interactive = false;
    bool no_mmap = false, no_repack = false, allow_unknown_tensors = false, verbose = false;
    std::string f16_accum = "f32", cache_type_k, cache_type_v;
    // accepted for llama.cpp's users, no effect on the CPU
    std::string gpu_layers, flash_attn, split_mode, main_gpu, tensor_split, device;
    bool no_kv_offload = false;
};

inline void add_model_options(CLI::App& app, gen_options& o) {
    app.add_option("-m,--model", o.model, model_help);
    app.add_option("-c,--ctx-size", o.ctx, "context size (0: the model's, at most 4096)")
        ->check(CLI::Range(std::int64_t(0), llmt::load_options::max_context));
    app.add_option("-b,--batch-size", o.batch, "prompt tokens evaluated together")
        ->check(CLI::Range(std::int64_t(1), std::int64_t(std::numeric_limits<std::int32_t>::max())));
    app.add_option("-t,--threads", o.threads, "threads (0: all cores)")
        ->check(CLI::Range(std::int64_t(0), std::int64_t(llmt::load_options::max_threads)));
    app.add_flag("--no-mmap", o.no_mmap, "read the model into (huge-page) memory instead of mapping it: slower load, faster decode");
    app.add_flag("--no-repack", o.no_repack, "keep every matrix in the file's layout (no decode layout packed at load)");
    app.add_option("--f16-accum", o.f16_accum,
                   "F16 dot products: f32, or half = llama.cpp's AVX512-FP16 half-precision sums (slow; to reproduce its logits)")
        ->check(CLI::IsMember({"f32", "half"}));
    app.add_option("--cache-type-k", o.cache_type_k, "-ctk: KV cache type (llmt keeps K and V in one type)");
    app.add_option("--cache-type-v", o.cache_type_v, "-ctv: KV cache type (the same as -ctk: one type for K and V)");
    app.add_flag("--allow-unknown-tensors", o.allow_unknown_tensors, "load a file with tensors llmt does not use (they are ignored)");
    // GPU-only flags of llama.cpp: accepted, with a note.
    app.add_option("--n-gpu-layers,--gpu-layers", o.gpu_layers, "-ngl: GPU only: no effect here (llmt runs on the CPU)");
    app.add_option("--flash-attn", o.flash_attn, "-fa: GPU only: no effect here (on|off|auto)");
    app.add_option("--split-mode", o.split_mode, "-sm: GPU only: no effect here");
    app.add_option("--main-gpu", o.main_gpu, "-mg: GPU only: no effect here");
    app.add_option("--tensor-split", o.tensor_split, "-ts: GPU only: no effect here");
    app.add_option("--device", o.device, "-dev: GPU only: no effect here");
    app.add_flag("--no-kv-offload", o.no_kv_offload, "-nkvo: GPU only: no effect here");
    app.add_flag("-v,--verbose", o.verbose, "log the model and sampler setup");
}

inline void add_sampling_options(CLI::App& app, gen_options& o) {
    const auto i32 = [](std::int64_t lo) {
        return CLI::Range(lo, std::int64_t(std::numeric_limits<std::int32_t>::max()));
    };
    app.add_option("--temp", o.temp, "temperature (0: greedy)")->check(finite_number);
    app.add_option("--top-k", o.top_k, "top-k (0: off)")->check(i32(0));
    app.add_option("--top-p", o.top_p, "top-p (1: off)")->check(finite_number);
    app.add_option("--min-p", o.min_p, "min-p (0: off)")->check(finite_number);
    app.add_option("--typical", o.typical_p, "locally typical sampling p (1: off)")->check(finite_number);
    app.add_option("--repeat-penalty", o.repeat_penalty, "repetition penalty (1: off)")->check(finite_number);
    app.add_option("--repeat-last-n", o.repeat_last_n, "tokens the penalties look at (0: off, -1: all)")->check(i32(-1));
    app.add_option("--presence-penalty", o.presence, "presence penalty (0: off)")->check(finite_number);
    app.add_option("--frequency-penalty", o.frequency, "frequency penalty (0: off)")->check(finite_number);
    app.add_option("--mirostat", o.mirostat, "mirostat version (0: off, 1, 2)")->check(CLI::Range(std::int64_t(0), std::int64_t(2)));
    app.add_option("--mirostat-ent", o.mirostat_tau, "mirostat target entropy tau")->check(finite_number);
    app.add_option("--mirostat-lr", o.mirostat_eta, "mirostat learning rate eta")->check(finite_number);
    app.add_option("--samplers", o.samplers, "sampler order, ';'-separated as llama.cpp (default: llmt's order)");
    app.add_option("-s,--seed", o.seed, "sampling seed (-1: random)")
        ->check(CLI::Range(std::int64_t(-1), std::numeric_limits<std::int64_t>::max()));
}

/// Options that shape generation: -n, --keep, --context-shift, --ignore-eos, -e.
inline void add_generation_options(CLI::App& app, gen_options& o, std::int64_t n_predict_default) {
    o.n_predict = n_predict_default;
    app.add_option("-n,--n-predict", o.n_predict, "tokens to generate (-1: until end of generation or a full context)")
        ->check(CLI::Range(std::int64_t(-2), std::numeric_limits<std::int64_t>::max()));
    app.add_flag("--context-shift", o.context_shift, "when the context is full, drop half of what follows --keep and go on");
    app.add_option("--keep", o.keep, "prompt tokens a context shift keeps, after BOS (-1: the whole prompt; default: BOS only)")
        ->check(CLI::Range(std::int64_t(-1), std::int64_t(std::numeric_limits<std::int32_t>::max())))
        ->default_str("BOS only");
    app.add_flag("--ignore-eos", o.ignore_eos, "do not stop at an end-of-generation token");
    app.add_flag("-e,--escape", o.escape, "process escapes (\\n, \\t, \\\\, \\\", \\', \\xHH, ...) in the prompt");
    app.add_flag("--no-escape", o.no_escape, "do not process escapes (the default)");
    std::string names;
    for (const auto& [n, st] : llmt::runtime::chat_template::known) names += (names.empty() ? "" : ", ") + std::string(n);
    app.add_option("--chat-template", o.chat_template,
                   "chat format: a variant of the file's template (tokenizer.chat_template.NAME) or a built-in one; "
                   "default: the file's Jinja template, chatml if it has none. Built-in: " + names);
}

/// After parse(): notes for the GPU-only flags, checks of combinations.
inline void after_parse(const gen_options& o) {
    const std::pair<const std::string*, const char*> gpu[] = {
        {&o.gpu_layers, "-ngl/--n-gpu-layers"}, {&o.flash_attn, "-fa/--flash-attn"}, {&o.split_mode, "-sm/--split-mode"},
        {&o.main_gpu, "-mg/--main-gpu"}, {&o.tensor_split, "-ts/--tensor-split"}, {&o.device, "-dev/--device"}};
    for (const auto& [v, name] : gpu)
        if (!v->empty()) note("{} does not apply: llmt runs on the CPU", name);
    if (o.no_kv_offload) note("-nkvo/--no-kv-offload does not apply: llmt runs on the CPU");
    if (!o.flash_attn.empty() && o.flash_attn != "on" && o.flash_attn != "off" && o.flash_attn != "auto" &&
        o.flash_attn != "1" && o.flash_attn != "0")
        usage_fail("-fa/--flash-attn wants on, off or auto, got '{}'", o.flash_attn);
    if (!o.cache_type_k.empty() && !o.cache_type_v.empty() && o.cache_type_k != o.cache_type_v)
        usage_fail("-ctk {} and -ctv {} differ: llmt keeps K and V in one type (give one of them, or the same type to both)",
                   o.cache_type_k, o.cache_type_v);
    if (o.escape && o.no_escape) usage_fail("-e/--escape and --no-escape contradict each other");
}

/// The KV cache type asked for with -ctk/-ctv ("" when neither was given).
inline const std::string& kv_type_name(const gen_options& o) { return o.cache_type_k.empty() ? o.cache_type_v : o.cache_type_k; }

inline llmt::load_options make_load_options(const gen_options& o) {
    llmt::load_options lo;
    lo.context = o.ctx;
    lo.batch = o.batch;
    lo.threads = int(o.threads);
    lo.mode = o.no_mmap ? llmt::io::load_mode::read_only : llmt::io::load_mode::mmap_or_read;
    lo.f16_accum = o.f16_accum == "half" ? llmt::f16_accumulation::half : llmt::f16_accumulation::f32;
    lo.repack = !o.no_repack;
    const auto& kv = kv_type_name(o);
    if (!kv.empty()) {
        try {
            lo.kv_type = llmt::parse_kv_type(kv);
        } catch (const llmt::error& e) {
            usage_fail("-ctk/-ctv: {}", e.what());
        }
    }
    lo.allow_unknown_tensors = o.allow_unknown_tensors;
    return lo;
}

/// Loads the model named by -m / LLMT_MODEL; an error of the context size names -c.
inline std::unique_ptr<llmt::model_base> load_model(gen_options& o) {
    o.model = resolve_model(o.model);
    const auto lo = make_load_options(o);
    try {
        return llmt::load_any(o.model, lo);
    } catch (const std::bad_alloc&) {
        if (o.ctx == 0) throw;
        llmt::fail(llmt::errc::runtime, "out of memory for a context of {} positions: pass a smaller -c/--ctx-size", o.ctx);
    } catch (const llmt::error& e) {
        const std::string_view what = e.what();
        if (o.ctx == 0 || what.find("context") == std::string_view::npos || what.find("-c/--ctx-size") != std::string_view::npos)
            throw;
        throw llmt::error(e.code(), fmt::format("{} (-c/--ctx-size {})", what, o.ctx));
    }
}

inline llmt::sampling::params make_sampling(const gen_options& o, std::uint64_t seed) {
    llmt::sampling::params sp;
    sp.temp = float(o.temp);
    sp.top_k = int(o.top_k);
    sp.top_p = float(o.top_p);
    sp.min_p = float(o.min_p);
    sp.typical_p = float(o.typical_p);
    sp.repeat_penalty = float(o.repeat_penalty);
    sp.repeat_last_n = int(o.repeat_last_n);
    sp.freq_penalty = float(o.frequency);
    sp.presence_penalty = float(o.presence);
    sp.mirostat = int(o.mirostat);
    sp.mirostat_tau = float(o.mirostat_tau);
    sp.mirostat_eta = float(o.mirostat_eta);
    sp.seed = seed;
    if (!o.samplers.empty()) {
        try {
            sp.samplers = llmt::sampling::parse_samplers(o.samplers);
        } catch (const llmt::error& e) {
            usage_fail("--samplers: {}", e.what());
        }
    }
    try {
        sp.validate();
    } catch (const llmt::error& e) {
        usage_fail("{}", e.what());
    }
    return sp;
}

inline std::uint64_t pick_seed(const gen_options& o) {
    return o.seed >= 0 ? std::uint64_t(o.seed) : std::uint64_t(std::random_device{}());
}

/// The chat format: --chat-template NAME (a variant of the file's template or a built-in format),
/// else the file's Jinja template, else chatml with a note on stderr (as llama.cpp).
inline llmt::runtime::chat_template pick_chat_template(const gen_options& o, const llmt::model_base& model,
                                                       const llmt::tokenizer::vocab& vocab) {
    llmt::runtime::chat_template_choice choice{llmt::runtime::chat_template{llmt::runtime::chat_template::style::chatml},
                                               llmt::runtime::chat_template_choice::origin::builtin, {}};
    try {
        choice = llmt::runtime::choose_chat_template(model.gguf(), vocab, o.chat_template);
    } catch (const llmt::error& e) {
        if (e.code() == llmt::errc::invalid_argument) usage_fail("--chat-template: {}", e.what());
        throw;
    }
    if (!choice.note.empty()) fmt::print(stderr, "{}: note: {}\n", tool(), choice.note);
    return choice.format;
}

}  // namespace llmt_cli
