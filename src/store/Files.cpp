#include "store/Files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace chgate::store {

namespace {

// Calls `write(p, n, done)` until all of `data` is written; EINTR is retried.
template <class Write>
bool write_fully(std::string_view data, std::string& error, Write write) {
    std::uint64_t done = 0;
    while (done < data.size()) {
        const ssize_t w = write(data.data() + done, data.size() - done, done);
        if (w < 0) {
            if (errno == EINTR) continue;
            error = std::strerror(errno);
            return false;
        }
        done += static_cast<std::uint64_t>(w);
    }
    return true;
}

}  // namespace

bool write_all(int fd, std::string_view data, std::string& error) {
    return write_fully(data, error, [fd](const char* p, std::size_t n, std::uint64_t) {
        return ::write(fd, p, n);
    });
}

bool pwrite_all(int fd, std::string_view data, std::uint64_t offset, std::string& error) {
    return write_fully(data, error, [fd, offset](const char* p, std::size_t n, std::uint64_t done) {
        return ::pwrite(fd, p, n, static_cast<off_t>(offset + done));
    });
}

void sync_dir(const std::filesystem::path& dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
    const auto tmp = path.string() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(errno));
    std::string error;
    const bool ok = write_all(fd, text, error) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + tmp + ": " + error);
    std::filesystem::rename(tmp, path);
    sync_dir(path.parent_path());
}

std::optional<std::filesystem::path> set_aside(const std::filesystem::path& path) {
    auto aside = path;
    aside += ".unreadable";
    std::error_code ec;
    std::filesystem::rename(path, aside, ec);
    if (ec) return std::nullopt;
    return aside;
}

}  // namespace chgate::store
