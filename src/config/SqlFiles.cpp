#include "config/SqlFiles.hpp"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>

namespace chgate::config {

std::vector<std::string> sql_statements(std::string_view text) {
    std::vector<std::string> out;
    std::string statement;
    auto blank = [](const std::string& s) {
        return s.find_first_not_of(" \t\r\n") == std::string::npos;
    };
    while (!text.empty()) {
        const auto nl = text.find('\n');
        const auto line = text.substr(0, nl);
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        const auto first = line.find_first_not_of(" \t\r");
        if (first != std::string_view::npos && line.substr(first).starts_with("--")) continue;
        statement.append(line).append("\n");
        const auto last = line.find_last_not_of(" \t\r");
        if (last != std::string_view::npos && line[last] == ';') {
            statement.erase(statement.rfind(';'));
            if (!blank(statement)) out.push_back(statement);
            statement.clear();
        }
    }
    if (!blank(statement)) out.push_back(statement);
    return out;
}

std::vector<std::string> sql_files(const std::vector<std::string>& patterns, std::string& error) {
    std::vector<std::string> out;
    for (const auto& pattern : patterns) {
        glob_t g{};
        const int rc = ::glob(pattern.c_str(), GLOB_ERR | GLOB_NOSORT, nullptr, &g);
        std::vector<std::string> matches(g.gl_pathv, g.gl_pathv + (rc == 0 ? g.gl_pathc : 0));
        globfree(&g);
        if (matches.empty()) {
            error = "\"" + pattern + "\" names no file";
            return {};
        }
        std::sort(matches.begin(), matches.end());
        for (auto& m : matches) {
            struct stat st {};
            if (::stat(m.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
                error = "\"" + m + "\" is not a readable file";
                return {};
            }
            if (static_cast<std::size_t>(st.st_size) > kMaxSqlFileSize) {
                error = "\"" + m + "\" is larger than 1 MiB";
                return {};
            }
            out.push_back(std::move(m));
        }
        if (out.size() > kMaxSqlFiles) {
            error = "more than " + std::to_string(kMaxSqlFiles) + " files";
            return {};
        }
    }
    return out;
}

}  // namespace chgate::config
