// token: llmt::token_id, the integer id of a vocabulary entry
#pragma once

#include <llmt/config.hpp>

#include <cstdint>

LLMT_BEGIN_NAMESPACE

/// Index of a token in the model's vocabulary (GGUF `tokenizer.ggml.tokens`), as in llama.cpp.
using token_id = std::int32_t;

LLMT_END_NAMESPACE
