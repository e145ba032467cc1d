/** Finding the checkout from code that runs from source, from dist/ (tsc) or from dist-test/ (the test runner). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sctp-guard checkout above `from`: the first folder up that holds package.json and examples/. */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'examples'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no sctp-guard checkout above ${from}`);
  }
}
