import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { FINAL_STAGE } from './helpers/dockerfile.js';
import { REPO_ROOT } from './helpers/repo.js';

/**
 * The supported Node versions are said once, in package.json `engines`; the README, the image and every package of
 * the tree in package-lock.json (whose production part the tarball bundles: package.json bundleDependencies) must
 * agree with it.
 */

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lockfile = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string; dev?: boolean; engines?: { node?: string } | string[] }>;
};
const engines = pkg.engines.node;
/** The lowest version of each `||` range: 22.13.0, 24.0.0, 26.0.0. */
const floors = engines.split('||').map((r) => semver.minVersion(r.trim())!.version);

t.test('engines names only LTS lines: no odd (never-LTS) major and nothing before 22', async (t) => {
  t.ok(semver.validRange(engines), engines);
  for (const floor of floors)
    t.ok(
      semver.major(floor) % 2 === 0 && semver.major(floor) >= 22,
      `${floor}: an even major from 22 on (20 reached end of life 2026-04-30)`,
    );
  for (const odd of ['23.11.0', '25.9.0']) t.notOk(semver.satisfies(odd, engines), `${odd} is not supported`);
  t.notOk(semver.satisfies('20.20.2', engines), '20 is not supported');
});

t.test('every package in the shipped tree runs on the lowest version of each supported line', async (t) => {
  let checked = 0;
  for (const [path, entry] of Object.entries(lockfile.packages)) {
    const needs = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
    if (!path || !needs) continue;
    checked++;
    for (const floor of floors) {
      if (!semver.satisfies(floor, needs))
        t.fail(
          `${path.replace(/^.*node_modules\//, '')}@${entry.version}${entry.dev ? ' (dev)' : ''} needs Node ${needs}: not ${floor}`,
        );
    }
  }
  t.ok(checked > 10, `${checked} packages declare engines.node`);
});

t.test('the README says the same versions', async (t) => {
  const row = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('| Node.js |'));
  t.ok(row, 'the Compatibility table has a Node.js row');
  // `|` inside a table cell is written `\|`.
  t.ok(row!.replaceAll('\\|', '|').includes(`\`${engines}\``), 'quotes engines');
  for (const floor of floors) t.match(row!, String(semver.major(floor)), `names ${semver.major(floor)}`);
});

t.test("the image runs a supported Node, and the packaging test runs the lowest and the image's", async (t) => {
  const major = /^node:(\d+)/.exec(FINAL_STAGE.image)?.[1];
  t.ok(major && floors.some((f) => semver.major(f) === Number(major)), `${FINAL_STAGE.image} is a supported line`);
  const tested = execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'node-versions.mjs'), '--print'], {
    encoding: 'utf8',
  });
  t.same(
    JSON.parse(tested),
    { lowest: semver.minVersion(engines)!.version, image: major },
    'scripts/node-versions.mjs reads the same facts',
  );
});

t.test('the tarball bundles every production dependency: a global install gets the tree CI tested', async (t) => {
  const full = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
    bundleDependencies: string[];
  };
  t.same([...full.bundleDependencies].sort(), Object.keys(full.dependencies).sort());
});
