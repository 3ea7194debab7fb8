#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace chgate::store {

/// write(2) until everything is written; false with `error` set on failure.
bool write_all(int fd, std::string_view data, std::string& error);
/// pwrite(2) at `offset` until everything is written; as write_all.
bool pwrite_all(int fd, std::string_view data, std::uint64_t offset, std::string& error);

/// fsyncs a directory, so that a new or renamed entry in it survives a crash.
void sync_dir(const std::filesystem::path& dir);

/// Replaces `path` with `text` so that a crash leaves the old or the new file,
/// never a torn one: write a temporary file, sync it, rename it, sync the directory.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

/// A file chgate cannot use (a log segment or spool file it cannot read):
/// renamed NAME.unreadable, never deleted, for a person to look at. Returns
/// the new name, or nullopt if it could not be renamed (it is gone, say).
std::optional<std::filesystem::path> set_aside(const std::filesystem::path& path);

}  // namespace chgate::store
