/**
 * `npx sctp-guard` in a fresh copy of the repository (its tracked files, no dist/, no node_modules): `npm ci` runs
 * the prepare script, which builds and marks the bin executable, so the newcomer's first npx works. Needs the npm
 * registry (or its cache) for the install.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { REPO_ROOT } from '../helpers/repo.js';

const work = mkdtempSync(join(tmpdir(), 'sctp-guard-npx-'));
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };

t.test(
  'npx sctp-guard in a fresh copy of the repository: no dist/ until npm ci builds it (prepare)',
  { timeout: 600_000 },
  async (t) => {
    const clone = join(work, 'clone');
    const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' })
      .split('\0')
      .filter(Boolean);
    for (const file of tracked) {
      mkdirSync(dirname(join(clone, file)), { recursive: true });
      try {
        copyFileSync(join(REPO_ROOT, file), join(clone, file));
      } catch {
        // a file deleted in the working tree and not yet committed
      }
    }
    t.notOk(existsSync(join(clone, 'dist')), 'a fresh copy has no dist/');
    const { NODE_OPTIONS: _n, NODE_PATH: _p, ...env } = process.env;
    const npm = (args: string[]) =>
      execFileSync('npm', args, {
        cwd: clone,
        env,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 540_000,
      });
    npm(['ci', '--prefer-offline', '--no-audit', '--no-fund']);
    t.equal(
      npm(['exec', '--', 'sctp-guard', '--version']).trim(),
      pkg.version,
      'npx sctp-guard --version right after npm ci',
    );
    t.match(npm(['exec', '--', 'sctp-guard']), /^Usage: sctp-guard/, 'bare npx sctp-guard prints the help');
  },
);
