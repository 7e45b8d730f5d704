// `npm run bench:lag [-- --json]`: lag resolution. With a known MASTER_DELAY (0, 1, 2 s) on a replica
// under ~200 writes/s, samples every 200 ms: the passive heartbeat (100 ms background writer), the
// active heartbeat of one "Check replication" and Seconds_Behind_Master, and prints their p50/max.
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const json = process.argv.includes('--json');
const { replicatedPair, percentile } = await import('./replicated-pair.js');
const { openConnection } = await import('../shared/mysql/connection.js');
const { HeartbeatWriter, passiveHeartbeatLagMs, activeHeartbeatLagMs } = await import('../shared/mysql/heartbeat.js');
const { readReplicaStatus } = await import('../shared/mysql/status.js');
const { dialectFor } = await import('../shared/mysql/dialect.js');

const pair = await replicatedPair(9);
const admin = { username: pair.source.admin.username, password: pair.source.admin.password };
const source = await openConnection({ host: pair.source.host, port: pair.source.port }, admin);
const target = await openConnection({ host: pair.target.host, port: pair.target.port }, admin);
const writerConn = await openConnection({ host: pair.source.host, port: pair.source.port }, admin);
const schema = pair.state.input.names.heartbeatSchema;
const dialect = dialectFor('mariadb');
const results: Record<string, unknown>[] = [];
try {
  for (const delay of [0, 1, 2]) {
    await target.query("STOP SLAVE");
    await target.query(`CHANGE MASTER TO MASTER_DELAY=${delay}`);
    await target.query('START SLAVE');
    const writer = new HeartbeatWriter(writerConn, schema, 100).start();
    await new Promise((r) => setTimeout(r, delay * 1000 + 1500)); // the delayed SQL thread settles
    const passive: number[] = [];
    const sbm: number[] = [];
    for (let i = 0; i < 25; i++) {
      const p = await passiveHeartbeatLagMs(source, target, schema);
      const st = await readReplicaStatus(target, dialect);
      if (p !== null) passive.push(p);
      if (st?.secondsBehind !== null && st?.secondsBehind !== undefined) sbm.push(st.secondsBehind * 1000);
      await new Promise((r) => setTimeout(r, 200));
    }
    await writer.stop();
    const active: number[] = [];
    for (let i = 0; i < 3; i++) active.push((await activeHeartbeatLagMs(source, target, schema, delay * 1000 + 3000)) ?? NaN);
    const row = {
      masterDelayMs: delay * 1000,
      heartbeatPassive: { p50Ms: Math.round(percentile(passive, 50)), maxMs: Math.round(Math.max(...passive)) },
      heartbeatActive: { p50Ms: Math.round(percentile(active, 50)), maxMs: Math.round(Math.max(...active)) },
      secondsBehind: { p50Ms: percentile(sbm, 50), maxMs: Math.max(...sbm), samples: sbm.length },
    };
    results.push(row);
    const line = `MASTER_DELAY=${delay}s: heartbeat (100 ms writer) p50 ${row.heartbeatPassive.p50Ms} ms max ${row.heartbeatPassive.maxMs} ms; active check p50 ${row.heartbeatActive.p50Ms} ms; Seconds_Behind_Master p50 ${row.secondsBehind.p50Ms} ms max ${row.secondsBehind.maxMs} ms`;
    if (json) console.error(line);
    else console.log(line);
    await target.query('STOP SLAVE');
  }
} finally {
  await Promise.all([source.end(), target.end(), writerConn.end()]);
  await pair.stop();
}
if (json) console.log(JSON.stringify({ samples: results }));
process.exit(0);
