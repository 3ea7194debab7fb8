#include "ingest/ColumnInference.hpp"

namespace chgate::ingest {
namespace {

bool digit(char c) {
    return c >= '0' && c <= '9';
}

// "YYYY-MM-DD at the start of a JSON string: only such text is taken for a
// date, not every string a DateTime column would read ("123" is a unix time).
bool starts_with_date(std::string_view value) {
    return value.size() >= 11 && value[0] == '"' && digit(value[1]) && digit(value[2]) &&
           digit(value[3]) && digit(value[4]) && value[5] == '-' && digit(value[6]) &&
           digit(value[7]) && value[8] == '-' && digit(value[9]) && digit(value[10]);
}

bool takes(std::string_view type, std::string_view value, const CheckOptions& options,
           std::string& scratch) {
    return check_value(parse_column_type(type), value, options, scratch) == nullptr;
}

}  // namespace

InferredType infer_column_type(std::string_view value, const CheckOptions& options, bool coerce,
                               std::string& scratch) {
    if (value.empty()) return {"", "is empty"};
    switch (value[0]) {
        case 't':
        case 'f':
            return {"Nullable(UInt8)"};
        case 'n':
            return {"", "is null, which says nothing of the column's type"};
        case '{':
        case '[':
            return {"", "is an object or an array, which no new column takes"};
        case '"': {
            if (starts_with_date(value)) {
                const auto date_time = parse_column_type("DateTime");
                if (check_value(date_time, value, options, scratch) == nullptr) {
                    return {"Nullable(DateTime)"};
                }
                std::string rewritten;
                if (coerce && coerce_value(date_time, value, options, scratch, rewritten)) {
                    return {"Nullable(DateTime)"};
                }
            }
            return {"Nullable(String)"};
        }
        default:
            break;
    }
    if (value.find_first_of(".eE") != std::string_view::npos) return {"Nullable(Float64)"};
    if (takes("Int64", value, options, scratch)) return {"Nullable(Int64)"};
    if (takes("UInt64", value, options, scratch)) return {"Nullable(UInt64)"};
    return {"", "is an integer past UInt64"};
}

}  // namespace chgate::ingest
