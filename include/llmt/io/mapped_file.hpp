// mapped_file: a read-only view of a whole file, mmap'd where possible, read() into memory otherwise
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
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

enum class load_mode { mmap_or_read, mmap_only, read_only };

/// The bytes of a file, alive as long as the object. Move-only.
class mapped_file {
public:
    mapped_file() = default;

    static mapped_file open(const std::filesystem::path& path, load_mode mode = load_mode::mmap_or_read) {
        mapped_file f;
        f.path_ = path.string();
#if LLMT_HAS_MMAP
        const int fd = ::open(f.path_.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) fail(errc::io, "cannot open '{}': {}", f.path_, std::strerror(errno));
        struct fd_guard { int fd; ~fd_guard() { ::close(fd); } } guard{fd};
        struct stat st {};
        if (::fstat(fd, &st) != 0) fail(errc::io, "cannot stat '{}': {}", f.path_, std::strerror(errno));
        if (!S_ISREG(st.st_mode)) fail(errc::io, "'{}' is not a regular file", f.path_);
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
        f.owned_.resize(size);
        std::size_t done = 0;
        while (done < size) {
            const ssize_t n = ::read(fd, f.owned_.data() + done, size - done);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) fail(errc::io, "cannot read '{}' at byte {}: {}", f.path_, done, n < 0 ? std::strerror(errno) : "unexpected end of file");
            done += static_cast<std::size_t>(n);
        }
        f.data_ = f.owned_.data();
        f.size_ = size;
        return f;
#else
        (void)mode;
        std::FILE* fp = std::fopen(f.path_.c_str(), "rb");
        if (!fp) fail(errc::io, "cannot open '{}'", f.path_);
        std::fseek(fp, 0, SEEK_END);
        const long end = std::ftell(fp);
        std::fseek(fp, 0, SEEK_SET);
        f.owned_.resize(static_cast<std::size_t>(end));
        const auto got = std::fread(f.owned_.data(), 1, f.owned_.size(), fp);
        std::fclose(fp);
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
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

private:
    void swap(mapped_file& o) noexcept {
        std::swap(path_, o.path_);
        std::swap(map_, o.map_);
        std::swap(data_, o.data_);
        std::swap(size_, o.size_);
        // a moved vector keeps its buffer, so data_ pointing into owned_ stays valid
        std::swap(owned_, o.owned_);
    }

    std::string path_;
    void* map_ = nullptr;
    const std::byte* data_ = nullptr;
    std::size_t size_ = 0;
    std::vector<std::byte> owned_;
};

}  // namespace io
LLMT_END_NAMESPACE
