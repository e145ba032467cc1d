import t from 'tap';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { BATCH_MAX_BYTES, BatchedLines, createLogger, infoLineWriter, timeField } from '../../src/server/logger.js';

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (d: Buffer) => lines.push(d.toString()));
  return { stream, lines };
}

const record = {
  audit: 'admission',
  uid: 'a"b\\c\n\u2028é',
  rules: [
    { rule: 'sctp-service-type', decision: 'deny', message: '[sctp-service-type] Service default/x: <tab>\there' },
  ],
  dryRun: false,
  skipped: undefined,
  latencyMs: 0.125,
};

t.test('the audit line writer writes the bytes pino writes for logger.info(record, msg)', async (t) => {
  const out = capture();
  // A fixed clock: the two lines must be equal to the byte.
  const logger = pino(
    { base: { app: 'sctp-guard' }, timestamp: () => ',"time":"2026-11-30T00:00:00.000Z"' },
    out.stream,
  );
  logger.info(record, 'admission decision');
  infoLineWriter(logger, 'admission decision')(record);
  infoLineWriter(logger.child({ pod: 'p-1' }), 'admission decision')({});
  await new Promise((r) => setImmediate(r));
  t.equal(out.lines.length, 3);
  t.equal(out.lines[1], out.lines[0]);
  t.same(JSON.parse(out.lines[2]!), {
    level: 30,
    time: '2026-11-30T00:00:00.000Z',
    app: 'sctp-guard',
    pod: 'p-1',
    msg: 'admission decision',
  });
});

t.test('the audit line writer follows the logger level, also when it changes', async (t) => {
  const out = capture();
  const logger = createLogger('warn', out.stream);
  const write = infoLineWriter(logger, 'admission decision');
  write(record);
  logger.level = 'info';
  write(record);
  await new Promise((r) => setImmediate(r));
  t.equal(out.lines.length, 1);
  t.match(JSON.parse(out.lines[0]!), {
    level: 30,
    app: 'sctp-guard',
    audit: 'admission',
    uid: record.uid,
    msg: 'admission decision',
  });
  t.match(JSON.parse(out.lines[0]!).time, /^\d{4}-\d\d-\d\dT/);
});

t.test('batched lines: one write per wait, at once when full or on an error line, nothing lost on flush', async (t) => {
  const chunks: string[] = [];
  const batch = new BatchedLines({ write: (c: Buffer) => chunks.push(c.toString()) }, 20, 300);
  batch.write('a\n');
  batch.write('b\n');
  t.same(chunks, [], 'held for the wait');
  await new Promise((r) => setTimeout(r, 60));
  t.same(chunks, ['a\nb\n'], 'written together once the wait has passed');
  const long = `${'x'.repeat(95)}\n`;
  batch.write(long);
  batch.write(long);
  t.same(
    chunks,
    ['a\nb\n', long],
    'what is held is written at once when a line might not fit (bounded, never dropped)',
  );
  batch.write('c\n');
  batch.write('{"level":50,"msg":"boom"}\n');
  t.same(
    chunks[2],
    `${long}c\n{"level":50,"msg":"boom"}\n`,
    'an error line is written at once, after what came before it',
  );
  batch.write('d\n');
  batch.flush();
  t.same(chunks[3], 'd\n', 'flush writes what is held');
  batch.flush();
  t.equal(chunks.length, 4, 'nothing to write twice');
});

t.test('a batch never passes its bound in bytes, whatever the characters, and cuts no line', async (t) => {
  const chunks: Buffer[] = [];
  const batch = new BatchedLines({ write: (c: Buffer) => chunks.push(c) }, 60_000);
  // Two-byte text (a rollout's arrow), characters of 3 UTF-8 bytes, and an astral one (a surrogate pair).
  const line = `{"msg":"rendered-worker-a → rendered-worker-b ${'x'.repeat(1200)} 𝄞 é"}\n`;
  for (let i = 0; i < 200; i++) batch.write(line);
  batch.flush();
  t.equal(Buffer.concat(chunks).toString(), line.repeat(200), 'every line written whole, in order, as UTF-8');
  t.ok(chunks.length > 1);
  t.ok(
    chunks.every((c) => c.length <= BATCH_MAX_BYTES && c.toString().endsWith('\n')),
    'what is held is written before a line would pass the bound: each write ends with a whole line',
  );
  const long = `${'y'.repeat(BATCH_MAX_BYTES)}\n`;
  batch.write('a\n');
  batch.write(long);
  t.same(
    chunks.slice(-2).map((c) => c.toString()),
    ['a\n', long],
    'a line longer than the bound goes alone',
  );
});

t.test('a logger on a file descriptor batches its lines and writes them on logger.flush()', async (t) => {
  const file = join(t.testdir(), 'log');
  const fd = openSync(file, 'w');
  t.teardown(() => closeSync(fd));
  const logger = createLogger('info', fd);
  const write = infoLineWriter(logger, 'admission decision');
  write(record);
  write(record);
  t.equal(readFileSync(file, 'utf8'), '', 'not yet written');
  logger.flush();
  t.equal(readFileSync(file, 'utf8').split('\n').filter(Boolean).length, 2);
});

t.test('the time field is the ISO time pino writes, whichever millisecond and in whatever order', async (t) => {
  const iso = (now: number) => `,"time":"${new Date(now).toISOString()}"`;
  // Each millisecond of one second, each second boundary, and clocks that go back (NTP steps).
  const start = Date.UTC(2026, 11, 8, 1, 2, 3);
  for (let now = start - 2; now < start + 1003; now++) t.equal(timeField(now), iso(now));
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: Date.UTC(9999, 11, 31) }), { minLength: 1, maxLength: 20 }),
      (clock) => clock.every((now) => timeField(now) === iso(now) && timeField(now + 1) === iso(now + 1)),
    ),
  );
});
