// Live progress of a local run. On a terminal: a redrawn panel (log-update) with every phase and its
// elapsed time, the current state, rows copied with rate and ETA during the load, lag while
// replicating. Otherwise: one plain line per event worth knowing. Everything shown passes redact().
import { createLogUpdate } from 'log-update';
import pc from 'picocolors';
import { redact } from '../shared/redact.js';
import { PHASES, type RunTracker } from './tracker.js';

export interface Display {
  update(): void;
  line(text: string): void;
  /** Temporarily stop redrawing (the approval prompt owns the terminal). */
  pause(): void;
  resume(): void;
  stop(): void;
}

const seconds = (ms: number | null) => (ms === null ? '' : ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
const n = (v: number) => v.toLocaleString('en-US');

function copyLine(t: RunTracker): string | null {
  const p = t.copy;
  if (!p) return null;
  const eta = p.etaSeconds === null ? '' : p.phase === 'done' ? '' : ` · ETA ${p.etaSeconds} s`;
  const mb = (p.bytes / 1024 ** 2).toFixed(p.bytes < 10 * 1024 ** 2 ? 1 : 0);
  return `${p.phase} · ${n(p.rowsCopied)}/${n(p.rowsEstimated)} rows · ${n(p.rowsPerSec)} rows/s · ${mb} MiB · ${n(p.chunksDone)}/${n(p.chunksTotal)} chunks · ${p.tablesDone}/${p.tablesTotal} tables${eta}`;
}

function diffLine(t: RunTracker): string | null {
  const d = t.diff;
  if (!d && !t.diffRowsSinceCheck) return null;
  const rows = (d?.rowsCompared ?? 0) + (d?.done ? 0 : t.diffRowsSinceCheck);
  if (d?.done) {
    return d.verdict === 'clean'
      ? `clean · ${n(d.tablesCompared)} tables · ${n(rows)} rows · ${n(d.rowsPerSec)} rows/s`
      : `DIFFERENCES · ${d.differences.tables} tables · ${d.differences.missing} missing, ${d.differences.extra} extra, ${d.differences.different} different rows`;
  }
  return `${n(rows)} rows compared${d ? ` · ${n(d.rowsPerSec)} rows/s · ${d.differences.rows} differing${d.etaSeconds !== null ? ` · ETA ${d.etaSeconds} s` : ''}` : ''}`;
}

function lagLine(t: RunTracker): string | null {
  const l = t.lag.at(-1);
  if (!l) return null;
  const lag = l.heartbeatLagMs !== null ? `lag ${l.heartbeatLagMs} ms (heartbeat)` : l.secondsBehind !== null ? `lag ${l.secondsBehind} s (Seconds_Behind)` : 'lag unknown';
  return `${lag} · byte lag ${l.byteLag ?? '?'} · ${l.healthy ? 'healthy' : 'BROKEN'}${l.caughtUp ? ' · caught up' : ''} · ${t.lag.length} checks`;
}

export function createDisplay(tracker: RunTracker, opts: { tty: boolean; stream: NodeJS.WriteStream; title: string }): Display {
  // A terminal that reports no width (some CI pseudo-terminals) cannot be redrawn: plain lines there.
  const redraw = opts.tty && (opts.stream.columns ?? 0) > 0;
  return redraw ? ttyDisplay(tracker, opts.stream, opts.title) : plainDisplay(tracker, opts.stream);
}

function ttyDisplay(t: RunTracker, stream: NodeJS.WriteStream, title: string): Display {
  const log = createLogUpdate(stream, { showCursor: true });
  let paused = false;
  const frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
  let frame = 0;
  const render = () => {
    if (paused) return;
    frame = (frame + 1) % frames.length;
    const lines = [pc.bold(`crossmove · ${title} · ${seconds(Date.now() - t.startedAt)}`)];
    for (const p of PHASES) {
      const ms = t.phaseMs(p.id);
      const current = t.phase === p.id && !t.finishedAt;
      const mark = ms === null ? pc.dim('·') : current ? pc.cyan(frames[frame]!) : pc.green('✓');
      let extra = '';
      if (p.id === 'initialLoad' && t.copy) extra = copyLine(t)!;
      if (p.id === 'catchUp' && t.lag.length) extra = lagLine(t)!;
      if (p.id === 'verify') extra = diffLine(t) ?? '';
      lines.push(` ${mark} ${p.label.padEnd(13)} ${seconds(ms).padStart(7)}  ${pc.dim(extra)}`);
    }
    if (t.currentState) lines.push(pc.dim(`   ${t.currentState}`));
    log(redact(lines.join('\n')));
  };
  const timer = setInterval(render, 120);
  timer.unref();
  return {
    update: render,
    line: (text) => {
      log.clear();
      stream.write(`${redact(text)}\n`);
      render();
    },
    pause: () => {
      render();
      log.done();
      paused = true;
    },
    resume: () => {
      paused = false;
      render();
    },
    stop: () => {
      clearInterval(timer);
      paused = false;
      render();
      log.done();
    },
  };
}

function plainDisplay(t: RunTracker, stream: NodeJS.WriteStream): Display {
  const write = (text: string) => stream.write(`[${seconds(Date.now() - t.startedAt).padStart(7)}] ${redact(text)}\n`);
  let lastState: string | null = null;
  let lastCopy = 0;
  let lagCount = 0;
  let lastPhase: string | null = null;
  let lastDiff = '';
  return {
    update: () => {
      if (t.phase !== lastPhase && t.phase) {
        lastPhase = t.phase;
        write(`phase: ${PHASES.find((p) => p.id === t.phase)?.label}`);
      }
      if (t.currentState && t.currentState !== lastState) {
        lastState = t.currentState;
        write(`  ${t.currentState}`);
      }
      if (t.copy && (Date.now() - lastCopy > 2000 || t.copy.phase === 'done') && lastCopy !== -1) {
        lastCopy = t.copy.phase === 'done' ? -1 : Date.now();
        write(`  copy: ${copyLine(t)}`);
      }
      const dl = diffLine(t);
      if (dl && (t.diff?.checkedAt ?? '') !== lastDiff && t.diff) {
        lastDiff = t.diff.checkedAt;
        write(`  comparison: ${dl}`);
      }
      if (t.lag.length !== lagCount) {
        lagCount = t.lag.length;
        write(`  ${lagLine(t)}`);
      }
    },
    line: write,
    pause: () => undefined,
    resume: () => undefined,
    stop: () => undefined,
  };
}
