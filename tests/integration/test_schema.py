"""Each table's columns, as chgate reads them from system.columns: shown by
GET /v1/tables/{table}, read again on a reload, after an INSERT that
ClickHouse refused for its columns, and every clickhouse.schema_refresh;
a table that does not exist yet is not an error."""

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time

from harness import CHGATE_BIN, IntegrationTest, wait_until

TOKEN = "schema-token-5c1e9a7b3d2f4e60"
TOKENS = [{"name": "app", "token": TOKEN, "tables": ["events"]}]


class SchemaTest(IntegrationTest):
    SCHEMA = {"events": "id UInt64, note String, day Date MATERIALIZED today()",
              "other": "id UInt64"}

    def info(self, gate, table, token=TOKEN):
        r = gate.request("GET", f"/v1/tables/{table}", headers={"Authorization": f"Bearer {token}"})
        return r.status, (r.json() if r.body else None)

    def columns(self, gate, table="events"):
        status, body = self.info(gate, table)
        self.assertEqual(status, 200, body)
        return [(c["name"], c["type"], c["default_kind"]) for c in body["schema"]["columns"]]

    def test_a_table_shows_its_columns_and_its_settings(self):
        g = self.start({"events": {"max_batch_size": 7}, "other": {}, "later": {}},
                       auth={"tokens": TOKENS})
        wait_until(lambda: self.info(g, "events")[1]["schema"]["state"] == "known", 10,
                   message="the columns to be read")
        status, body = self.info(g, "events")
        self.assertEqual(body["table"], "events")
        self.assertEqual(body["database"], self.db)
        self.assertEqual(body["inserts_into"], "events")
        self.assertEqual(self.columns(g), [("id", "UInt64", ""), ("note", "String", ""),
                                           ("day", "Date", "MATERIALIZED")])
        self.assertIsNotNone(body["schema"]["read_at"])
        self.assertGreaterEqual(body["schema"]["age_ms"], 0)
        self.assertIsNone(body["schema"]["error"])
        self.assertEqual(body["config"]["max_batch_size"], 7)
        self.assertEqual(body["config"]["max_batch_time"], "2s")  # the default, filled in
        # Another token's table, a table chgate does not have, no token.
        self.assertEqual(self.info(g, "other")[0], 403)
        status, body = self.info(g, "nope")
        self.assertEqual(status, 404, body)
        self.assertEqual(self.info(g, "events", token="wrong")[0], 401)
        self.assertEqual(g.request("POST", "/v1/tables/events").status, 405)
        # A configured table that does not exist yet is known as missing.
        g2 = self.start({"later": {}})
        wait_until(lambda: self.info(g2, "later")[1]["schema"]["state"] == "missing", 10,
                   message="the missing table to be read")
        self.assertEqual(self.info(g2, "later")[1]["schema"]["columns"], [])

    def test_a_reload_and_a_refused_insert_read_the_columns_again(self):
        g = self.start({"events": {"max_batch_size": 1, "max_batch_time": "50ms"}},
                       clickhouse={"schema_refresh": "1h"})
        wait_until(lambda: len(self.columns(g)) == 3, 10, message="the columns to be read")
        self.ch.query(f"ALTER TABLE `{self.db}`.events ADD COLUMN extra String")
        self.assertEqual(len(self.columns(g)), 3)  # read an hour from now
        self.assertEqual(g.request("POST", "/admin/reload").status, 200)
        wait_until(lambda: len(self.columns(g)) == 4, 10, message="a reload to read them again")
        # A column dropped under chgate: the next INSERT that names it fails,
        # and the columns are read again.
        self.ch.query(f"ALTER TABLE `{self.db}`.events DROP COLUMN extra")
        r = g.post_events("events", {"id": 1, "note": "n", "extra": "gone now"})
        self.assertEqual(r.status, 202, r)
        wait_until(lambda: len(self.columns(g)) == 3, 20, message="a refused INSERT to read them again")

    def test_the_schema_is_read_again_every_schema_refresh(self):
        g = self.start({"events": {}},
                       clickhouse={"schema_refresh": "1s"})
        wait_until(lambda: len(self.columns(g)) == 3, 10, message="the columns to be read")
        self.ch.query(f"ALTER TABLE `{self.db}`.events ADD COLUMN extra String")
        wait_until(lambda: len(self.columns(g)) == 4, 10, message="the refresh to read them")
        self.assertIn("schema: the columns of", g.log())


class DoorCheckTest(IntegrationTest):
    """schema: check at the door, with a real ClickHouse's columns."""

    SCHEMA = {"events": "id UInt32, ts DateTime, n Float64, s String, day Date MATERIALIZED toDate(ts)"}

    def known(self, gate):
        r = gate.request("GET", "/v1/tables/events")
        return r.status == 200 and r.json()["schema"]["state"] == "known"

    def test_a_bad_event_gets_400_naming_it_and_nothing_is_stored(self):
        g = self.start({"events": {"strategy": "immediate"}})
        wait_until(lambda: self.known(g), 10, message="the columns to be read")
        good = {"id": 1, "ts": "2026-12-03 10:00:00", "n": 1.5, "s": "x"}
        bad = [({"n": "not a number"}, "n", "Float64"), ({"s": {"nested": "object"}}, "s", "String"),
               ({"ts": "yesterday"}, "ts", "DateTime"), ({"id": 4294967296}, "id", "UInt32"),
               ({"colour": "red"}, "colour", ""), ({"day": "2026-12-03"}, "day", "")]
        for fields, field, expected in bad:
            with self.subTest(field=field):
                r = g.post_events("events", [good, dict(good, **fields)])
                self.assertEqual(r.status, 400, r)
                body = r.json()
                self.assertEqual((body["index"], body["field"], body["expected"]), (1, field, expected))
        self.assertEqual(g.post_events("events", [good, dict(good, id=2)]).status, 202)
        self.wait_for_count("events", 2)
        m = g.metrics()["tables"]["events"]
        self.assertEqual(m["requests_rejected_invalid"], len(bad))
        self.assertEqual(m["rows_unchecked"], 0)
        # Nothing reached ClickHouse for the refused requests: no failed INSERT.
        self.assertEqual(m["failed_batches"], 0)

    def test_unknown_fields_ignore_skips_them_in_the_check_and_in_clickhouse(self):
        g = self.start({"events": {"strategy": "immediate", "unknown_fields": "ignore"}})
        wait_until(lambda: self.known(g), 10, message="the columns to be read")
        r = g.post_events("events", [{"id": 7, "ts": "2026-12-03 10:00:00", "colour": {"any": ["thing"]}}])
        self.assertEqual(r.status, 202, r)
        self.wait_for_count("events", 1)


class CoerceTest(IntegrationTest):
    """schema: coerce: values rewritten at the door land as ClickHouse 18.16
    reads the rewritten text, and what cannot be rewritten is refused."""

    SCHEMA = {"events": "id UInt32, ts DateTime('UTC'), local DateTime, price Decimal(9, 2), "
                        "flag UInt16, tags Array(UInt16), n Nullable(Int64)"}

    def test_rewritten_values_land_as_meant(self):
        g = self.start({"events": {"strategy": "immediate", "schema": "coerce"}})
        wait_until(lambda: g.request("GET", "/v1/tables/events").json()["schema"]["state"] == "known",
                   10, message="the columns to be read")
        events = [
            # As sent: nothing to rewrite.
            {"id": 1, "ts": "2026-12-03 17:04:27", "local": "2026-12-03 17:04:27", "price": 1.5,
             "flag": 1, "tags": [1], "n": None},
            # Each value needs a rewrite.
            {"id": "2.0", "ts": "2026-12-03T19:04:27.999+02:00", "local": "2026-12-03T17:04:27.5",
             "price": "12.34", "flag": True, "tags": [True, "3.0"], "n": "-5.00"},
            {"id": 3, "ts": 1796317467123, "local": "2026-12-03 17:04:27", "price": "-0.01",
             "flag": "false", "tags": [], "n": 7},
            {"id": 4, "ts": "1796317467.5", "local": "2026-12-03 17:04:27", "price": 0,
             "flag": 0, "tags": [], "n": None},
        ]
        r = g.post_events("events", events)
        self.assertEqual(r.status, 202, r)
        self.wait_for_count("events", 4)
        text = self.ch.query(f"SELECT id, toUnixTimestamp(ts), toString(local), toString(price), "
                             f"flag, toString(tags), toString(n) FROM `{self.db}`.events ORDER BY id")
        self.assertEqual([line.split("\t") for line in text.splitlines()], [
            ["1", "1796317467", "2026-12-03 17:04:27", "1.50", "1", "[1]", "\\N"],
            ["2", "1796317467", "2026-12-03 17:04:27", "12.34", "1", "[1,3]", "-5"],
            ["3", "1796317467", "2026-12-03 17:04:27", "-0.01", "0", "[]", "7"],
            ["4", "1796317467", "2026-12-03 17:04:27", "0.00", "0", "[]", "\\N"],
        ])
        m = g.metrics()["tables"]["events"]
        self.assertEqual(m["rows_coerced"], 3)
        self.assertEqual(m["failed_batches"], 0)
        # What would lose something is refused, as under check.
        for fields, field in [({"id": 2.5}, "id"), ({"ts": 99999999999999}, "ts"),
                              ({"price": "1.234"}, "price"), ({"flag": "yes"}, "flag")]:
            with self.subTest(field=field):
                r = g.post_events("events", [events[0], dict(events[0], **fields)])
                self.assertEqual(r.status, 400, r)
                self.assertEqual((r.json()["index"], r.json()["field"]), (1, field))
        self.assertEqual(self.count("events"), 4)


class QuarantineTest(IntegrationTest):
    """on_invalid: quarantine: bad events go to a table chgate creates, at the
    door and when ClickHouse refuses them, and the good ones go in."""

    SCHEMA = {"events": "id UInt32, ts DateTime, note String"}

    def quarantined(self, where="1"):
        text = self.ch.query(f"SELECT table, stage, code, field, row, token FROM `{self.db}`.events_quarantine "
                             f"WHERE {where} ORDER BY time, row FORMAT JSONEachRow")
        return [json.loads(line) for line in text.splitlines()]

    def test_bad_events_land_in_the_quarantine_table_at_the_door_and_at_insert(self):
        tokens = [{"name": "shop", "token": TOKEN, "tables": ["events", "loose"]}]
        g = self.start({"events": {"strategy": "immediate", "on_invalid": "quarantine"},
                        "loose": {"strategy": "immediate", "on_invalid": "quarantine", "schema": "off",
                                  "quarantine_table": "events_quarantine"}},
                       auth={"tokens": tokens})
        auth = {"Authorization": f"Bearer {TOKEN}"}
        wait_until(lambda: g.request("GET", "/v1/tables/events", headers=auth).json()["schema"]["state"]
                   == "known", 10, message="the columns to be read")
        good = {"id": 1, "ts": "2026-12-03 10:00:00", "note": "fine"}
        r = g.post_events("events", [good, {"id": "seven"}, dict(good, id=2), {"colour": "red"}],
                          headers=auth)
        self.assertEqual(r.status, 202, r)
        body = r.json()
        self.assertEqual((body["accepted"], body["quarantined"]), (2, 2))
        self.assertEqual([(e["index"], e["field"]) for e in body["errors"]], [(1, "id"), (3, "colour")])
        self.wait_for_count("events", 2)
        # chgate created the quarantine table, and the rows are there with why.
        wait_until(lambda: self.ch.count(self.db, "events_quarantine") == 2
                   if "events_quarantine" in self.ch.query(f"SHOW TABLES FROM `{self.db}`") else False,
                   20, message="2 rows in the quarantine table")
        rows = self.quarantined()
        self.assertEqual(sorted((q["stage"], q["field"], q["row"], q["token"]) for q in rows),
                         [("ingest", "colour", '{"colour": "red"}', "shop"),
                          ("ingest", "id", '{"id": "seven"}', "shop")])
        # The loose table checks nothing at the door: ClickHouse refuses the
        # bad row, bisection finds it, and it goes to the same quarantine table.
        self.ch.query(f"CREATE TABLE `{self.db}`.loose (id UInt32) ENGINE = Memory")
        r = g.post_events("loose", [{"id": 1}, {"id": "x"}, {"id": 3}], headers=auth)
        self.assertEqual(r.status, 202, r)
        self.wait_for_count("loose", 2)
        wait_until(lambda: len(self.quarantined("stage = 'insert'")) == 1, 20,
                   message="the refused row in the quarantine table")
        q = self.quarantined("stage = 'insert'")[0]
        self.assertEqual((q["table"], q["code"], q["field"], q["row"]), ("loose", 27, "id", '{"id": "x"}'))
        m = g.metrics()["tables"]
        self.assertEqual(m["events"]["rows_quarantined_ingest"], 2)
        self.assertEqual(m["loose"]["rows_quarantined_insert"], 1)
        self.assertEqual(m["loose"]["rows_dead_lettered"], 0)
        self.assertEqual(m["events"]["requests_rejected_invalid"], 0)
        # Clients cannot write into it.
        self.assertEqual(g.post_events("events_quarantine", {"id": 1}, headers=auth).status, 404)

    def test_a_replay_after_an_alter_sends_what_fits_now_and_keeps_the_rest(self):
        g = self.start({"events": {"strategy": "immediate", "on_invalid": "quarantine"}})
        wait_until(lambda: g.request("GET", "/v1/tables/events").json()["schema"]["state"] == "known",
                   10, message="the columns to be read")
        good = {"id": 1, "ts": "2026-12-03 10:00:00", "note": "fine"}
        coloured = [dict(good, id=i, colour=f"c{i}") for i in (2, 3)]
        r = g.post_events("events", [good] + coloured + [dict(good, id="seven"), coloured[0]])
        self.assertEqual((r.status, r.json()["quarantined"]), (202, 4), r)
        wait_until(lambda: self.ch.count(self.db, "events_quarantine") == 4
                   if "events_quarantine" in self.ch.query(f"SHOW TABLES FROM `{self.db}`") else False,
                   20, message="4 rows in the quarantine table")
        # The schema catches up with the events; only the colour rows are taken.
        self.ch.query(f"ALTER TABLE `{self.db}`.events ADD COLUMN colour String")
        r = g.request("POST", "/admin/quarantine/events/replay?field=colour")
        self.assertEqual(r.status, 200, r)
        body = r.json()
        self.assertEqual((body["replayed"], body["sent"], body["refused"], body["removed"]), (3, 3, 0, 3))
        self.assertTrue(body["committed"])
        self.wait_for_count("events", 4)
        self.assertEqual(self.ch.query(f"SELECT colour FROM `{self.db}`.events WHERE colour != '' "
                                       f"ORDER BY colour FORMAT TSV").split(), ["c2", "c2", "c3"])
        left = self.quarantined()
        self.assertEqual([q["field"] for q in left], ["id"])
        # A replay of the rest: it still does not fit, so it stays, quarantined anew.
        r = g.request("POST", "/admin/quarantine/events/replay")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json()["replayed"], r.json()["refused"], r.json()["removed"]), (1, 1, 1))
        wait_until(lambda: len(self.quarantined()) == 1, 10, message="the old copy to go")
        self.assertEqual(self.quarantined()[0]["row"], json.dumps(dict(good, id="seven")))
        # Bad requests.
        self.assertEqual(g.request("POST", "/admin/quarantine/events/replay?code=x").status, 400)
        self.assertEqual(g.request("POST", "/admin/quarantine/nope/replay").status, 404)
        self.assertEqual(g.request("GET", "/admin/quarantine/events/replay").status, 405)


class QuarantineFallbackTest(IntegrationTest):
    """Refused rows the quarantine table cannot take go to the dead letters,
    and move into it once it can."""

    def test_dead_letters_move_into_the_quarantine_table_once_it_can_take_them(self):
        storage = self.storage_dir()
        tables = {"loose": {"strategy": "immediate", "on_invalid": "quarantine", "schema": "off"},
                  "loose_quarantine": {"max_memory": "4KiB"}}
        g = self.start(tables, storage)
        self.ch.query(f"CREATE TABLE `{self.db}`.loose (id UInt32, note String) ENGINE = Memory")
        r = g.post_events("loose", [{"id": 1, "note": "a"}, {"id": "bad", "note": "x" * 5000}])
        self.assertEqual(r.status, 202, r)
        self.wait_for_count("loose", 1)
        # Larger than the quarantine table's max_memory: kept in the dead letters.
        wait_until(lambda: g.metrics()["tables"]["loose"]["rows_dead_lettered"] == 1, 20,
                   message="the refused row in the dead letters")
        self.assertEqual(g.metrics()["tables"]["loose"]["rows_quarantined_insert"], 0)
        # Room in the quarantine table: the dead letters move in (every 10 s).
        tables["loose_quarantine"] = {"max_memory": "1MiB"}
        with open(g.config_path, "w") as f:
            f.write(self.config(tables, storage))
        self.assertEqual(g.request("POST", "/admin/reload").status, 200)
        wait_until(lambda: g.metrics()["storage"]["dead_letters"]["rows"] == 0, 30,
                   message="the dead letters to move")
        wait_until(lambda: self.ch.count(self.db, "loose_quarantine") == 1, 20,
                   message="the row in the quarantine table")
        row = json.loads(self.ch.query(f"SELECT stage, code, field, length(row) AS n "
                                       f"FROM `{self.db}`.loose_quarantine FORMAT JSONEachRow"))
        self.assertEqual((row["stage"], row["code"], row["field"]), ("insert", 27, "id"))
        self.assertGreater(int(row["n"]), 5000)


class CreateTablesTest(IntegrationTest):
    """clickhouse.create_tables: SQL files run at start, again at every start."""

    def sql_file(self, text):
        d = tempfile.mkdtemp(prefix="chgate-it-sql-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "tables.sql")
        with open(path, "w") as f:
            f.write(text)
        return path

    def created(self, gate):
        return gate.metrics()["clickhouse"].get("create_tables", {})

    def test_a_declared_table_is_created_when_missing_and_takes_rows(self):
        create = {"columns": {"id": "UInt64", "ts": "DateTime", "kind": "Enum8('a' = 1, 'b' = 2)"},
                  "engine": "MergeTree()", "order_by": "id", "partition_by": "toYYYYMM(ts)"}
        g = self.start({"declared": {"strategy": "immediate", "create": create},
                        "bare": {"strategy": "immediate", "create": {"columns": {"id": "UInt64"}}}})
        wait_until(lambda: g.request("GET", "/v1/tables/declared").json()["schema"]["state"] == "known",
                   15, message="the declared table to be created and read")
        cols = [(c["name"], c["type"]) for c in g.request("GET", "/v1/tables/declared").json()["schema"]["columns"]]
        self.assertEqual(cols, [("id", "UInt64"), ("ts", "DateTime"), ("kind", "Enum8('a' = 1, 'b' = 2)")])
        ddl = self.ch.query(f"SHOW CREATE TABLE `{self.db}`.declared")
        self.assertIn("PARTITION BY toYYYYMM(ts)", ddl)
        self.assertIn("ORDER BY id", ddl)
        r = g.post_events("declared", {"id": 1, "ts": "2026-12-03 10:00:00", "kind": "b"})
        self.assertEqual(r.status, 202, r)
        self.wait_for_count("declared", 1)
        # Without order_by, a MergeTree is ordered by tuple().
        wait_until(lambda: g.request("GET", "/v1/tables/bare").json()["schema"]["state"] == "known",
                   15, message="the bare table to be created")
        self.assertIn("ORDER BY tuple()", self.ch.query(f"SHOW CREATE TABLE `{self.db}`.bare"))
        self.assertIn(f"schema: created {self.db}.declared", g.log())

    def test_the_files_create_the_tables_and_a_second_start_changes_nothing(self):
        path = self.sql_file(
            f"-- the example's table, without IF NOT EXISTS: chgate takes 'already exists'\n"
            f"CREATE TABLE `{self.db}`.created (id UInt64, note String)\n"
            f"    ENGINE = MergeTree() ORDER BY id;\n"
            f"CREATE TABLE IF NOT EXISTS `{self.db}`.other (id UInt64) ENGINE = Memory;\n")
        for start in (1, 2):
            with self.subTest(start=start):
                g = self.start({"created": {"strategy": "immediate"}},
                               clickhouse={"create_tables": [path]})
                wait_until(lambda: self.created(g).get("pending") == 0, 20,
                           message="the statements to run")
                self.assertEqual(self.created(g)["applied"], 2, self.created(g))
                self.assertEqual(self.created(g)["refused"], 0)
                self.assertEqual(g.post_events("created", {"id": start, "note": "x"}).status, 202)
                self.wait_for_count("created", start)
                g.stop()

    def test_a_statement_clickhouse_refuses_is_skipped_and_said(self):
        path = self.sql_file(f"CREATE TABLE nonsense;\nCREATE TABLE `{self.db}`.ok (id UInt64) "
                             f"ENGINE = Memory;\n")
        g = self.start({"ok": {"strategy": "immediate"}}, clickhouse={"create_tables": [path]})
        wait_until(lambda: self.created(g).get("pending") == 0, 20, message="the statements to run")
        state = self.created(g)
        self.assertEqual((state["applied"], state["refused"]), (1, 1), state)
        self.assertIn("Syntax error", state["last_error"])
        self.assertIn("clickhouse.create_tables: ClickHouse refused", g.log())

    def test_a_file_that_does_not_exist_is_a_configuration_error(self):
        text = self.config({"t": {}}, clickhouse={"create_tables": ["/nonexistent/*.sql"]})
        d = tempfile.mkdtemp(prefix="chgate-it-cfg-")
        self.addCleanup(shutil.rmtree, d, True)
        with open(os.path.join(d, "c.yaml"), "w") as f:
            f.write(text)
        out = subprocess.run([CHGATE_BIN, "--config", os.path.join(d, "c.yaml")], capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(out.returncode, 2, out)
        self.assertIn("clickhouse.create_tables", out.stderr)
        self.assertIn("names no file", out.stderr)


class EvolutionTest(IntegrationTest):
    """schema_evolution: add_columns: new fields become Nullable columns of the
    type their first value suggests; the events that bring them wait in the
    buffer until the column is there, and land in it."""

    SCHEMA = {"events": "id UInt64"}

    def columns(self):
        text = self.ch.query(f"SELECT name, type FROM system.columns WHERE database = '{self.db}' "
                             f"AND table = 'events' FORMAT JSONEachRow")
        return {c["name"]: c["type"] for c in map(json.loads, text.splitlines())}

    def test_new_fields_become_columns_and_their_events_land_in_them(self):
        g = self.start({"events": {"strategy": "immediate", "schema_evolution": "add_columns",
                                   "max_alters_per_minute": 7}})
        wait_until(lambda: g.request("GET", "/v1/tables/events").json()["schema"]["state"] == "known",
                   10, message="the columns to be read")
        event = {"id": 1, "colour": "red", "size": 3, "ok": True, "at": "2026-12-03 10:00:00",
                 "ratio": 0.5}
        # A query that reads the table for 2 s holds up the ALTER (it waits for
        # the table's readers), not the INSERTs: a batch sent before the
        # columns are there would be refused.
        self.ch.query(f"INSERT INTO `{self.db}`.events (id) VALUES (0)")
        reader = threading.Thread(target=self.ch.query, args=(f"SELECT sleep(2) FROM `{self.db}`.events",))
        reader.start()
        self.addCleanup(reader.join)
        time.sleep(0.3)
        # ack committed: answered once the row is in ClickHouse, which it can
        # only be once the columns are.
        r = g.request("POST", "/v1/events/events?ack=committed", json.dumps([event, {"id": 2}]))
        self.assertEqual(r.status, 200, r)
        reader.join()
        self.assertEqual(self.columns(), {"id": "UInt64", "colour": "Nullable(String)",
                                          "size": "Nullable(Int64)", "ok": "Nullable(UInt8)",
                                          "at": "Nullable(DateTime)", "ratio": "Nullable(Float64)"})
        rows = self.ch.query(f"SELECT id, colour, size, ok, toString(at), ratio FROM `{self.db}`.events "
                             f"WHERE id > 0 ORDER BY id FORMAT TSV")
        self.assertEqual(rows, "1\tred\t3\t1\t2026-12-03 10:00:00\t0.5\n2\t\\N\t\\N\t\\N\t\\N\t\\N\n")
        # The new column's type is checked like any other.
        r = g.post_events("events", {"id": 3, "size": "big"})
        self.assertEqual(r.status, 400, r)
        self.assertIn("Nullable(Int64)", r.body)
        # A field whose value says nothing of a type, or whose name does not
        # fit new_column_pattern, is an unknown field.
        self.assertEqual(g.post_events("events", {"id": 3, "shape": None}).status, 400)
        r = g.post_events("events", {"id": 3, "Shape": "round"})
        self.assertEqual(r.status, 400, r)
        self.assertIn("new_column_pattern", r.body)
        # A client that sends many new fields meets the table's ALTER rate:
        # 429 with Retry-After, and nothing of the request is stored.
        r = g.post_events("events", {"id": 4, "f1": 1, "f2": 2, "f3": 3})
        self.assertEqual(r.status, 429, r)
        self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
        self.assertIn("at most 7 columns a minute", r.body)
        m = wait_until(lambda: (lambda t: t if t["columns_added"] == 7 else None)(
            g.metrics()["tables"]["events"]), 20, message="the columns asked for to be counted")
        self.assertEqual(m["columns_failed"], 0)
        self.assertEqual(m["rows_inserted"], 2)
        self.assertIn(f"schema: adding column colour Nullable(String) to {self.db}.events", g.log())
        # The schema chgate shows has them once read again.
        wait_until(lambda: len(g.request("GET", "/v1/tables/events").json()["schema"]["columns"]) == 8,
                   20, message="the new columns in the schema chgate shows")
