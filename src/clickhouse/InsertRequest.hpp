#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "clickhouse/ServerInfo.hpp"

namespace chgate::clickhouse {

/// Percent-encodes everything but RFC 3986's unreserved characters.
std::string url_encode(std::string_view s);

/// {base}/?query=…&{settings}&wait_end_of_query=1… for one INSERT. Pure: the
/// server's capabilities decide which optional parameters go in.
/// `dedup_token` goes in as insert_deduplication_token where the server has
/// that setting, so that a retry of the same rows is not inserted twice (on
/// tables where ClickHouse deduplicates inserts). `distributed`: into a
/// Distributed table, with insert_distributed_sync=1 where the server has it.
/// `skip_unknown_fields`: input_format_skip_unknown_fields=1, unless
/// clickhouse.settings says otherwise.
std::string build_insert_url(const std::string& base_url, const std::string& insert_query,
                             const ServerInfo& server, std::string_view dedup_token = {},
                             bool distributed = false, bool skip_unknown_fields = false);

/// A batch's token: its id, and a checksum of its rows, so that the same batch
/// sent again gets the same token and a changed remainder gets another.
std::string dedup_token(std::uint64_t batch_id, std::string_view rows);

}  // namespace chgate::clickhouse
