// A process that starts what the sysbench tests and benchmarks start (a MariaDB server, sysbench's
// load on it) and then ends badly, for test/db/sysbench-lifetime.test.ts: it prints one JSON line
// {sysbench, server} (their pids) once transactions are acknowledged, then, by its argument, waits to
// be killed (`wait`) or throws an uncaught exception (`throw`). Nothing here stops what it started.
// Arguments: mode, server id, the folder for the server's files (the test removes it).
import { startMariaDb } from '../../local/mariadb.js';
import { prepareSysbench, SysbenchLoad } from '../../local/sysbench.js';
import { serverPid } from './processes.js';

const mode = process.argv[2] ?? 'wait';
const data = { tables: 1, tableSize: 500 };
const server = await startMariaDb({ serverId: Number(process.argv[3] ?? 951), baseDir: process.argv[4] });
const admin = await server.connect();
await prepareSysbench(server, admin, data);
await admin.end();
const load = SysbenchLoad.start({ endpoint: { host: server.host, port: server.port }, threads: 4, data, retryPauseMs: 0 });
await load.untilAcked(50);
console.log(JSON.stringify({ sysbench: load.pid, server: serverPid(server.dir) }));
if (mode === 'throw') throw new Error('the test process failed');
setInterval(() => undefined, 1000);
