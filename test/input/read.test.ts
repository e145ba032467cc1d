import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import { parseByteSize, readFileBytes, readStreamBytes } from '../../src/input/read.js';

t.test('devices are refused before a byte is read', async (t) => {
  const before = process.memoryUsage().rss;
  t.throws(() => readFileBytes('/dev/zero', 2 ** 20), {
    message: /^not a regular file \(a character device\).*-f - < \/dev\/zero/,
  });
  t.ok(process.memoryUsage().rss - before < 64 * 2 ** 20, 'memory did not grow');
});

t.test('a file over the limit is refused by its size, naming the flag that raises it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-read-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'big.yaml'), 'x'.repeat(3000));
  t.throws(() => readFileBytes(join(dir, 'big.yaml'), 2048), {
    message: '2.9 KiB, over the limit of 2 KiB per input: raise it with --max-file-size (e.g. --max-file-size 1Mi)',
  });
  t.equal(readFileBytes(join(dir, 'big.yaml'), 3000).length, 3000);
  t.throws(() => readFileBytes(join(dir, 'nope.yaml'), 10), { message: 'cannot read: ENOENT' });
});

t.test('a stream is read as it arrives and cut at the limit', async (t) => {
  t.equal((await readStreamBytes(Readable.from([Buffer.from('a: 1\n'), 'b: 2\n']), 100)).toString(), 'a: 1\nb: 2\n');
  const endless = Readable.from(
    (function* () {
      for (;;) yield Buffer.alloc(65536);
    })(),
  );
  await t.rejects(readStreamBytes(endless, 2 ** 20), {
    name: 'ReadError',
    message: /^more than 1 MiB, over the limit/,
  });
  t.ok(endless.destroyed, 'the source is let go');
});

t.test('sizes as Kubernetes quantities', async (t) => {
  t.equal(parseByteSize('64Mi'), 64 * 2 ** 20);
  t.equal(parseByteSize('1G'), 1e9);
  t.equal(parseByteSize('4096'), 4096);
  t.throws(() => parseByteSize('lots'), { name: 'ReadError' });
  t.throws(() => parseByteSize('0'), { name: 'ReadError' });
});
