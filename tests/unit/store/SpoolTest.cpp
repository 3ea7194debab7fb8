#include <unistd.h>

#include <catch2/catch.hpp>

#include "support/TempDir.hpp"

#include "store/Spool.hpp"

using namespace chgate;
using namespace chgate::store;

namespace {

struct TempDir : test::TempDir {
    TempDir() : test::TempDir("chgate-spool") {}
};

}  // namespace

TEST_CASE("the spool counts each file's size once in and once out") {
    TempDir dir;
    std::atomic<std::uint64_t> total{0};
    const LogTarget target{"db", "events", {}};
    SpoolEntry a, b;
    std::string error;
    {
        Spool spool(dir.path, &total);
        REQUIRE(spool.put(target, 1, "{\"a\":1}\n{\"a\":2}\n", 2, error, a));
        REQUIRE(spool.put(target, 2, "{\"a\":3}\n", 1, error, b));
        CHECK(a.file_bytes == std::filesystem::file_size(a.path));
        CHECK(spool.bytes() == a.file_bytes + b.file_bytes);
        CHECK(total.load() == spool.bytes());

        spool.remove(a.path);
        CHECK(spool.bytes() == b.file_bytes);
        spool.remove(a.path);  // again: nothing more comes off
        CHECK(spool.bytes() == b.file_bytes);
        CHECK(total.load() == b.file_bytes);
    }
    total = 0;
    // A restart indexes what is left, with the same size.
    Spool again(dir.path, &total);
    CHECK(again.bytes() == b.file_bytes);
    CHECK(total.load() == b.file_bytes);
    // A file gone from under the spool still gives back what it counted.
    std::filesystem::remove(b.path);
    again.remove(b.path);
    CHECK(again.bytes() == 0);
    CHECK(total.load() == 0);
}
