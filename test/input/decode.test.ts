import t from 'tap';
import { decodeText, TextStreamDecoder } from '../../src/input/decode.js';

const TEXT = 'kind: Service # é ✓\n';
const utf16be = (s: string) => Buffer.from(s, 'utf16le').swap16();

t.test('byte order marks as kubectl reads them: UTF-8 dropped, UTF-16 LE and BE decoded, none is UTF-8', async (t) => {
  t.equal(decodeText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT)])), TEXT);
  t.equal(decodeText(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEXT, 'utf16le')])), TEXT);
  t.equal(decodeText(Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(TEXT)])), TEXT);
  t.equal(decodeText(Buffer.from(TEXT)), TEXT);
  t.equal(decodeText(Buffer.alloc(0)), '');
});

t.test('a stream split anywhere, inside the mark or a character, decodes to the same text', async (t) => {
  for (const bytes of [
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT)]),
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(TEXT, 'utf16le')]),
    Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be(TEXT)]),
  ]) {
    for (let size = 1; size <= 5; size++) {
      const d = new TextStreamDecoder();
      let out = '';
      for (let i = 0; i < bytes.length; i += size) out += d.write(bytes.subarray(i, i + size));
      t.equal(out + d.end(), TEXT, `${bytes.subarray(0, 3).toString('hex')} in chunks of ${size}`);
    }
  }
});
