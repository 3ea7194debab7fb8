#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "batch/BatchManager.hpp"
#include "http/Response.hpp"
#include "ingest/BodyDecoder.hpp"

namespace chgate::http {

/// The parts of an ingest request the handler reads.
struct IngestInput {
    std::string_view content_encoding;
    std::string_view content_type;
    std::string_view body;
};

/// Buffers a connection reuses from request to request, so that decoding
/// allocates nothing once they have grown.
struct IngestScratch {
    std::string decoded;
    std::string joined;
    std::vector<ingest::RowSlice> rows;

    /// Gives back memory a rare large request left behind, so that idle
    /// connections do not each keep a max_body_size buffer.
    void trim();
};

/// Turns an ingest request into rows in a table buffer, or an error. No
/// sockets: the session hands it bytes and sends back what it returns.
class IngestHandler {
  public:
    IngestHandler(batch::BatchManager& manager, std::uint64_t max_body_size);

    /// POST /v1/events/{table}: 202 {"accepted": N}.
    Response post_events(std::string_view table, const IngestInput& in, IngestScratch& scratch);

    /// POST /?query=INSERT INTO … FORMAT JSONEachRow, or with the statement as
    /// the body's first line: 200 with an empty body, as ClickHouse answers.
    Response post_insert(std::string_view url_query, const IngestInput& in, IngestScratch& scratch);

  private:
    /// Decompresses into scratch.decoded when encoded; on error fills `error`.
    bool decode_content(const IngestInput& in, IngestScratch& scratch, std::string_view& body,
                        Response& error) const;
    /// Routes, decodes rows, appends. Returns the error answer, or nullopt once
    /// the rows (scratch.rows) are buffered.
    std::optional<Response> ingest(const batch::Route& route, std::string_view table_label,
                                   std::string_view data, ingest::BodyFormat format,
                                   IngestScratch& scratch);

    batch::BatchManager& manager_;
    const std::uint64_t max_body_size_;
};

}  // namespace chgate::http
