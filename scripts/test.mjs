#!/usr/bin/env node
/**
 * The test runner behind `npm test` and `npm run test:slow`.
 *
 * Test files are node-tap files, and a tap file is a plain Node program that prints TAP and ends with tap's own
 * count (`# { total: N, pass: N, ... }`). The `tap` command adds a process-tracking loader and tsx to every file,
 * about a second of CPU each; at 50 files that was most of a 60 s budget on 2 cores. So this runner transpiles the
 * TypeScript once with esbuild (no type check: `npm run test:slow` and `npm run typecheck` run tsc), runs each
 * built file with plain `node`, longest first, one more at once than there are cores (some files wait on timers;
 * test/slow, as many as cores), and sums tap's counts.
 *
 * Starting node and loading tap and the product costs half a second of CPU a process, most of a short file. So the
 * fast suite runs in two processes per worker, each importing its files one after the other into one tap root; a
 * process that fails is rerun file by file, so that the failure is printed against its file (and a failure that
 * shows only when files share a process is still a failure, named as such).
 *
 *   node scripts/test.mjs                 the fast suite: test/**\/*.test.ts but test/slow
 *   node scripts/test.mjs --slow          test/slow/*.test.ts
 *   node scripts/test.mjs FILE...         those files (TypeScript paths)
 *   --jobs N                              processes at once (default: the number of cores, + 1 but with --slow)
 *   --timeout S                           seconds a file may take (default: 120, 600 with --slow)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** At the repository's depth, so that paths the code finds from its own location (../../package.json) still hold. */
const OUT = join(ROOT, 'dist-test');
const TIMINGS = join(ROOT, 'dist', '.test-timings.json');

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: { slow: { type: 'boolean', default: false }, jobs: { type: 'string' }, timeout: { type: 'string' } },
});
// test/slow measures time and memory of whole processes, which a third process on 2 cores would distort.
const jobs = opts.jobs ? Number(opts.jobs) : availableParallelism() + (opts.slow ? 0 : 1);
const timeoutS = opts.timeout ? Number(opts.timeout) : opts.slow ? 600 : 120;
if (!Number.isInteger(jobs) || jobs < 1 || !(timeoutS > 0)) {
  console.error('test.mjs: --jobs takes a whole number of at least 1 and --timeout a number of seconds');
  process.exit(2);
}

function walk(dir, keep) {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return walk(path, keep);
    return keep(path) ? [path] : [];
  });
}

const isTest = (p) => p.endsWith('.test.ts');
const files =
  positionals.length > 0
    ? positionals.map((p) => relative(ROOT, resolve(p)))
    : opts.slow
      ? walk('test/slow', isTest)
      : walk('test', (p) => isTest(p) && !/^test\/(slow|helpers|fixtures)\//.test(p));
for (const f of files) {
  if (!isTest(f) || !existsSync(join(ROOT, f))) {
    console.error(`test.mjs: ${f}: not a test file (test/**/*.test.ts)`);
    process.exit(2);
  }
}

const started = performance.now();
rmSync(OUT, { recursive: true, force: true });
try {
  await build({
    entryPoints: ['src', 'bench', 'test'].flatMap((d) => walk(d, (p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))),
    outdir: OUT,
    outbase: ROOT,
    absWorkingDir: ROOT,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    logLevel: 'error',
  });
} catch {
  // esbuild has printed the file, line and cause.
  console.log('# 0 passed, 1 failed (the TypeScript does not transpile)');
  process.exit(1);
}

// Longest first, from the last run's times (or the file's size), so that no long file starts last.
const previous = existsSync(TIMINGS) ? JSON.parse(readFileSync(TIMINGS, 'utf8')) : {};
/** Estimated milliseconds: a test file of 10 KB without a recorded time is taken to run for about a second. */
const cost = (f) => previous[f] ?? statSync(join(ROOT, f)).size / 10;
/** A hook or plan on tap's root would reach the other files of its process. */
const touchesRoot = (f) =>
  /^t\.(before|beforeEach|after|afterEach|teardown|plan)\(/m.test(readFileSync(join(ROOT, f), 'utf8'));

const unitCost = (unit) => unit.reduce((s, f) => s + cost(f), 0);
/** One unit of work: the files one process runs. */
const units = [];
const grouped = opts.slow || positionals.length > 0 ? [] : files.filter((f) => !touchesRoot(f)).sort();
for (const f of files.filter((f) => !grouped.includes(f))) units.push([f]);
// Two groups a worker, so that the last ones to finish are short; neighbours in the tree share their imports, which a
// process then loads once.
const groupMs = unitCost(grouped) / (2 * jobs);
let group = [];
let groupCost = 0;
for (const f of grouped) {
  if (group.length > 0 && groupCost + cost(f) > groupMs) {
    units.push(group);
    group = [];
    groupCost = 0;
  }
  group.push(f);
  groupCost += cost(f);
}
if (group.length > 0) units.push(group);
const queue = units.sort((a, b) => unitCost(b) - unitCost(a));

/** tap's closing count of one file, e.g. `# { total: 12, pass: 11, fail: 1 }`. */
function tapCount(output) {
  const line = output.match(/^# \{ total: \d+.*\}$/gm)?.at(-1);
  if (!line) return undefined;
  const n = (key) => Number(line.match(new RegExp(`\\b${key}: (\\d+)`))?.[1] ?? 0);
  return { pass: n('pass'), fail: n('fail') };
}

/** Where the runner's build puts a test file. */
const builtPath = (file) => join(OUT, file.replace(/\.ts$/, '.js'));

/** Runs one built file: a test file, or a group's entry. */
function runProcess(js, label) {
  const t0 = performance.now();
  return new Promise((done) => {
    // TAP_TIMEOUT: tap's own per-process limit, with its report of what was still running; the kill is a backstop.
    const child = spawn(process.execPath, [js], {
      cwd: ROOT,
      env: { ...process.env, TAP_TIMEOUT: String(timeoutS) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), (timeoutS + 15) * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const count = tapCount(output);
      const ok = code === 0 && count !== undefined && count.fail === 0;
      done({ label, code, signal, output, ok, ms: performance.now() - t0, count });
    });
  });
}

function report(r, rerun) {
  const counted = r.count ? `${r.count.pass} passed, ${r.count.fail} failed` : 'no count: the process ended early';
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.label} (${counted}, ${(r.ms / 1000).toFixed(1)} s)`);
  if (r.ok) return;
  const how = r.signal ? `ended by ${r.signal} (the limit is ${timeoutS} s a process)` : `exit code ${r.code}`;
  console.log(`${r.output.replace(/^/gm, '    ')}\n    --- ${r.label}: ${how}; ${rerun}`);
}

const rerunAlone = (file) => `rerun alone with: node --enable-source-maps ${relative(ROOT, builtPath(file))}`;

let groups = 0;
/** Writes the entry of a process that runs several test files in order, each into tap's one root. */
function groupEntry(unit) {
  const entry = join(OUT, 'groups', `${groups++}.js`);
  mkdirSync(dirname(entry), { recursive: true });
  const urls = unit.map((f) => pathToFileURL(builtPath(f)).href);
  writeFileSync(entry, `for (const file of ${JSON.stringify(urls)}) await import(file);\n`);
  return entry;
}

const results = [];
const timings = { ...previous };
async function worker() {
  for (let unit = queue.shift(); unit; unit = queue.shift()) {
    if (unit.length === 1) {
      const r = await runProcess(builtPath(unit[0]), unit[0]);
      report(r, rerunAlone(unit[0]));
      results.push({ ...r, files: unit });
      timings[unit[0]] = Math.round(r.ms);
      continue;
    }
    const label = `${unit.length} files in one process: ${unit.map((f) => relative('test', f)).join(' ')}`;
    const r = await runProcess(groupEntry(unit), label);
    // The group's time, shared out as the files' estimates were: what balances the groups next time.
    for (const f of unit) timings[f] = Math.round((r.ms * cost(f)) / unitCost(unit));
    if (r.ok) {
      report(r);
      results.push({ ...r, files: unit });
      continue;
    }
    console.log(`FAIL ${label}: running each file alone to say which`);
    const alone = [];
    for (const f of unit) alone.push(await runProcess(builtPath(f), f));
    for (const a of alone) report(a, rerunAlone(a.label));
    results.push(...alone.map((a) => ({ ...a, files: [a.label] })));
    if (alone.every((a) => a.ok)) {
      report(
        { ...r, label: `the group of ${unit.join(' ')}` },
        'each file passes alone: they interfere in one process',
      );
      results.push({ ...r, count: { pass: 0, fail: 1 }, files: unit });
    }
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, queue.length) }, worker));

mkdirSync(dirname(TIMINGS), { recursive: true });
writeFileSync(
  TIMINGS,
  JSON.stringify(Object.fromEntries(Object.entries(timings).filter(([f]) => existsSync(join(ROOT, f))))),
);

const passed = results.reduce((s, r) => s + (r.count?.pass ?? 0), 0);
// A file that failed without tap counting a failure (a crash, a timeout) counts as one.
const failed = results.reduce((s, r) => s + (r.count?.fail || (r.ok ? 0 : 1)), 0);
const failedFiles = results.filter((r) => !r.ok).flatMap((r) => r.files);
if (failedFiles.length > 0) console.log(`\nfailed: ${failedFiles.join(' ')}`);
console.log(
  `# ${passed} passed, ${failed} failed (${files.length} files in ${results.length} processes, ${jobs} at once, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
process.exitCode = failed === 0 ? 0 : 1;
