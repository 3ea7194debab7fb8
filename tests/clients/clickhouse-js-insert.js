// Inserts rows through the official ClickHouse JavaScript client, pointed at
// chgate's ClickHouse-compatible endpoint, as an app would. Prints one line of
// JSON: {"ok": true} or {"ok": false, "code": ..., "message": ...}.
//   node clickhouse-js-insert.js URL USER PASSWORD TABLE ROWS_JSON
const { createClient } = require('@clickhouse/client');

async function main() {
    const [url, username, password, table, rows] = process.argv.slice(2);
    const client = createClient({ url, username, password, request_timeout: 10000 });
    try {
        await client.insert({ table, values: JSON.parse(rows), format: 'JSONEachRow' });
        console.log(JSON.stringify({ ok: true }));
    } catch (e) {
        console.log(JSON.stringify({ ok: false, code: e.code, message: String(e.message) }));
    } finally {
        await client.close();
    }
}

main();
