// mapped_file: a read-only view of a whole file, mmap'd where possible, read() into memory otherwise
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#if LLMT_HAS_MMAP
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

LLMT_BEGIN_NAMESPACE
namespace io {

/// How a file's bytes get into memory.
///  - mmap_or_read: mapped (shared with the page cache, pages loaded as they are touched), read when
///    mapping fails;
///  - mmap_only: mapped, or an error;
///  - read_only: read into memory of the process. Where the OS has them (Linux), that memory is
///    2 MiB-aligned and advised to transparent huge pages: far fewer TLB misses when decode streams
///    every weight once per token (measured 10-15% more read bandwidth here than 4 KiB file pages),
///    at the price of reading the whole file at load and of a private copy.
enum class load_mode { mmap_or_read, mmap_only, read_only };

/// The alignment and granule of read_only memory (an x86-64 / arm64 transparent huge page).
inline constexpr std::size_t huge_page_bytes = std::size_t(2) << 20;

/// Anonymous memory of the process, 2 MiB-aligned and advised to transparent huge pages where the OS
/// has them (a std::vector elsewhere, or when mmap fails), rounded up to whole huge pages. Move-only.
class page_buffer {
public:
    page_buffer() = default;
    explicit page_buffer(std::size_t bytes) {
        if (bytes == 0) return;
#if LLMT_HAS_MMAP
        constexpr std::size_t huge = huge_page_bytes;
        const std::size_t want = (bytes + huge - 1) / huge * huge;
        void* p = ::mmap(nullptr, want + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED) {
            map_ = p;
            map_size_ = want + huge;
            const auto u = reinterpret_cast<std::uintptr_t>(p);
            data_ = reinterpret_cast<std::byte*>((u + huge - 1) & ~std::uintptr_t(huge - 1));
#ifdef MADV_HUGEPAGE
            ::madvise(data_, want, MADV_HUGEPAGE);  // advice only: without THP the pages stay small
#endif
            size_ = bytes;
            return;
        }
#endif
        owned_.resize(bytes);
        data_ = owned_.data();
        size_ = bytes;
    }
    page_buffer(page_buffer&& o) noexcept { swap(o); }
    page_buffer& operator=(page_buffer&& o) noexcept {
        if (this != &o) {
            page_buffer tmp(std::move(o));
            swap(tmp);
        }
        return *this;
    }
    page_buffer(const page_buffer&) = delete;
    page_buffer& operator=(const page_buffer&) = delete;
    ~page_buffer() {
#if LLMT_HAS_MMAP
        if (map_) ::munmap(map_, map_size_);
#endif
    }
    [[nodiscard]] std::byte* data() noexcept { return data_; }
    [[nodiscard]] const std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }

private:
    void swap(page_buffer& o) noexcept {
        std::swap(map_, o.map_);
        std::swap(map_size_, o.map_size_);
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
        std::swap(owned_, o.owned_);  // a moved vector keeps its buffer: data_ stays valid
    }
    void* map_ = nullptr;
    std::size_t map_size_ = 0;
    std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::vector<std::byte> owned_;
};

/// The bytes of a file, alive as long as the object. Move-only.
class mapped_file {
public:
    mapped_file() = default;

    static mapped_file open(const std::filesystem::path& path, load_mode mode = load_mode::mmap_or_read) {
        mapped_file f;
        f.path_ = path.string();
#if LLMT_HAS_MMAP
        // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever; it is
        // refused below as not a regular file, and cleared for a regular one.
        const int fd = ::open(f.path_.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) fail(errc::io, "cannot open '{}': {}", f.path_, std::strerror(errno));
        struct fd_guard { int fd; ~fd_guard() { ::close(fd); } } guard{fd};
        struct stat st {};
        if (::fstat(fd, &st) != 0) fail(errc::io, "cannot stat '{}': {}", f.path_, std::strerror(errno));
        if (!S_ISREG(st.st_mode)) fail(errc::io, "cannot load '{}': it is {}, not a regular file", f.path_, file_kind(st.st_mode));
        if (const int fl = ::fcntl(fd, F_GETFL); fl < 0 || ::fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
            fail(errc::io, "cannot read '{}': fcntl: {}", f.path_, std::strerror(errno));
        const auto size = static_cast<std::size_t>(st.st_size);
        if (size == 0) return f;
        if (mode != load_mode::read_only) {
            void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                f.map_ = p;
                f.size_ = size;
                f.data_ = static_cast<const std::byte*>(p);
                return f;
            }
            if (mode == load_mode::mmap_only)
                fail(errc::io, "cannot mmap '{}': {}", f.path_, std::strerror(errno));
        }
        f.buffer_ = page_buffer(size);
        std::byte* dst = f.buffer_.data();
        // Read in parallel, one contiguous part per thread (part boundaries on huge pages): the page
        // faults (zeroing huge pages) and the copies of a cached file run on every core.
        constexpr std::size_t part_align = huge_page_bytes;
        const unsigned n_parts = unsigned(std::clamp<std::size_t>(size / (std::size_t(64) << 20), 1, std::clamp(std::thread::hardware_concurrency(), 1u, 8u)));
        std::vector<std::string> errors(n_parts);
        auto read_part = [&](unsigned i) {
            std::size_t lo = i == 0 ? 0 : size / n_parts * i / part_align * part_align;
            const std::size_t hi = i + 1 == n_parts ? size : size / n_parts * (i + 1) / part_align * part_align;
            while (lo < hi) {
                const ssize_t n = ::pread(fd, dst + lo, std::min<std::size_t>(hi - lo, std::size_t(64) << 20), off_t(lo));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {
                    errors[i] = fmt::format("cannot read '{}' at byte {}: {}", f.path_, lo,
                                            n < 0 ? std::generic_category().message(errno) : "unexpected end of file");
                    return;
                }
                lo += static_cast<std::size_t>(n);
            }
        };
        {
            std::vector<std::thread> workers;
            for (unsigned i = 1; i < n_parts; ++i) {
                try {
                    workers.emplace_back(read_part, i);
                } catch (const std::system_error&) {  // no thread to be had: this one reads that part too
                    read_part(i);
                }
            }
            read_part(0);
            for (auto& w : workers) w.join();
        }
        for (const auto& e : errors)
            if (!e.empty()) fail(errc::io, "{}", e);
        f.data_ = dst;
        f.size_ = size;
        return f;
#else
        (void)mode;
        // Refuse a directory, a device or a pipe before opening it (opening a pipe may block).
        std::error_code ec;
        const auto status = std::filesystem::status(path, ec);
        if (ec) fail(errc::io, "cannot open '{}': {}", f.path_, ec.message());
        if (!std::filesystem::is_regular_file(status)) fail(errc::io, "cannot load '{}': it is not a regular file", f.path_);
        std::FILE* fp = std::fopen(f.path_.c_str(), "rb");
        if (!fp) fail(errc::io, "cannot open '{}'", f.path_);
        struct file_guard { std::FILE* fp; ~file_guard() { if (fp) std::fclose(fp); } } guard{fp};
        long end = -1;
        if (std::fseek(fp, 0, SEEK_END) == 0) end = std::ftell(fp);
        if (end < 0 || std::fseek(fp, 0, SEEK_SET) != 0) fail(errc::io, "cannot find the size of '{}'", f.path_);
        f.owned_.resize(static_cast<std::size_t>(end));
        const auto got = std::fread(f.owned_.data(), 1, f.owned_.size(), fp);
        if (got != f.owned_.size()) fail(errc::io, "cannot read '{}'", f.path_);
        f.data_ = f.owned_.data();
        f.size_ = f.owned_.size();
        return f;
#endif
    }

    /// Takes ownership of bytes already in memory.
    static mapped_file from_bytes(std::vector<std::byte> bytes, std::string name = "<memory>") {
        mapped_file f;
        f.path_ = std::move(name);
        f.owned_ = std::move(bytes);
        f.data_ = f.owned_.data();
        f.size_ = f.owned_.size();
        return f;
    }

    mapped_file(mapped_file&& o) noexcept { swap(o); }
    mapped_file& operator=(mapped_file&& o) noexcept {
        if (this != &o) {
            mapped_file tmp(std::move(o));
            swap(tmp);
        }
        return *this;
    }
    mapped_file(const mapped_file&) = delete;
    mapped_file& operator=(const mapped_file&) = delete;
    ~mapped_file() {
#if LLMT_HAS_MMAP
        if (map_) ::munmap(map_, size_);
#endif
    }

    [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return {data_, size_}; }
    [[nodiscard]] const std::byte* data() const noexcept { return data_; }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool is_mapped() const noexcept { return map_ != nullptr; }
    /// The bytes, writable, when they are the process's own copy (read into memory, or from_bytes);
    /// nullptr for a file mapping.
    [[nodiscard]] std::byte* private_data() noexcept { return map_ != nullptr ? nullptr : const_cast<std::byte*>(data_); }
    /// Gives the whole pages inside [p, p + n) of a file mapping back to the OS: they stop counting in
    /// the process's memory and are read from the file again if touched. Does nothing for other bytes.
    void release(const std::byte* p, std::size_t n) noexcept {
#if LLMT_HAS_MMAP
        if (map_ == nullptr || p < data_ || p + n > data_ + size_) return;
        const auto page = std::uintptr_t(::sysconf(_SC_PAGESIZE));
        const auto lo = (reinterpret_cast<std::uintptr_t>(p) + page - 1) / page * page;
        const auto hi = reinterpret_cast<std::uintptr_t>(p + n) / page * page;
        if (lo < hi) ::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
#else
        (void)p, (void)n;
#endif
    }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
#if LLMT_HAS_MMAP
    /// What a non-regular file is, for messages ("a FIFO", "a directory").
    static const char* file_kind(mode_t m) noexcept {
        if (S_ISDIR(m)) return "a directory";
        if (S_ISFIFO(m)) return "a FIFO (named pipe)";
        if (S_ISCHR(m)) return "a character device";
        if (S_ISBLK(m)) return "a block device";
        if (S_ISSOCK(m)) return "a socket";
        return "a special file";
    }
#endif

    void swap(mapped_file& o) noexcept {
        std::swap(path_, o.path_);
        std::swap(map_, o.map_);
        std::swap(buffer_, o.buffer_);
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
        // a moved vector keeps its buffer, so data_ pointing into owned_ stays valid
        std::swap(owned_, o.owned_);
    }

    std::string path_;
    void* map_ = nullptr;      // a file mapping (size_ bytes)
    page_buffer buffer_;       // or the memory the file was read into
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::vector<std::byte> owned_;
};

}  // namespace io
LLMT_END_NAMESPACE
