// Inserts rows through the official ClickHouse JavaScript client
// (@clickhouse/client), pointed at chgate's ClickHouse-compatible endpoint as
// an app would point it at ClickHouse: chgate takes the INSERT, batches it
// with other apps' rows and sends it on. The token goes as the password.
//
//   npm ci && node insert.js URL USER PASSWORD TABLE ROWS_JSON [DATABASE]
//
// It checks the server first (client.ping(), GET /ping), then inserts the
// rows as JSONEachRow. Prints one line of JSON:
//   {"ok": true, "query_id": ..., "summary": {...}}
//   {"ok": false, "code": ..., "message": ...}
const { createClient } = require('@clickhouse/client');

async function main() {
    const [url, username, password, table, rows, database] = process.argv.slice(2);
    const client = createClient({
        url,
        username,
        password,
        database: database || 'default',
        request_timeout: 10000,
    });
    try {
        const ping = await client.ping();
        if (!ping.success) throw ping.error;
        const result = await client.insert({
            table,
            values: JSON.parse(rows),
            format: 'JSONEachRow',
        });
        console.log(JSON.stringify({
            ok: result.executed,
            query_id: result.query_id,
            summary: result.summary,
        }));
    } catch (e) {
        console.log(JSON.stringify({ ok: false, code: e.code, message: String(e.message) }));
    } finally {
        await client.close();
    }
}

main();
