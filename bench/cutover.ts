// `npm run bench:cutover [-- --json] [-- --runs N] [-- --rows N] [-- --steps]`: the write-unavailability window of
// the cutover, measured from the writer's side (last acknowledged source write -> first acknowledged
// target write) over N runs (default 5) at ~200 writes/s, and the acknowledged writes missing on the
// target. --rows adds a dataset of that many rows; the data comparison runs before each cutover
// (outside the window), so the window shows what the write block costs at that size.
// With --json the last stdout line is one JSON object {runs, writesPerSec, p50Ms, maxMs, lostRows}.
// `--workload sysbench`: the same under sysbench's OLTP load, per scenario (bench/cutover-sysbench.ts).
export {};

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const workloadAt = process.argv.indexOf('--workload');
const workload = workloadAt > 0 ? process.argv[workloadAt + 1] : 'writes';
if (workload === 'sysbench') {
  const { benchSysbench } = await import('./cutover-sysbench.js');
  await benchSysbench(process.argv.slice(2));
  process.exit(process.exitCode ?? 0);
}
if (workload !== 'writes') {
  console.error(`--workload must be writes (the built-in loop, default) or sysbench, not ${workload}`);
  process.exit(2);
}

const json = process.argv.includes('--json');
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
// --rows N: a dataset of N more rows (2 tables) on both sides; the data is compared before each cutover.
const rowsArg = process.argv.indexOf('--rows');
const ROWS = rowsArg > 0 ? Number(process.argv[rowsArg + 1]) : 0;

const { replicatedPair, percentile } = await import('./replicated-pair.js');
const { cutOverStep } = await import('../shared/mysql/steps/cut-over.js');
const { runDiffLocally } = await import('../shared/verify/steps.js');

const windows: number[] = [];
const rates: number[] = [];
let lostRows = 0;
for (let run = 1; run <= RUNS; run++) {
  const pair = await replicatedPair(run, { rows: ROWS });
  try {
    await new Promise((r) => setTimeout(r, 1500)); // steady load before the switch
    // As the state machine does: the data is compared before the gate, outside the write block.
    const t = performance.now();
    const { summary } = await runDiffLocally(pair.state);
    const compared = `compared ${summary.rowsCompared} rows in ${((performance.now() - t) / 1000).toFixed(1)} s (${summary.verdict})`;
    const result = await cutOverStep({ ...pair.state, diff: summary });
    pair.load.repoint({ host: pair.target.host, port: pair.target.port, name: 'target' });
    for (let i = 0; i < 200 && pair.load.ackedIds('target').length < 40; i++) await new Promise((r) => setTimeout(r, 25));
    await pair.load.stop();
    const c = await pair.target.connect();
    const [rows] = await c.query('SELECT id FROM app.writes');
    await c.end();
    const onTarget = new Set((rows as { id: number }[]).map((r) => Number(r.id)));
    const lost = pair.load.ackedIds().filter((id) => !onTarget.has(id)).length;
    const window = pair.load.unavailableMs('source', 'target') ?? NaN;
    lostRows += lost;
    windows.push(window);
    rates.push(pair.load.writesPerSec());
    const line = `run ${run}: unavailable ${window.toFixed(1)} ms (critical section ${result.writeBlockedMs} ms), ${pair.load.writesPerSec().toFixed(0)} writes/s, ${pair.load.acked.length} acked, ${lost} lost, ${compared}, in the block: ${result.steps.find((x) => x.step === 'verify the data')?.ms ?? '?'} ms`;
    // --steps: where the critical section's time went, step by step (the write block starts at 'block writes').
    const steps = process.argv.includes('--steps') ? `\n  ${result.steps.map((x) => `${x.step}: ${x.ms} ms`).join('\n  ')}` : '';
    if (json) console.error(line + steps);
    else console.log(line + steps);
  } finally {
    await pair.stop();
  }
}
const summary = {
  runs: RUNS,
  writesPerSec: Math.round(rates.reduce((a, b) => a + b, 0) / rates.length),
  p50Ms: Math.round(percentile(windows, 50) * 10) / 10,
  maxMs: Math.round(Math.max(...windows) * 10) / 10,
  lostRows,
};
if (json) console.log(JSON.stringify(summary));
else console.log(`write unavailability over ${RUNS} runs: p50 ${summary.p50Ms} ms, max ${summary.maxMs} ms at ~${summary.writesPerSec} writes/s; lost rows ${lostRows}`);
process.exit(0);
