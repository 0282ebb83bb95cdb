// pre_type: BPE pre-tokenizer kinds, named by `tokenizer.ggml.pre`, with the vocab flags each name implies
#pragma once

#include <llmt/config.hpp>

#include <cstdint>
#include <string_view>

LLMT_BEGIN_NAMESPACE
namespace tokenizer {

/// How a byte-level BPE vocabulary splits text into words before merging (one per regex set in llama.cpp).
enum class pre_type : std::uint8_t {
    default_,        // missing or "default"
    llama3,          // llama3, llama-bpe, ...
    deepseek_llm,
    deepseek_coder,
    deepseek3_llm,   // deepseek-v3, hunyuan-dense
    falcon,
    gpt2,            // gpt-2, phi-2, mpt, olmo, jais, ...
    starcoder,       // starcoder, refact, command-r, smollm, codeshell, exaone, minerva
    qwen2,           // qwen2, stablelm2, hunyuan, grok-2 ...
    qwen35,
    poro,            // poro-chat, bloom, gpt3-finnish
    viking,
    chatglm4,        // same split as llama3
    tekken,
    gpt4o,           // gpt-4o, llama4
    superbpe,
    bailingmoe,
    seed_coder,
    chameleon,
    minicpm5,
};

/// What a `tokenizer.ggml.pre` name selects.
struct pre_info {
    std::string_view name;
    pre_type type;
    bool clean_spaces_off = false;  // decode without clean_up_tokenization_spaces
    bool ignore_merges = false;     // a word that is a token is emitted without merging
    bool add_bos = false;           // default add_bos = true (the GGUF key still overrides)
    bool add_sep = false;
    bool no_bos = false;            // the vocab has no BOS token
};

// The names llama.cpp (commit 34af94cd) knows, with the flags it sets for each.
inline constexpr pre_info pre_infos[] = {
    {"", pre_type::default_},
    {"default", pre_type::default_},
    {"llama3", pre_type::llama3, false, true, true},
    {"llama-v3", pre_type::llama3, false, true, true},
    {"llama-bpe", pre_type::llama3, false, true, true},
    {"falcon3", pre_type::llama3, false, true, true},
    {"falcon-h1", pre_type::llama3, false, true, true},
    {"pixtral", pre_type::llama3, false, true, true},
    {"midm-2.0", pre_type::llama3, false, true, true},
    {"lfm2", pre_type::llama3, false, true, true},
    {"jina-v5-nano", pre_type::llama3, false, true, true},
    {"minicpm5", pre_type::minicpm5, false, true},
    {"deepseek-llm", pre_type::deepseek_llm, true},
    {"deepseek-coder", pre_type::deepseek_coder, true},
    {"deepseek-v3", pre_type::deepseek3_llm, true},
    {"hunyuan-dense", pre_type::deepseek3_llm, true},
    {"joyai-llm", pre_type::deepseek3_llm, true},
    {"falcon", pre_type::falcon},
    {"mpt", pre_type::gpt2},
    {"starcoder", pre_type::starcoder},
    {"gpt-2", pre_type::gpt2},
    {"phi-2", pre_type::gpt2},
    {"jina-es", pre_type::gpt2},
    {"jina-de", pre_type::gpt2},
    {"gigachat", pre_type::gpt2},
    {"jina-v2-es", pre_type::gpt2},
    {"jina-v2-de", pre_type::gpt2},
    {"a.x-4.0", pre_type::gpt2},
    {"mellum", pre_type::gpt2},
    {"modern-bert", pre_type::gpt2},
    {"exaone4", pre_type::gpt2},
    {"jina-v1-en", pre_type::gpt2, false, false, false, true},
    {"jina-v2-code", pre_type::gpt2, false, false, false, true},
    {"roberta-bpe", pre_type::gpt2, false, false, false, true},
    {"olmo", pre_type::gpt2},
    {"jais", pre_type::gpt2},
    {"trillion", pre_type::gpt2, true},
    {"granite-docling", pre_type::gpt2, true},
    {"refact", pre_type::starcoder},
    {"command-r", pre_type::starcoder, true},
    {"smollm", pre_type::starcoder, true},
    {"codeshell", pre_type::starcoder},
    {"exaone", pre_type::starcoder},
    {"minerva-7b", pre_type::starcoder},
    {"mellum2", pre_type::starcoder},
    {"qwen2", pre_type::qwen2, true},
    {"deepseek-r1-qwen", pre_type::qwen2, true},
    {"kormo", pre_type::qwen2, true},
    {"f2llmv2", pre_type::qwen2, true},
    {"megrez", pre_type::qwen2},
    {"stablelm2", pre_type::qwen2},
    {"hunyuan", pre_type::qwen2, true},
    {"solar-open", pre_type::qwen2, true},
    {"grok-2", pre_type::qwen2, true},
    {"qwen35", pre_type::qwen35, true},
    {"dbrx", pre_type::llama3},
    {"smaug-bpe", pre_type::llama3},
    {"poro-chat", pre_type::poro, true},
    {"bloom", pre_type::poro},
    {"gpt3-finnish", pre_type::poro},
    {"viking", pre_type::viking, true},
    {"glm4", pre_type::chatglm4, false, false, false, false, true},
    {"chatglm-bpe", pre_type::chatglm4, false, false, false, false, true},
    {"tekken", pre_type::tekken, true, true, true},
    {"chameleon", pre_type::chameleon, true, false, true},
    {"gpt-4o", pre_type::gpt4o, true},
    {"llama4", pre_type::gpt4o, true},
    {"kanana2", pre_type::gpt4o, true},
    {"talkie", pre_type::gpt4o, true},
    {"minimax-m2", pre_type::gpt4o, true},
    {"superbpe", pre_type::superbpe, true},
    {"bailingmoe", pre_type::bailingmoe, true},
    {"bailingmoe2", pre_type::bailingmoe, true},
    {"llada-moe", pre_type::bailingmoe, true},
    {"seed-coder", pre_type::seed_coder, true},
};

/// The entry for a `tokenizer.ggml.pre` name, or nullptr when llmt does not know it.
constexpr const pre_info* find_pre(std::string_view name) noexcept {
    for (const auto& p : pre_infos)
        if (p.name == name) return &p;
    return nullptr;
}

}  // namespace tokenizer
LLMT_END_NAMESPACE
