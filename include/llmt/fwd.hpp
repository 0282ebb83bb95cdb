// fwd: cheap forward declarations of the library's everyday names
#pragma once

#include <llmt/config.hpp>

#include <cstdint>

LLMT_BEGIN_NAMESPACE
class error;
enum class errc;
struct fp16_t;
struct bf16_t;
namespace io {
class mapped_file;
class gguf_file;
class gguf_writer;
struct gguf_value;
struct gguf_array;
struct gguf_tensor_info;
enum class gguf_type : std::uint32_t;
}  // namespace io
namespace quant {
enum class qtype : std::uint32_t;
}
LLMT_END_NAMESPACE
