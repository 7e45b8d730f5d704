// `npm run bench:cutover -- --workload sysbench [--json] [--threads 64] [--runs 1] [--script
// oltp_write_only|oltp_read_write] [--rate 400] [--scenarios a,b] [--verify diff|none] [--clients-nice N]`:
// the cutover and the fallback under sysbench's stock OLTP transactions, in each scenario of
// local/sysbench-scenarios.ts, on fresh servers each run. Per scenario: the write-unavailability window
// each client thread saw (from the start of the attempt that first committed after the switch, its
// failed tries and reconnects included, to that commit; p50/p99/max over every thread of every run),
// the plain commit-to-commit gap beside it (which with --rate also holds the thread's idle time between
// transactions), transactions/s before and after, the clients' errors by kind, acknowledged
// transactions lost, transactions present that no client committed.
// With --json the last stdout line is one JSON object: {runs, writesPerSec, p50Ms, maxMs, lostRows,
// threads, tps, p99Ms, scenarios: [{name, p50Ms, p99Ms, maxMs, lostRows, rolledBack, writeBlockedMs,
// gapP99Ms}]}. runs: switches
// made (scenarios x runs); writesPerSec and tps: acknowledged write transactions/s before the switch in
// the steady scenario; p50Ms, p99Ms, maxMs: the steady scenario's windows; lostRows: over all scenarios.
import { percentile } from './replicated-pair.js';
import { ROLLBACK_SLACK_MS, runScenario, SCENARIO_NAMES, type ScenarioName, type ScenarioReport } from '../local/sysbench-scenarios.js';
import { sysbenchBinary, SYSBENCH_INSTALL_HINT, type OltpScript } from '../local/sysbench.js';

/** Transactions/s over all client threads that this machine's replica applied in time (tests use it too). */
const DEFAULT_RATE = 400;

export async function benchSysbench(argv: string[]): Promise<void> {
  const json = argv.includes('--json');
  const arg = (name: string, fallback: string) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 && argv[i + 1] ? argv[i + 1]! : fallback;
  };
  if (!sysbenchBinary()) {
    console.error(SYSBENCH_INSTALL_HINT);
    process.exit(2);
  }
  const threads = Number(arg('threads', '64'));
  const runs = Number(arg('runs', '1'));
  const script = arg('script', 'oltp_write_only') as OltpScript;
  // Not full rate by default: the target's replication must keep up for a cutover to be allowed at
  // all, and at full rate (or 1,000 tx/s on a shared 2-core machine) it does not; --rate 0 tries it.
  const rate = Number(arg('rate', String(DEFAULT_RATE)));
  const verify = arg('verify', 'diff');
  const nice = Number(arg('clients-nice', '0'));
  const names = arg('scenarios', SCENARIO_NAMES.join(',')).split(',') as ScenarioName[];
  for (const n of names) if (!SCENARIO_NAMES.includes(n)) throw new Error(`unknown scenario ${n} (one of ${SCENARIO_NAMES.join(', ')})`);
  const out = (line: string) => (json ? console.error(line) : console.log(line));
  out(`sysbench ${script}, ${threads} threads${rate ? ` at ${rate} tx/s` : ' at full rate'}, verify ${verify}, ${runs} run(s) per scenario${nice ? `, clients at nice ${nice}` : ''}`);

  const reports = new Map<ScenarioName, ScenarioReport[]>();
  let pairNumber = 40;
  for (const name of names) {
    for (let run = 1; run <= runs; run++) {
      const r = await runScenario(name, { threads, script, rate, nice, n: pairNumber++, cutover: { verify } });
      reports.set(name, [...(reports.get(name) ?? []), r]);
      out(describe(r, run));
    }
  }

  const round = (v: number) => Math.round(v * 10) / 10;
  const windowsOf = (rs: ScenarioReport[]) => rs.flatMap((r) => r.windows);
  const scenarios = [...reports].map(([name, rs]) => {
    const w = windowsOf(rs);
    const gaps = rs.flatMap((r) => r.gaps);
    return {
      name,
      p50Ms: round(percentile(w, 50)),
      p99Ms: round(percentile(w, 99)),
      maxMs: round(w.length ? Math.max(...w) : NaN),
      lostRows: rs.reduce((n, r) => n + r.lostRows, 0),
      rolledBack: rs.some((r) => r.rolledBack),
      writeBlockedMs: round(Math.max(...rs.map((r) => r.writeBlockedMs ?? NaN))),
      gapP99Ms: round(percentile(gaps, 99)),
    };
  });
  const main = reports.get('steady') ?? [...reports.values()][0] ?? [];
  const mainWindows = windowsOf(main);
  const tps = Math.round(main.reduce((n, r) => n + r.tpsBefore, 0) / Math.max(1, main.length));
  const summary = {
    runs: [...reports.values()].reduce((n, rs) => n + rs.length, 0),
    writesPerSec: tps,
    p50Ms: round(percentile(mainWindows, 50)),
    maxMs: round(mainWindows.length ? Math.max(...mainWindows) : NaN),
    lostRows: scenarios.reduce((n, s) => n + s.lostRows, 0),
    threads,
    tps,
    p99Ms: round(percentile(mainWindows, 99)),
    scenarios,
  };
  out('');
  for (const s of scenarios) {
    out(`${s.name.padEnd(17)} p50 ${s.p50Ms} ms, p99 ${s.p99Ms} ms, max ${s.maxMs} ms, writes blocked ${s.writeBlockedMs} ms, commit-to-commit gap p99 ${s.gapP99Ms} ms, lost ${s.lostRows}${s.rolledBack ? ', rolled back' : ''}`);
  }
  const failed = [...reports.values()].flat().filter((r) => !r.ok);
  if (failed.length) out(`NOT as expected: ${failed.map((r) => `${r.name}: ${r.problems.join('; ')}`).join(' | ')}`);
  if (json) console.log(JSON.stringify(summary));
  // The figures are printed either way; a scenario that lost a write (or missed its bound) fails the run.
  if (failed.length) process.exitCode = 1;
}

function describe(r: ScenarioReport, run: number): string {
  const w = r.windows;
  const g = r.gaps;
  const steps = r.steps.filter((s) => s.ms >= 5).map((s) => `${s.step} ${Math.round(s.ms)}`).join(', ');
  const errors = Object.entries(r.errors).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return [
    `${r.name} run ${run}: ${r.ok ? 'ok' : `NOT OK (${r.problems.join('; ')})`}${r.rolledBack ? ', rolled back' : ''}`,
    `  clients' window p50 ${percentile(w, 50).toFixed(0)} ms, p99 ${percentile(w, 99).toFixed(0)} ms, max ${w.length ? Math.max(...w).toFixed(0) : 'n/a'} ms over ${w.length} threads` +
      (r.rolledBack
        ? `; rolled back within the ${r.budgetMs} ms budget + ${w.length ? Math.round(Math.max(...w) - r.budgetMs) : 'n/a'} ms (bound: + ${ROLLBACK_SLACK_MS})`
        : `; writes blocked ${r.writeBlockedMs ?? 'n/a'} ms of the step's ${r.actionMs} ms, the endpoint switched in ${r.endpointMs} ms`),
    `  commit-to-commit gap (the threads' idle time between transactions included) p50 ${percentile(g, 50).toFixed(0)} ms, p99 ${percentile(g, 99).toFixed(0)} ms`,
    `  tps before ${r.tpsBefore.toFixed(0)}, after ${r.tpsAfter.toFixed(0)}; lost ${r.lostRows}, half-committed ${r.halfCommitted}, commit outcome unknown ${r.unknownOutcome.committed} committed / ${r.unknownOutcome.notCommitted} not`,
    `  client errors: ${errors}`,
    ...(steps ? [`  steps (ms, >= 5): ${steps}`] : []),
    ...r.actors.map((a) => `  ${a.name}: ${a.outcome.ok ? 'committed' : `ended with ${a.outcome.errno ?? ''} ${a.outcome.message ?? ''}`.trim()}; its rows on the new primary: ${a.tracesOnNewPrimary}`),
    ...(r.error ? [`  ${r.error}`] : []),
  ].join('\n');
}
