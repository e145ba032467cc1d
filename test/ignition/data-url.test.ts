import t from 'tap';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import {
  decodeDataUrl,
  parseDataUrl,
  DataUrlError,
  DataUrlTooLarge,
  MAX_INFLATED_BYTES,
} from '../../src/ignition/data-url.js';

t.test('plain forms used by the SCTP MachineConfigs', async (t) => {
  t.equal(decodeDataUrl('data:,sctp').toString(), 'sctp');
  t.equal(decodeDataUrl('data:text/plain;charset=utf-8,sctp').toString(), 'sctp');
  t.equal(decodeDataUrl('data:,').length, 0, 'empty content (the emptied blacklist file)');
  const parsed = parseDataUrl('data:text/plain;charset=utf-8,sctp');
  t.equal(parsed.mediaType, 'text/plain');
  t.same(parsed.params, { charset: 'utf-8' });
  t.equal(parsed.base64, false);
  t.same(parseDataUrl('data:,x').params, { charset: 'US-ASCII' }, 'RFC 2397 default charset');
});

t.test('percent-encoding', async (t) => {
  t.equal(decodeDataUrl('data:,sctp%0A').toString(), 'sctp\n');
  t.equal(
    decodeDataUrl('data:,blacklist%20sctp%0Ainstall%20sctp%20%2Fbin%2Ffalse').toString(),
    'blacklist sctp\ninstall sctp /bin/false',
  );
  t.equal(decodeDataUrl('data:,a+b').toString(), 'a+b', "'+' is not a space in RFC 2396 unescaping");
  t.same([...decodeDataUrl('data:,%ff%00')], [0xff, 0x00], 'bytes, not characters');
});

t.test('base64', async (t) => {
  t.equal(decodeDataUrl('data:;base64,c2N0cAo=').toString(), 'sctp\n');
  t.equal(decodeDataUrl('data:text/plain;charset=utf-8;base64,c2N0cA==').toString(), 'sctp');
  t.equal(parseDataUrl('data:;base64,c2N0cA==').base64, true);
  t.throws(() => decodeDataUrl('data:;base64,c2N0cA'), DataUrlError, 'unpadded base64 is refused like Go StdEncoding');
  t.throws(() => decodeDataUrl('data:;base64,c2N0%63A=='), /invalid base64/);
});

t.test('gzip compression', async (t) => {
  const gz = gzipSync(Buffer.from('sctp\n')).toString('base64');
  t.equal(decodeDataUrl(`data:;base64,${gz}`, 'gzip').toString(), 'sctp\n');
  t.equal(decodeDataUrl('data:,sctp', '').toString(), 'sctp', 'empty compression means none');
  t.equal(decodeDataUrl('data:,sctp', null).toString(), 'sctp');
  t.throws(() => decodeDataUrl('data:,sctp', 'gzip'), /does not decompress/);
  t.throws(() => decodeDataUrl('data:,sctp', 'bzip2'), /unsupported compression "bzip2"/);
});

t.test('gzip is inflated only up to the limit: a bomb is "too large", never a gigabyte buffer', async (t) => {
  // 64 MiB of zeros in about 64 KB: the ratio of the 1 GiB bomb at a 16th of the size.
  const bomb = `data:;base64,${gzipSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64')}`;
  const started = performance.now();
  t.throws(() => decodeDataUrl(bomb, 'gzip'), DataUrlTooLarge);
  t.throws(() => decodeDataUrl(bomb, 'gzip'), /inflates to more than 4 MiB/);
  t.ok(performance.now() - started < 1000, 'stops at the limit instead of inflating it all');
  t.equal(
    decodeDataUrl(`data:;base64,${gzipSync(Buffer.alloc(MAX_INFLATED_BYTES)).toString('base64')}`, 'gzip').length,
    MAX_INFLATED_BYTES,
    'the limit itself is read',
  );
  t.throws(
    () => decodeDataUrl(`data:;base64,${gzipSync(Buffer.alloc(MAX_INFLATED_BYTES + 1)).toString('base64')}`, 'gzip'),
    DataUrlTooLarge,
    'one byte more is not',
  );
});

t.test('malformed URLs are refused with a reason', async (t) => {
  t.throws(() => decodeDataUrl('https://example.com/sctp'), /missing "data:" prefix/);
  t.throws(() => decodeDataUrl('data:text/plain'), /missing comma/);
  t.throws(() => decodeDataUrl('data:,sctp load'), /invalid data character/, 'raw space must be %20');
  t.throws(() => decodeDataUrl('data:,100%'), /invalid escape/);
  t.throws(() => decodeDataUrl('data:,%zz'), /invalid escape/);
  t.throws(() => decodeDataUrl('data:,sctp\n'), /invalid data character/);
  t.throws(() => decodeDataUrl('data:,café'), /invalid data character/, 'non-ASCII');
  t.throws(() => decodeDataUrl('data:foo/bar,x'), /invalid media type "foo"/);
  t.throws(() => decodeDataUrl('data:textplain,x'), /invalid media type/);
  t.throws(() => decodeDataUrl('data:text/plain;charset,x'), /expected base64, got "charset"/);
  t.throws(() => decodeDataUrl('data:text/plain;=x,x'), /unterminated parameter/);
  t.equal(decodeDataUrl('data:x-custom/thing,ok').toString(), 'ok', 'x- extension types are tokens');
  t.same(parseDataUrl('data:text/plain;name="a\\"b",x').params, { name: 'a"b' }, 'quoted parameter values');
});

t.test(
  'any bytes, each percent-encoded in either case or written as itself when it may be, decode to themselves',
  async (t) => {
    // What lex.go's isURLCharRune lets stand unescaped.
    const asIs = (b: number) => b > 0x20 && b < 0x7f && !'<>#"{}|\\^[]`%'.includes(String.fromCharCode(b));
    const encoded = fc
      .array(fc.tuple(fc.integer({ min: 0, max: 255 }), fc.constantFrom('as-is', 'upper', 'lower')), { maxLength: 64 })
      .map((bytes) => ({
        bytes: Buffer.from(bytes.map(([b]) => b)),
        text: bytes
          .map(([b, how]) => {
            if (how === 'as-is' && asIs(b)) return String.fromCharCode(b);
            const hex = b.toString(16).padStart(2, '0');
            return `%${how === 'lower' ? hex : hex.toUpperCase()}`;
          })
          .join(''),
      }));
    fc.assert(
      fc.property(encoded, ({ bytes, text }) => decodeDataUrl(`data:,${text}`).equals(bytes)),
      { numRuns: 2000 },
    );
    t.throws(() => decodeDataUrl('data:,%0'), /invalid escape "%0"/, 'an escape cut short at the end');
    t.throws(() => decodeDataUrl('data:,%g0'), /invalid escape "%g0"/);
    t.throws(() => decodeDataUrl('data:,%0G'), /invalid escape "%0G"/);
    t.equal(decodeDataUrl('data:,%2f%2F').toString(), '//', 'either case');
  },
);
