// error: llmt::error (code + message with context) and the LLMT_CHECK family
#pragma once

#include <llmt/config.hpp>

#include <fmt/format.h>

#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

LLMT_BEGIN_NAMESPACE

/// What kind of failure an llmt::error reports.
enum class errc {
    io,                ///< the operating system refused (open, read, mmap)
    format,            ///< a file is malformed (bad magic, truncated, out of range, overlapping)
    unsupported,       ///< well-formed but not supported (version, tensor type, architecture)
    invalid_argument,  ///< a caller passed something impossible
    config,            ///< an impossible model / policy configuration
    not_found,         ///< a required key or tensor is missing
    runtime,           ///< anything else at run time (context full, cancelled, ...)
};

inline const char* to_string(errc c) noexcept {
    switch (c) {
        case errc::io: return "io";
        case errc::format: return "format";
        case errc::unsupported: return "unsupported";
        case errc::invalid_argument: return "invalid_argument";
        case errc::config: return "config";
        case errc::not_found: return "not_found";
        case errc::runtime: return "runtime";
    }
    return "unknown";
}

/// The one exception type llmt throws. what() is a complete sentence naming the problem.
///
/// Loading (gguf_file::open, model<Spec>::load, load_any) and thread_pool construction throw only
/// llmt::error: a failed allocation, an impossible length or a thread the OS refuses arrive as
/// errc::runtime naming what was being loaded. Sizes from files and options are checked before
/// anything is allocated (core/limits.hpp). model::forward allocates nothing and throws only
/// llmt::error. Calls that can still throw std::bad_alloc, because their memory grows with their
/// input: the tokenizer's encode and decode of huge texts, the session's token history, the chat
/// template's rendering, gguf_writer and quantize_file (which build a whole file in memory).
class error : public std::runtime_error {
public:
    error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
    [[nodiscard]] errc code() const noexcept { return code_; }

private:
    errc code_;
};

/// Throws llmt::error(code, fmt::format(f, args...)).
template <typename... Args>
[[noreturn]] void fail(errc code, fmt::format_string<Args...> f, Args&&... args) {
    throw error(code, fmt::format(f, std::forward<Args>(args)...));
}

/// Calls f() and returns its result; std::bad_alloc, std::length_error and std::system_error
/// escaping from it are thrown again as llmt::error(errc::runtime, "<doing>: ..."). llmt::error passes through.
template <typename F>
decltype(auto) rethrow_as_error(std::string_view doing, F&& f) {
    try {
        return std::forward<F>(f)();
    } catch (const error&) {
        throw;
    } catch (const std::bad_alloc&) {
        fail(errc::runtime, "{}: out of memory", doing);
    } catch (const std::length_error& e) {
        fail(errc::runtime, "{}: a size is too large ({})", doing, e.what());
    } catch (const std::system_error& e) {
        fail(errc::runtime, "{}: {}", doing, e.what());
    }
}

LLMT_END_NAMESPACE

/// LLMT_CHECK(cond, "message {}", args...): throws llmt::error(errc::runtime, message) unless cond.
#define LLMT_CHECK(cond, ...)                                            \
    do {                                                                 \
        if (LLMT_UNLIKELY(!(cond))) ::llmt::fail(::llmt::errc::runtime, __VA_ARGS__); \
    } while (0)

/// LLMT_CHECK_CODE(cond, errc::format, "message {}", args...): same with an explicit code.
#define LLMT_CHECK_CODE(cond, code, ...)                                 \
    do {                                                                 \
        if (LLMT_UNLIKELY(!(cond))) ::llmt::fail((code), __VA_ARGS__);   \
    } while (0)
