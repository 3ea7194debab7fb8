#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>

namespace chgate::test {

/// A directory of its own under the system's temporary directory, removed
/// with everything in it when the test ends.
struct TempDir {
    explicit TempDir(const std::string& prefix = "chgate-test") {
        static std::atomic<int> n{0};
        path = std::filesystem::temp_directory_path() /
               (prefix + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
        std::filesystem::remove_all(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::filesystem::path path;
};

}  // namespace chgate::test
