#include <unistd.h>

#include <fstream>

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
        CHECK(spool.rows() == 3);
        CHECK(spool.rows_gone() == 0);

        spool.remove(a.path);
        CHECK(spool.bytes() == b.file_bytes);
        spool.remove(a.path);  // again: nothing more comes off
        CHECK(spool.bytes() == b.file_bytes);
        CHECK(spool.rows() == 1);  // what a drain has left, and done
        CHECK(spool.rows_gone() == 2);
        CHECK(total.load() == b.file_bytes);
    }
    total = 0;
    // A restart indexes what is left, with the same size.
    Spool again(dir.path, &total);
    CHECK(again.bytes() == b.file_bytes);
    CHECK(total.load() == b.file_bytes);
    CHECK(again.rows() == 1);
    // A file gone from under the spool still gives back what it counted.
    std::filesystem::remove(b.path);
    again.remove(b.path);
    CHECK(again.bytes() == 0);
    CHECK(total.load() == 0);
    CHECK(again.rows() == 0);
    CHECK(again.rows_gone() == 1);
}

TEST_CASE("a spool file whose header numbers are not unsigned integers is left out, not misread") {
    TempDir dir;
    std::atomic<std::uint64_t> total{0};
    const LogTarget target{"db", "events", {}};
    SpoolEntry good;
    std::string error;
    {
        Spool spool(dir.path, &total);
        REQUIRE(spool.put(target, 1, "{\"a\":1}\n", 1, error, good));
    }
    // Damaged copies: a batch id past 2^64 (parsed as a float), and negative counts.
    const auto folder = good.path.parent_path();
    const auto rest = std::string("{\"a\":1}\n");
    std::ofstream(folder / "00000000000000000002-000001.batch")
        << "{\"batch_id\":1796199553199553421151,\"bytes\":8,\"rows\":1}\n"
        << rest;
    std::ofstream(folder / "00000000000000000003-000001.batch")
        << "{\"batch_id\":3,\"bytes\":-8,\"rows\":1}\n"
        << rest;
    std::ofstream(folder / "00000000000000000004-000001.batch")
        << "{\"batch_id\":4,\"bytes\":8,\"rows\":1.5}\n"
        << rest;
    total = 0;
    Spool again(dir.path, &total);
    CHECK(again.bytes() == good.file_bytes);  // only the good file is indexed
    CHECK(std::filesystem::exists(folder / "00000000000000000002-000001.batch"));  // left in place
}
