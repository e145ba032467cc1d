#!/usr/bin/env node
/**
 * The test runner behind `npm test` and `npm run test:slow`.
 *
 * Test files are node-tap files, and a tap file is a plain Node program that prints TAP and ends with tap's own
 * count (`# { total: N, pass: N, ... }`). The `tap` command adds a process-tracking loader and tsx to every file,
 * about a second of CPU each; at 50 files that was most of a 60 s budget on 2 cores. So this runner transpiles the
 * TypeScript once with esbuild (no type check: `npm run test:slow` and `npm run typecheck` run tsc), runs each
 * built file with plain `node`, longest first, as many at once as there are cores, and sums tap's counts.
 *
 *   node scripts/test.mjs                 the fast suite: test/**\/*.test.ts but test/slow
 *   node scripts/test.mjs --slow          test/slow/*.test.ts
 *   node scripts/test.mjs FILE...         those files (TypeScript paths)
 *   --jobs N                              files at once (default: the number of cores)
 *   --timeout S                           seconds a file may take (default: 120, 600 with --slow)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
const jobs = opts.jobs ? Number(opts.jobs) : availableParallelism();
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

// Longest first, from the last run's times (or the file size), so that no long file starts last.
const previous = existsSync(TIMINGS) ? JSON.parse(readFileSync(TIMINGS, 'utf8')) : {};
const cost = (f) => previous[f] ?? statSync(join(ROOT, f)).size;
const queue = [...files].sort((a, b) => cost(b) - cost(a));

/** tap's closing count of one file, e.g. `# { total: 12, pass: 11, fail: 1 }`. */
function tapCount(output) {
  const line = output.match(/^# \{ total: \d+.*\}$/gm)?.at(-1);
  if (!line) return undefined;
  const n = (key) => Number(line.match(new RegExp(`\\b${key}: (\\d+)`))?.[1] ?? 0);
  return { pass: n('pass'), fail: n('fail') };
}

/** Where the runner's build puts a test file. */
const builtPath = (file) => join(OUT, file.replace(/\.ts$/, '.js'));

function runFile(file) {
  const js = builtPath(file);
  const t0 = performance.now();
  return new Promise((done) => {
    // TAP_TIMEOUT: tap's own per-file limit, with its report of what was still running; the kill is a backstop.
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
      done({ file, code, signal, output, ms: performance.now() - t0, count: tapCount(output) });
    });
  });
}

const results = [];
async function worker() {
  for (let file = queue.shift(); file; file = queue.shift()) {
    const r = await runFile(file);
    const ok = r.code === 0 && r.count !== undefined && r.count.fail === 0;
    const counted = r.count ? `${r.count.pass} passed, ${r.count.fail} failed` : 'no count: the file ended early';
    console.log(`${ok ? 'ok  ' : 'FAIL'} ${file} (${counted}, ${(r.ms / 1000).toFixed(1)} s)`);
    if (!ok) {
      const how = r.signal ? `ended by ${r.signal} (the limit is ${timeoutS} s a file)` : `exit code ${r.code}`;
      console.log(
        `${r.output.replace(/^/gm, '    ')}\n    --- ${file}: ${how}; rerun alone with: node --enable-source-maps ${relative(ROOT, builtPath(file))}`,
      );
    }
    results.push({ ...r, ok });
  }
}
await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));

mkdirSync(dirname(TIMINGS), { recursive: true });
const timings = { ...previous, ...Object.fromEntries(results.map((r) => [r.file, Math.round(r.ms)])) };
writeFileSync(
  TIMINGS,
  JSON.stringify(Object.fromEntries(Object.entries(timings).filter(([f]) => existsSync(join(ROOT, f))))),
);

const passed = results.reduce((s, r) => s + (r.count?.pass ?? 0), 0);
// A file that failed without tap counting a failure (a crash, a timeout) counts as one.
const failed = results.reduce((s, r) => s + (r.count?.fail || (r.ok ? 0 : 1)), 0);
const failedFiles = results.filter((r) => !r.ok).map((r) => r.file);
if (failedFiles.length > 0) console.log(`\nfailed: ${failedFiles.join(' ')}`);
console.log(
  `# ${passed} passed, ${failed} failed (${results.length} files, ${jobs} at once, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
process.exitCode = failed === 0 ? 0 : 1;
