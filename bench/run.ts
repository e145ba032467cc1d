/**
 * `npm run bench`: sctp-guard against a bare HTTPS baseline, and across cluster sizes. Every setting has a flag
 * and an environment variable (flags win), e.g. `BENCH_SECONDS=5 npm run bench` or `npm run bench -- --seconds 5`.
 * Exit code 0 when the run completed (goals are reported, PASS or FAIL, not enforced), 2 on bad settings or a
 * failed run.
 */
import { Command, InvalidArgumentError } from 'commander';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOG_LEVELS } from '../src/server/logger.js';
import { MIN_RENDERED_CONFIGS } from './cluster-state.js';
import { DEFAULT_OPTIONS, QUICK_OPTIONS, runBench, type BenchOptions } from './harness.js';
import { MIX_NAMES, type MixName } from './mix.js';
import { repoRoot } from './repo.js';
import { toMarkdown } from './report.js';
import { runWrkComparison, wrkMarkdown } from './wrk.js';
import { afterIdleMarkdown, runAfterIdle } from './after-idle.js';

function atLeast(min: number, integer = true) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new InvalidArgumentError(`expected ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${value}"`);
    }
    return n;
  };
}

function sizes(value: string): number[] {
  const list = value.split(',').map((s) => Number(s.trim().replace(/_/g, '')));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new InvalidArgumentError(`expected node counts like 10,1000,10000, got "${value}"`);
  return list;
}

function mixes(value: string): MixName[] {
  const list = value.split(',').map((s) => s.trim());
  const unknown = list.filter((m) => !(MIX_NAMES as readonly string[]).includes(m));
  if (list.length === 0 || unknown.length > 0)
    throw new InvalidArgumentError(`expected some of ${MIX_NAMES.join(', ')}, got "${value}"`);
  return list as MixName[];
}

function logLevel(value: string): string {
  if (!(LOG_LEVELS as readonly string[]).includes(value))
    throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
  return value;
}

const program = new Command('bench')
  .description('benchmark sctp-guard against a bare Fastify HTTPS server, and across cluster sizes (loopback only)')
  .option('--seconds <s>', `length of each measured phase (BENCH_SECONDS, default ${DEFAULT_OPTIONS.seconds})`)
  .option(
    '--warmup-seconds <s>',
    `warm-up of each mix before the phases of each server (BENCH_WARMUP_SECONDS, default ${DEFAULT_OPTIONS.warmupSeconds})`,
  )
  .option('--connections <n>', `keep-alive connections (BENCH_CONNECTIONS, default ${DEFAULT_OPTIONS.connections})`)
  .option(
    '--sizes <list>',
    `cluster sizes in nodes; the smallest is the reference (BENCH_SIZES, default ${DEFAULT_OPTIONS.sizes.join(',')})`,
  )
  .option(
    '--rendered-configs <n>',
    `rendered MachineConfigs per cluster state (BENCH_RENDERED_CONFIGS, default ${DEFAULT_OPTIONS.renderedConfigs})`,
  )
  .option(
    '--rendered-config-kib <n>',
    `size of each rendered MachineConfig (BENCH_RENDERED_CONFIG_KIB, default ${DEFAULT_OPTIONS.renderedConfigKiB})`,
  )
  .option('--seed <n>', `seed of the generated cluster states (BENCH_SEED, default ${DEFAULT_OPTIONS.seed})`)
  .option(
    '--log-level <level>',
    'sctp-guard --log-level; info keeps the audit trail on, as in production (BENCH_LOG_LEVEL)',
  )
  .option('--no-http2', 'skip the HTTP/2 phases (BENCH_HTTP2=0)')
  .option('--cpu-prof', 'run the servers under node --cpu-prof and summarize where the time goes (BENCH_CPU_PROF=1)')
  .option(
    '--ready-timeout-seconds <s>',
    `longest wait for /readyz (BENCH_READY_TIMEOUT_SECONDS, default ${DEFAULT_OPTIONS.readyTimeoutSeconds})`,
  )
  .option(
    '--live-nodes <n>',
    `nodes of the live and offline phases, 0 to skip them (BENCH_LIVE_NODES, default ${DEFAULT_OPTIONS.liveNodes})`,
  )
  .option(
    '--rollout-nodes <n>',
    `nodes a live rollout moves (BENCH_ROLLOUT_NODES, default ${DEFAULT_OPTIONS.rolloutNodes})`,
  )
  .option(
    '--repeats <n>',
    `alternating rounds of every phase; each ratio is their median (BENCH_REPEATS, default ${DEFAULT_OPTIONS.repeats})`,
  )
  .option(
    '--fixed-rps <n>',
    `the realistic fixed rate of the paced Service phases (BENCH_FIXED_RPS, default ${DEFAULT_OPTIONS.fixedRps})`,
  )
  .option(
    '--mixes <list>',
    `the request mixes to measure, e.g. machineconfigs (BENCH_MIXES, default ${DEFAULT_OPTIONS.mixes.join(',')})`,
  )
  .option(
    '--wrk',
    'instead of the bench: the Service mix on the baseline and sctp-guard driven by wrk (an independent load generator on PATH), alternating rounds (BENCH_WRK=1)',
  )
  .option(
    '--after-idle',
    "instead of the bench: the handler's work per stage in one process, back to back and after 1 ms idle, sctp-guard's and the bare server's, per mix (BENCH_AFTER_IDLE=1)",
  )
  .option('--quick', `for iterating: ${JSON.stringify(QUICK_OPTIONS)} unless set otherwise (BENCH_QUICK=1)`)
  .option('--out <dir>', 'where results.json and results.md go (BENCH_OUT, default bench/)')
  .showHelpAfterError()
  .exitOverride();

function settings(): BenchOptions {
  try {
    program.parse(process.argv);
  } catch (err) {
    process.exit((err as { exitCode?: number }).exitCode === 0 ? 0 : 2);
  }
  const flags = program.opts<Record<string, string | boolean | undefined>>();
  /** Flag, else environment variable, else default; both strings go through the same parser. */
  const pick = <T>(flag: string, envName: string, fallback: T, parse: (s: string) => T): T => {
    const value = flags[flag] ?? process.env[envName];
    if (value === undefined) return fallback;
    try {
      return parse(String(value));
    } catch (err) {
      throw new InvalidArgumentError(
        `--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} / ${envName}: ${(err as Error).message}`,
      );
    }
  };
  const quick = flags.quick === true || process.env.BENCH_QUICK === '1';
  const d = { ...DEFAULT_OPTIONS, ...(quick ? QUICK_OPTIONS : {}) };
  return {
    seconds: pick('seconds', 'BENCH_SECONDS', d.seconds, atLeast(0.1, false)),
    warmupSeconds: pick('warmupSeconds', 'BENCH_WARMUP_SECONDS', d.warmupSeconds, atLeast(0, false)),
    connections: pick('connections', 'BENCH_CONNECTIONS', d.connections, atLeast(1)),
    sizes: pick('sizes', 'BENCH_SIZES', d.sizes, sizes),
    renderedConfigs: pick(
      'renderedConfigs',
      'BENCH_RENDERED_CONFIGS',
      d.renderedConfigs,
      atLeast(MIN_RENDERED_CONFIGS),
    ),
    renderedConfigKiB: pick('renderedConfigKib', 'BENCH_RENDERED_CONFIG_KIB', d.renderedConfigKiB, atLeast(1)),
    seed: pick('seed', 'BENCH_SEED', d.seed, atLeast(0)),
    logLevel: pick('logLevel', 'BENCH_LOG_LEVEL', d.logLevel, logLevel),
    http2: flags.http2 !== false && process.env.BENCH_HTTP2 !== '0' && (d.http2 || process.env.BENCH_HTTP2 === '1'),
    cpuProf: flags.cpuProf === true || process.env.BENCH_CPU_PROF === '1',
    readyTimeoutSeconds: pick('readyTimeoutSeconds', 'BENCH_READY_TIMEOUT_SECONDS', d.readyTimeoutSeconds, atLeast(1)),
    liveNodes: pick('liveNodes', 'BENCH_LIVE_NODES', d.liveNodes, atLeast(0)),
    rolloutNodes: pick('rolloutNodes', 'BENCH_ROLLOUT_NODES', d.rolloutNodes, atLeast(0)),
    repeats: pick('repeats', 'BENCH_REPEATS', d.repeats, atLeast(1)),
    fixedRps: pick('fixedRps', 'BENCH_FIXED_RPS', d.fixedRps, atLeast(1)),
    mixes: pick('mixes', 'BENCH_MIXES', d.mixes, mixes),
    // A quick run never replaces the README's figures or bench/results.*.
    outDir: pick(
      'out',
      'BENCH_OUT',
      quick ? join(tmpdir(), 'sctp-guard-bench-quick') : join(repoRoot(), 'bench'),
      (s) => s,
    ),
  };
}

let options: BenchOptions;
try {
  options = settings();
} catch (err) {
  process.stderr.write(`bench: bad setting: ${(err as Error).message}\n`);
  process.exit(2);
}

const flags = program.opts<{ wrk?: boolean; afterIdle?: boolean }>();
if (flags.afterIdle === true || process.env.BENCH_AFTER_IDLE === '1') {
  try {
    const results = await runAfterIdle(options, (line) => process.stderr.write(`[bench] ${line}\n`));
    process.stdout.write(`\n${afterIdleMarkdown(results)}`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(2);
  }
}
if (flags.wrk === true || process.env.BENCH_WRK === '1') {
  try {
    const comparison = await runWrkComparison(options, (line) => process.stderr.write(`[bench] ${line}\n`));
    process.stdout.write(`\n${wrkMarkdown(comparison, options)}`);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    process.exit(2);
  }
}

try {
  const results = await runBench(options);
  process.stdout.write(
    `\n${toMarkdown(results)}\nwrote ${join(options.outDir, 'results.json')} and ${join(options.outDir, 'results.md')}\n`,
  );
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
}
