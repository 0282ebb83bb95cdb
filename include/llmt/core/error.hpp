// error: llmt::error (code + message with context) and the LLMT_CHECK family
#pragma once

#include <llmt/config.hpp>

#include <fmt/format.h>

#include <stdexcept>
#include <string>
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
