import t from 'tap';
import fc from 'fast-check';
import { oneLine, describeObject } from '../../src/engine/verdict.js';

t.test('oneLine flattens and caps warnings', async (t) => {
  t.equal(oneLine('a\nb'), 'a b');
  for (let c = 0; c < 0xa0; c++) {
    const ch = String.fromCharCode(c);
    const control = c < 0x20 || c === 0x7f;
    t.equal(oneLine(`a${ch}b`), control ? 'a b' : `a${ch}b`, `U+${c.toString(16).padStart(4, '0')}`);
  }
  t.ok(oneLine('x'.repeat(300)).length <= 119);
  t.equal(describeObject({ kind: 'Service', metadata: { name: 's', namespace: 'n' } }), 'Service n/s');
});

t.test('oneLine of a long text: its head decides only once the head alone is cut', async (t) => {
  // 238 control characters after the first letter flatten to one space: the head alone is 'a', the tail decides.
  t.equal(oneLine(`a${'\n'.repeat(237)}${'b'.repeat(200)}`), `a ${'b'.repeat(116)}…`);
  t.equal(oneLine(`${' '.repeat(250)}${'x'.repeat(200)}`), `${'x'.repeat(118)}…`);
  t.equal(oneLine(`${'\n'.repeat(300)}abc\t`), 'abc');
  // Whatever follows 120 visible characters cannot change the line.
  const chars = fc.constantFrom('a', 'b', ' ', '\n', '\t', '\u0000', '\u007f', '\u00a0', '…');
  fc.assert(
    fc.property(fc.array(chars, { maxLength: 400 }), fc.array(chars, { maxLength: 400 }), (head, tail) => {
      const text = `${head.join('')}${'a'.repeat(120)}`;
      const line = oneLine(text);
      return line.length === 119 && line.endsWith('…') && oneLine(text + tail.join('')) === line;
    }),
  );
});
