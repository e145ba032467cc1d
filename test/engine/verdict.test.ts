import t from 'tap';
import { oneLine, describeObject } from '../../src/engine/verdict.js';

t.test('oneLine flattens and caps warnings', async (t) => {
  t.equal(oneLine('a\nb'), 'a b');
  t.ok(oneLine('x'.repeat(300)).length <= 119);
  t.equal(describeObject({ kind: 'Service', metadata: { name: 's', namespace: 'n' } }), 'Service n/s');
});
