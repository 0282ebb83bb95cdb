// atomic_output_file: an output written to a temporary file beside it and renamed into place only when complete
#pragma once

#include <llmt/config.hpp>
#include <llmt/core/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <system_error>

LLMT_BEGIN_NAMESPACE
namespace io {

/// An output file that never destroys what was there: the bytes go to a temporary file in the
/// destination's folder, which commit() flushes, syncs and renames over the destination. Until
/// then, and whenever anything fails, the destination is untouched and only the temporary file is
/// removed (also by the destructor of an uncommitted file).
///
/// Refused before anything is created: a destination that exists and is not a regular file
/// (a directory, a device, a FIFO), a regular file without write permission, and a destination
/// that is the same file (inode) as one of `inputs` (writing the model a tool has mapped would
/// truncate it under the mapping). A symbolic link as destination is followed: its target is replaced.
class atomic_output_file {
public:
    explicit atomic_output_file(const std::filesystem::path& path, std::initializer_list<std::filesystem::path> inputs = {})
        : path_(path) {
        namespace fs = std::filesystem;
        LLMT_CHECK_CODE(!path.empty(), errc::invalid_argument, "an output file needs a name");
        struct stat st{};
        mode_t mode = 0666;
        bool exists = false;
        if (::stat(path.c_str(), &st) == 0) {
            exists = true;
            LLMT_CHECK_CODE(S_ISREG(st.st_mode), errc::invalid_argument,
                            "output '{}' exists and is not a regular file (a directory, device or FIFO): refusing to replace it",
                            path.string());
            for (const auto& in : inputs) {
                struct stat si{};
                LLMT_CHECK_CODE(::stat(in.c_str(), &si) != 0 || si.st_dev != st.st_dev || si.st_ino != st.st_ino,
                                errc::invalid_argument, "output '{}' is the input '{}': refusing to overwrite an input",
                                path.string(), in.string());
            }
            LLMT_CHECK_CODE((st.st_mode & 0222) != 0 && ::access(path.c_str(), W_OK) == 0, errc::io,
                            "output '{}' exists and is read-only: refusing to replace it", path.string());
            mode = st.st_mode & 07777;
            std::error_code ec;
            const auto target = fs::canonical(path, ec);  // a symbolic link: replace its target
            if (!ec) path_ = target;
        } else {
            LLMT_CHECK_CODE(errno == ENOENT, errc::io, "cannot create '{}': {}", path.string(), std::strerror(errno));
        }
        const fs::path dir = path_.has_parent_path() ? path_.parent_path() : fs::path(".");
        static std::atomic<unsigned> counter{0};
        for (int attempt = 0;; ++attempt) {
            tmp_ = dir / fmt::format(".{}.tmp-{}-{}", path_.filename().string(), ::getpid(), counter.fetch_add(1));
            fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, exists ? (mode & 0666) : 0666);
            if (fd_ >= 0) break;
            if (errno != EEXIST || attempt > 100) {
                const int e = errno;
                tmp_.clear();
                fail(errc::io, "cannot create '{}': {}", path.string(), std::strerror(e));
            }
        }
        if (exists) (void)::fchmod(fd_, mode);  // keep the mode of the file it replaces (umask aside)
        file_ = ::fdopen(fd_, "wb");
        if (!file_) {
            const int e = errno;
            discard();
            fail(errc::io, "cannot create '{}': {}", path.string(), std::strerror(e));
        }
    }

    atomic_output_file(const atomic_output_file&) = delete;
    atomic_output_file& operator=(const atomic_output_file&) = delete;
    ~atomic_output_file() { discard(); }

    /// The temporary file's stream (fmt::print(f.get(), ...), fwrite); commit() checks its errors.
    [[nodiscard]] std::FILE* get() const noexcept { return file_; }
    /// The path the file will have once committed.
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    void write(const void* p, std::size_t n) {
        LLMT_CHECK_CODE(file_ != nullptr, errc::invalid_argument, "write to '{}' after commit", path_.string());
        if (n && std::fwrite(p, 1, n, file_) != n && errno_ == 0) errno_ = errno ? errno : EIO;
    }

    /// Flushes, syncs and renames the temporary file over the destination. On failure the
    /// destination is untouched, the temporary file removed, and llmt::error thrown.
    void commit() {
        LLMT_CHECK_CODE(file_ != nullptr, errc::invalid_argument, "'{}' committed twice", path_.string());
        int e = errno_;
        if (std::fflush(file_) != 0 && !e) e = errno ? errno : EIO;
        if (std::ferror(file_) && !e) e = EIO;
        if (!e && ::fsync(fd_) != 0) e = errno;
        const int closed = std::fclose(file_);
        file_ = nullptr;
        fd_ = -1;
        if (closed != 0 && !e) e = errno ? errno : EIO;
        if (!e && ::rename(tmp_.c_str(), path_.c_str()) != 0) e = errno;
        if (e) {
            discard();
            fail(errc::io, "cannot write '{}': {}", path_.string(), std::strerror(e));
        }
        tmp_.clear();
        const auto dir = path_.has_parent_path() ? path_.parent_path() : std::filesystem::path(".");
        const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {  // the rename itself reaches the disk
            (void)::fsync(dfd);
            ::close(dfd);
        }
    }

private:
    void discard() noexcept {
        if (file_) std::fclose(file_);
        else if (fd_ >= 0) ::close(fd_);
        file_ = nullptr;
        fd_ = -1;
        if (!tmp_.empty()) ::unlink(tmp_.c_str());
        tmp_.clear();
    }

    std::filesystem::path path_;  // the destination (a symbolic link resolved)
    std::filesystem::path tmp_;   // the temporary file beside it, until commit
    int fd_ = -1;
    std::FILE* file_ = nullptr;
    int errno_ = 0;               // the first failed write's errno
};

}  // namespace io
LLMT_END_NAMESPACE
