#!/usr/bin/env bash
# Runs each statement of a SQL file (statements end with ';', comment lines
# start with '--') against a ClickHouse HTTP URL. Optional DATABASE is created
# first and used for unqualified names.
#   deploy/apply-sql.sh URL FILE [DATABASE]
set -euo pipefail
url="$1" file="$2" db="${3:-}"
run() {
    local out
    if ! out="$(curl -sS --fail-with-body --data-binary "$1" "$url/${db:+?database=$db}")"; then
        echo "apply-sql.sh: failed: $1" >&2
        echo "$out" >&2
        exit 1
    fi
}
if [[ -n "$db" ]]; then
    db_only="$db"; db=""
    run "CREATE DATABASE IF NOT EXISTS \`$db_only\`"
    db="$db_only"
fi
statement=""
while IFS= read -r line || [[ -n "$line" ]]; do
    [[ "$line" =~ ^[[:space:]]*-- ]] && continue
    statement+="$line"$'\n'
    if [[ "$line" =~ \;[[:space:]]*$ ]]; then
        run "${statement%;*}"
        statement=""
    fi
done <"$file"
[[ -z "${statement//[[:space:]]/}" ]] || run "$statement"
