#!/usr/bin/env python3
"""Turns a file of CREATE TABLE statements for one server (deploy/sql/chgate.sql)
into the same tables on a cluster (in DATABASE, default "default"), printed for every node: NAME_local, a
ReplicatedMergeTree per shard, and NAME, a Distributed table over them with the
columns clients send (not MATERIALIZED or ALIAS ones), so that clients keep
writing to NAME.

    deploy/cluster-sql.py FILE [DATABASE [CLUSTER]] [--shard-key TABLE=EXPR ...] > cluster.sql

A Distributed table shards by rand() unless --shard-key gives TABLE its
sharding key: give the tables chgate feeds with shard_by the same expression,
so that rows inserted through the Distributed table land where chgate puts them.
"""
import re
import sys

args, keys = [], {}
argv = sys.argv[1:]
while argv:
    arg = argv.pop(0)
    if arg == "--shard-key":
        if not argv or "=" not in argv[0]:
            sys.exit("cluster-sql.py: --shard-key needs TABLE=EXPR")
        table, expr = argv.pop(0).split("=", 1)
        keys[table] = expr
    else:
        args.append(arg)
if not 1 <= len(args) <= 3:
    sys.exit("usage: deploy/cluster-sql.py FILE [DATABASE [CLUSTER]] [--shard-key TABLE=EXPR ...]")
source = open(args[0]).read()
database = args[1] if len(args) > 1 else "default"
cluster = args[2] if len(args) > 2 else "chgate_cluster"
create = re.compile(r"CREATE TABLE IF NOT EXISTS (\w+) \(")
engine = re.compile(r"ENGINE = MergeTree\(\)")
out = []
lines = [line for line in source.splitlines() if not line.lstrip().startswith("--")]
for statement in "\n".join(lines).split(";"):
    statement = statement.strip()
    if not statement:
        continue
    name = create.search(statement)
    if not name or not engine.search(statement):
        sys.exit(f"cluster-sql.py: not a CREATE TABLE IF NOT EXISTS … ENGINE = MergeTree(): {statement[:80]}")
    table = name.group(1)
    local = create.sub(f"CREATE TABLE IF NOT EXISTS `{database}`.{table}_local (", statement, count=1)
    local = engine.sub(f"ENGINE = ReplicatedMergeTree('/clickhouse/tables/{{shard}}/{database}.{table}_local', "
                       "'{replica}')", local, count=1)
    out.append(local + ";\n")
    # The Distributed table takes what clients send: not the MATERIALIZED or
    # ALIAS columns, which 18.16 would refuse to pass on (Code 44).
    body = statement[name.end():statement.index(") ENGINE")]
    columns = [c.strip() for c in body.split(",\n") if c.strip()]
    sent = [c for c in columns if not re.search(r"\b(MATERIALIZED|ALIAS)\b", c)]
    out.append(f"CREATE TABLE IF NOT EXISTS `{database}`.{table} (\n    " + ",\n    ".join(sent) + "\n)"
               f" ENGINE = Distributed({cluster}, `{database}`, {table}_local, {keys.pop(table, 'rand()')});\n")
if keys:
    sys.exit(f"cluster-sql.py: --shard-key names tables FILE does not create: {', '.join(keys)}")
print("\n".join(out))
