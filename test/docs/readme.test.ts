import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../helpers/repo.js';
import { docFiles } from '../helpers/docs.js';

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');

t.test('the README is for a newcomer: short, with the two commands', async (t) => {
  const lines = readme.split('\n').length;
  t.ok(lines <= 250, `README.md has ${lines} lines (at most 250; reference material goes to docs/)`);
  t.match(readme, 'npm install && npm start');
  t.match(readme, 'npm test');
});

t.test('every relative link in README and docs points at a file that exists', async (t) => {
  for (const file of docFiles()) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const [, target] of text.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue;
      t.ok(existsSync(join(REPO_ROOT, dirname(file), target!)), `${file} links to ${target}`);
    }
  }
});

t.test("the README's layout line is the layer order that npm test enforces", async (t) => {
  const config = createRequire(import.meta.url)(join(REPO_ROOT, '.dependency-cruiser.cjs')) as {
    forbidden: Array<{ name: string }>;
  };
  const bottomFirst = config.forbidden.flatMap((r) => /^no-upward-from-(.+)$/.exec(r.name)?.[1] ?? []);
  const line = /^src\/cli → .*$/m.exec(readme)?.[0];
  t.ok(line, 'README.md shows the layers on one line');
  t.same(line?.replace(/^src\//, '').split(' → '), bottomFirst.reverse(), 'top first, as in .dependency-cruiser.cjs');
});
