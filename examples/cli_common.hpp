// cli_common: what every llmt tool shares: exit codes, the catch-all main, checked output, option parsing habits
#pragma once

#include <llmt/core/error.hpp>

#include <fmt/format.h>

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace llmt_cli {

/// The one exit-code convention of every llmt tool.
inline constexpr int exit_ok = 0;
inline constexpr int exit_error = 1;  // the run failed (a file, the model, a write, memory)
inline constexpr int exit_usage = 2;  // the command line is wrong

/// Thrown for a wrong command line: main_wrapper prints it and exits 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

template <typename... Args>
[[noreturn]] void usage_fail(fmt::format_string<Args...> f, Args&&... args) {
    throw usage_error(fmt::format(f, std::forward<Args>(args)...));
}

/// Thrown to leave main with a status once output is complete (--help).
struct exit_request {
    int status;
};

namespace detail {
inline std::string& tool_name() {
    static std::string name = "llmt";
    return name;
}
inline int& stdout_errno() {
    static int e = 0;
    return e;
}
}  // namespace detail

inline const std::string& tool() { return detail::tool_name(); }

/// One line on stderr: "llmt-X: error: MESSAGE". Control characters other than tab are shown as \xHH.
inline void print_error(std::string_view message) {
    std::string line = detail::tool_name() + ": error: ";
    for (const char c : message) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 && c != '\t') line += fmt::format("\\x{:02x}", u);
        else line += c;
    }
    line += '\n';
    std::fflush(stdout);  // what was printed comes before the error
    std::fputs(line.c_str(), stderr);
}

/// A one-line note on stderr ("llmt-X: note: ...").
template <typename... Args>
void note(fmt::format_string<Args...> f, Args&&... args) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: note: {}\n", detail::tool_name(), fmt::format(f, std::forward<Args>(args)...));
}

/// Writes bytes to stdout and remembers the first failure (its errno) for the check at exit.
inline bool out(std::string_view s) {
    if (s.empty()) return true;
    if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size()) {
        if (detail::stdout_errno() == 0) detail::stdout_errno() = errno ? errno : EIO;
        return false;
    }
    return true;
}
/// out() then fflush: text that appears as it is generated.
inline bool out_flush(std::string_view s) {
    bool ok = out(s);
    if (std::fflush(stdout) != 0) {
        if (detail::stdout_errno() == 0) detail::stdout_errno() = errno ? errno : EIO;
        ok = false;
    }
    return ok;
}
/// True once a write to stdout has failed (a generator can stop early).
inline bool stdout_failed() { return detail::stdout_errno() != 0 || std::ferror(stdout); }

/// Flushes stdout and checks that every write to it succeeded; returns the status to exit with.
inline int finish_output(int status) {
    errno = 0;
    const bool flush_failed = std::fflush(stdout) != 0;
    const int flush_errno = errno;
    if (flush_failed || std::ferror(stdout) || detail::stdout_errno() != 0) {
        const int e = detail::stdout_errno() ? detail::stdout_errno() : flush_errno;
        fmt::print(stderr, "{}: error: cannot write the standard output: {}\n", detail::tool_name(),
                   e ? std::strerror(e) : "a write failed");
        return status == exit_ok ? exit_error : status;
    }
    return status;
}

/// The whole main of a tool: runs body() (returning the exit status), catches everything, prints
/// one line "llmt-X: error: ..." and exits 1 (2 for a usage error), then checks stdout's writes.
template <typename Body>
int main_wrapper(std::string_view name, Body&& body) noexcept {
    detail::tool_name() = std::string(name);
    int status = exit_error;
    try {
        try {
            status = body();
        } catch (const exit_request& e) {
            status = e.status;
        } catch (const usage_error& e) {
            print_error(e.what());
            fmt::print(stderr, "{}: run '{} --help' for the options\n", detail::tool_name(), detail::tool_name());
            status = exit_usage;
        } catch (const llmt::error& e) {
            print_error(e.what());
            status = exit_error;
        } catch (const std::bad_alloc&) {
            print_error("out of memory");
            status = exit_error;
        } catch (const std::system_error& e) {
            print_error(e.what());
            status = exit_error;
        } catch (const std::exception& e) {
            print_error(e.what());
            status = exit_error;
        } catch (...) {
            print_error("unknown exception");
            status = exit_error;
        }
        return finish_output(status);
    } catch (...) {  // printing the error failed (out of memory)
        return exit_error;
    }
}

// ---- values ----

/// Parses a whole decimal integer into T, or throws usage_error naming the option and the limits.
template <typename T>
T parse_int(std::string_view text, std::string_view option, T lo = std::numeric_limits<T>::min(),
            T hi = std::numeric_limits<T>::max()) {
    T v{};
    const char* b = text.data();
    const char* e = text.data() + text.size();
    if (b != e && *b == '+') ++b;
    const auto r = std::from_chars(b, e, v);
    if (r.ec == std::errc::result_out_of_range || (r.ec == std::errc{} && r.ptr == e && (v < lo || v > hi)))
        usage_fail("{} must be from {} to {}, got '{}'", option, lo, hi, text);
    if (r.ec != std::errc{} || r.ptr != e || b == e) usage_fail("{} wants an integer, got '{}'", option, text);
    return v;
}

/// Refuses NaN and infinities for an option (CLI11's Range lets NaN through).
inline void check_finite(double v, std::string_view option) {
    if (!std::isfinite(v)) usage_fail("{} must be a finite number, got {}", option, v);
}

/// llama.cpp's -e: \n \r \t \' \" \\ \a \b \f \v \? and \xHH become the bytes they name; any other
/// backslash sequence is kept as it is.
inline std::string process_escapes(std::string_view s) {
    std::string r;
    r.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 == s.size()) {
            r += s[i];
            continue;
        }
        const char c = s[++i];
        switch (c) {
            case 'n': r += '\n'; break;
            case 'r': r += '\r'; break;
            case 't': r += '\t'; break;
            case 'a': r += '\a'; break;
            case 'b': r += '\b'; break;
            case 'f': r += '\f'; break;
            case 'v': r += '\v'; break;
            case '\'': case '"': case '\\': case '?': r += c; break;
            case 'x':
                if (i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
                    r += char(hex(s[i + 1]) * 16 + hex(s[i + 2]));
                    i += 2;
                    break;
                }
                [[fallthrough]];
            default:
                r += '\\';
                r += c;
        }
    }
    return r;
}

// ---- files ----

/// The whole content of a text input (a prompt file): a regular file of at most max_bytes,
/// refused without blocking when it is a FIFO, a device or a directory.
inline std::string read_text_file(const std::string& path, std::string_view option,
                                  std::uint64_t max_bytes = std::uint64_t(1) << 30) {
    struct stat st{};
    if (::stat(path.c_str(), &st) != 0)
        llmt::fail(llmt::errc::io, "{}: cannot open '{}': {}", option, path, std::strerror(errno));
    if (!S_ISREG(st.st_mode))
        llmt::fail(llmt::errc::io, "{}: '{}' is not a regular file (a directory, device or FIFO cannot be read as text)",
                   option, path);
    if (std::uint64_t(st.st_size) > max_bytes)
        llmt::fail(llmt::errc::io, "{}: '{}' has {} bytes, more than the limit of {} bytes", option, path,
                   std::uint64_t(st.st_size), max_bytes);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) llmt::fail(llmt::errc::io, "{}: cannot open '{}': {}", option, path, std::strerror(errno));
    std::string text;
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            llmt::fail(llmt::errc::io, "{}: cannot read '{}': {}", option, path, std::strerror(e));
        }
        if (n == 0) break;
        if (text.size() + std::size_t(n) > max_bytes) {
            ::close(fd);
            llmt::fail(llmt::errc::io, "{}: '{}' grew past the limit of {} bytes while read", option, path, max_bytes);
        }
        text.append(buf, std::size_t(n));
    }
    ::close(fd);
    return text;
}

/// Refuses an input that exists and is not a regular file before anything opens it (a FIFO would block).
inline void check_input_file(const std::string& path, std::string_view what) {
    struct stat st{};
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
        llmt::fail(llmt::errc::io, "{} '{}' is not a regular file (a directory, device or FIFO)", what, path);
}

/// The model path: -m FILE, else the environment variable LLMT_MODEL; a model that is not a regular
/// file is refused before anything opens it (a FIFO would block).
inline std::string resolve_model(const std::string& given) {
    std::string path = given;
    if (path.empty()) {
        const char* env = std::getenv("LLMT_MODEL");
        if (env && *env) path = env;
    }
    if (path.empty()) usage_fail("no model: pass -m FILE or set LLMT_MODEL");
    check_input_file(path, "model");
    return path;
}

/// The help line of -m: where the model comes from.
inline constexpr const char* model_help = "GGUF model file (required unless the environment variable LLMT_MODEL names one)";

// ---- llama.cpp habits ----

/// Single-dash multi-letter llama.cpp flags, which CLI11 would read as a short flag and its value
/// (-fa as -f a, -ngl 99 as -n gl 99, -cnv as -c nv), rewritten to their long forms.
struct habit_alias {
    std::string_view from, to;
};
inline constexpr habit_alias habit_aliases[] = {
    {"-fa", "--flash-attn"},        {"-ngl", "--n-gpu-layers"},   {"-cnv", "--conversation"},
    {"-no-cnv", "--no-conversation"}, {"-ctk", "--cache-type-k"}, {"-ctv", "--cache-type-v"},
    {"-sm", "--split-mode"},        {"-mg", "--main-gpu"},        {"-ts", "--tensor-split"},
    {"-nkvo", "--no-kv-offload"},   {"-dev", "--device"},         {"-sys", "--system-prompt"},
};

/// argv with llama.cpp's habits rewritten (see habit_aliases); --flash-attn takes an optional
/// on|off|auto: "-fa" alone becomes "--flash-attn=on". Nothing after "--" is touched.
inline std::vector<std::string> rewrite_habits(int argc, char** argv) {
    std::vector<std::string> args;
    bool rest = false;
    for (int i = 0; i < argc; ++i) {
        std::string a = argv[i];
        if (i == 0 || rest) {
            args.push_back(std::move(a));
            continue;
        }
        if (a == "--") rest = true;
        for (const auto& h : habit_aliases)
            if (a == h.from) a = std::string(h.to);
        if (a == "--flash-attn") {
            const std::string_view next = i + 1 < argc ? std::string_view(argv[i + 1]) : std::string_view();
            if (next == "on" || next == "off" || next == "auto" || next == "1" || next == "0") {
                a += "=" + std::string(next);
                ++i;
            } else {
                a += "=on";
            }
        }
        args.push_back(std::move(a));
    }
    return args;
}

}  // namespace llmt_cli
