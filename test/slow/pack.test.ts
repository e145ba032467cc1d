/**
 * The package as a user installs it: `npm pack` of the built dist/, then a global install of the tarball into
 * a temporary prefix with production dependencies only (no TypeScript, no esbuild), and the installed binary run from
 * outside the repository, on the lowest Node that `engines` allows and on the image's Node (both from
 * scripts/node-versions.mjs: the `node` package of the npm registry, cached in .cache/node/). Every command that
 * talks to a cluster runs against the in-process API server. Needs the npm registry for the dependencies.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { httpGet } from '../helpers/admission.js';
import { CORE_TYPES, FakeApiServer, OPENSHIFT_TYPES } from '../helpers/fake-apiserver.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { listeningOf } from '../helpers/run-cli.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
const lockfile = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<
    string,
    { version?: string; dev?: boolean; optional?: boolean; devOptional?: boolean; link?: boolean }
  >;
};
const work = mkdtempSync(join(tmpdir(), 'sctp-guard-pack-'));
// Neither the caller's NODE_OPTIONS nor the repository's node_modules (NODE_PATH) may help the installed binary.
const { NODE_OPTIONS: _n, NODE_PATH: _p, ...cleanEnv } = process.env;
const tested = JSON.parse(
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'node-versions.mjs'), '--print'], { encoding: 'utf8' }),
) as Record<'lowest' | 'image', string>;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Async: the in-process API server must keep answering while the CLI talks to it. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<Run> {
  const child = spawn(command, args, { cwd: work, env, stdio: ['pipe', 'pipe', 'pipe'], timeout: 120_000 });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(input);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// The example OpenShift cluster (masters without SCTP) and an SCTP LoadBalancer to find.
const api = new FakeApiServer({ types: [...Object.values(CORE_TYPES), ...Object.values(OPENSHIFT_TYPES)] });
let kubeconfig = '';
let tarball = '';
const nodeBins: Record<string, string> = {};
const nodeBinOf = (which: string) =>
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'node-versions.mjs'), '--bin', which], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
const prefix = join(work, 'prefix');
// That node first on PATH: npm runs on it, and so does the installed bin (#!/usr/bin/env node).
const envFor = (which: string) => ({
  ...cleanEnv,
  PATH: `${nodeBins[which]}:${join(prefix, 'bin')}:${process.env.PATH}`,
  KUBECONFIG: '',
});

t.before(async () => {
  await api.start();
  kubeconfig = api.writeKubeconfig(work);
  const state = join(REPO_ROOT, 'examples', 'cluster-state');
  for (const file of readdirSync(state).filter((f) => f.endsWith('.yaml'))) {
    api.upsertAll(
      parseAllDocuments(readFileSync(join(state, file), 'utf8')).flatMap((d) => {
        const o = d.toJS() as { kind?: string; items?: unknown[] } | null;
        return (o?.kind?.endsWith('List') ? o.items : o ? [o] : []) as never[];
      }),
    );
  }
  api.upsert(CORE_TYPES.services, {
    metadata: { name: 'lb', namespace: 'telco' },
    spec: { type: 'LoadBalancer', ports: [{ port: 3868, protocol: 'SCTP' }] },
  });

  // The dist/ that test:slow's tsc has just built (prepare building it on install is npx.test.ts's): running the
  // prepare script here would rewrite dist/ under the other slow tests that run it at the same time.
  execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], {
    cwd: REPO_ROOT,
    env: cleanEnv,
    stdio: 'ignore',
  });
  tarball = join(work, `sctp-guard-${pkg.version}.tgz`);
  for (const which of Object.keys(tested)) nodeBins[which] = nodeBinOf(which);
});
t.teardown(() => api.stop());

t.test('the tarball: the built dist/ and the tested production tree, no sources', async (t) => {
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
  t.ok(listing.includes('package/dist/src/cli/main.js'), 'the tarball carries the built dist/');
  // bundleDependencies: the production tree as npm ci laid it out from the lockfile travels inside the tarball.
  t.ok(listing.includes('package/node_modules/fastify/package.json'), 'and the production dependencies, bundled');
  t.notOk(
    listing.some((f) => /^package\/node_modules\/(typescript|esbuild|tap)\//.test(f)),
    'but no development ones',
  );
  t.notOk(
    listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/')),
    'no sources or tests',
  );
});

t.test(
  `npm install --global --omit=dev of the tarball, on Node ${tested.lowest} (the lowest engines allows)`,
  { timeout: 300_000 },
  async (t) => {
    const env = envFor('lowest');
    const install = await run(
      'npm',
      ['install', '--global', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', tarball],
      env,
    );
    t.equal(install.code, 0, install.stderr);
    t.notMatch(install.stderr, /EBADENGINE/, 'no package of the tree refuses the lowest supported Node');
    const root = join(prefix, 'lib', 'node_modules', 'sctp-guard');
    const installed = readdirSync(join(root, 'node_modules'));
    for (const dev of ['typescript', 'esbuild', 'tap']) t.notOk(installed.includes(dev), `${dev} is not installed`);
    // Exactly the versions CI tested: every production entry of the lockfile, at its path and version. (A global
    // install of a tarball does not follow a npm-shrinkwrap.json in it: npm reads one only for a registry package
    // whose packument says _hasShrinkwrap, @npmcli/arborist Node's hasShrinkwrap; bundled dependencies always hold.)
    const differ: string[] = [];
    let production = 0;
    for (const [path, entry] of Object.entries(lockfile.packages)) {
      if (!path || entry.dev || entry.link) continue;
      const manifest = join(root, path, 'package.json');
      if (!existsSync(manifest)) {
        if (!entry.optional && !entry.devOptional) differ.push(`${path}: missing`);
        continue;
      }
      production++;
      const got = (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
      if (got !== entry.version) differ.push(`${path}: ${got}, lockfile ${entry.version}`);
    }
    t.same(differ, [], `the ${production} production packages are the lockfile's`);
  },
);

// One install (no native code: the same files on every Node), run by each Node.
for (const [which, spec] of Object.entries(tested)) {
  t.test(
    `on Node ${spec} (${which === 'lowest' ? 'the lowest engines allows' : "the image's"}), every command that talks to a cluster`,
    { timeout: 300_000 },
    async (t) => {
      const env = envFor(which);
      const version = (await run('node', ['--version'], env)).stdout.trim();
      t.ok(version.startsWith(`v${spec}`), `runs on ${version}`);
      const cli = (args: string[], input = '') => run('sctp-guard', args, env, input);
      t.equal((await cli(['--version'])).stdout.trim(), pkg.version, 'sctp-guard --version');
      const manifest = readFileSync(join(REPO_ROOT, 'examples', 'ako-sctp-loadbalancer.yaml'), 'utf8');
      const checked = await cli(['check', '-f', '-'], manifest);
      t.equal(checked.code, 1, 'check -f - denies the LoadBalancer');
      t.match(checked.stdout, /sctp-service-type DENY/);

      const audit = await cli(['audit', '--kubeconfig', kubeconfig]);
      t.equal(audit.code, 1, `audit finds the LoadBalancer: ${audit.stderr}`);
      t.match(audit.stdout, /Service telco\/lb/);
      const live = await cli(['check', '-f', '-', '--kubeconfig', kubeconfig], manifest);
      t.equal(live.code, 1, `check --kubeconfig: ${live.stderr}`);
      const remediate = await cli(['remediate', '--kubeconfig', kubeconfig]);
      t.equal(remediate.code, 0, remediate.stderr);
      t.match(remediate.stdout, /Pool master: 3 of 3 nodes do not carry SCTP/);
      const dry = await cli(['register', '--dry-run']);
      t.equal(dry.code, 0, dry.stderr);
      t.same(
        parseAllDocuments(dry.stdout).map((d) => (d.toJS() as { kind: string }).kind),
        ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'],
      );
      const certs = join(work, `certs-${which}`);
      const made = await cli(['certs', '--dir', certs]);
      t.equal(made.code, 0, made.stderr);
      const registered = await cli(['register', '--kubeconfig', kubeconfig, '--ca-bundle', join(certs, 'ca.crt')]);
      t.equal(registered.code, 0, registered.stderr);
      t.match(
        registered.stdout,
        /^validatingwebhookconfiguration\.admissionregistration\.k8s\.io\/sctp-guard (created|configured)$/m,
      );
      const unregistered = await cli(['unregister', '--kubeconfig', kubeconfig]);
      t.equal(unregistered.code, 0, unregistered.stderr);

      // serve from an empty directory against the cluster: it writes development certificates there and gets ready.
      const child = spawn(
        'sctp-guard',
        [
          'serve',
          '--kubeconfig',
          kubeconfig,
          '--port',
          '0',
          '--host',
          '127.0.0.1',
          '--health-probe-bind-address',
          '127.0.0.1:0',
          '--metrics-bind-address',
          '0',
        ],
        { cwd: mkdtempSync(join(work, 'serve-')), env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      t.teardown(() => void child.kill('SIGKILL'));
      const { probePort } = await listeningOf(child);
      let ready = 0;
      for (let i = 0; i < 100 && ready !== 200; i++) {
        ready = (await httpGet(probePort!, '/readyz')).statusCode;
        if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      t.equal(ready, 200, 'the installed serve is ready on the live cluster');
    },
  );
}
