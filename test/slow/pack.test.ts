/**
 * The package as a user installs it: `npm pack` (prepack builds dist/), then a global install of the tarball into
 * a temporary prefix with production dependencies only (no TypeScript, no esbuild), and the installed binary run from
 * outside the repository. Needs the npm registry for the dependencies.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { httpGet } from '../helpers/admission.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { listeningOf } from '../helpers/run-cli.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
const work = mkdtempSync(join(tmpdir(), 'sctp-guard-pack-'));
const prefix = join(work, 'prefix');
// Neither the caller's NODE_OPTIONS nor the repository's node_modules (NODE_PATH) may help the installed binary.
const { NODE_OPTIONS: _n, NODE_PATH: _p, ...cleanEnv } = process.env;
const env = { ...cleanEnv, PATH: `${join(prefix, 'bin')}:${process.env.PATH}`, KUBECONFIG: '' };
const run = (args: string[], input = '') => {
  try {
    return { code: 0, stdout: execFileSync('sctp-guard', args, { cwd: work, env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] }) };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
};

t.test('npm pack, npm install -g --omit=dev of the tarball, then the installed sctp-guard works', async (t) => {
  execFileSync('npm', ['pack', '--pack-destination', work], { cwd: REPO_ROOT, env: cleanEnv, stdio: 'ignore' });
  const tarball = join(work, `sctp-guard-${pkg.version}.tgz`);
  const listing = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n');
  t.ok(listing.includes('package/dist/src/cli/main.js'), 'the tarball carries the built dist/');
  t.notOk(listing.some((f) => f.startsWith('package/src/') || f.startsWith('package/test/')), 'no sources or tests');

  execFileSync('npm', ['install', '--global', '--prefix', prefix, '--omit=dev', '--no-audit', '--no-fund', tarball], { cwd: work, env: cleanEnv, stdio: 'ignore' });
  const installed = readdirSync(join(prefix, 'lib', 'node_modules', 'sctp-guard', 'node_modules'));
  for (const dev of ['typescript', 'esbuild', 'tap']) t.notOk(installed.includes(dev), `${dev} is not installed`);

  t.equal(run(['--version']).stdout.trim(), pkg.version, 'sctp-guard --version');
  const manifest = readFileSync(join(REPO_ROOT, 'examples', 'ako-sctp-loadbalancer.yaml'), 'utf8');
  const checked = run(['check', '-f', '-'], manifest);
  t.equal(checked.code, 1, 'check -f - denies the LoadBalancer');
  t.match(checked.stdout, /sctp-service-type DENY/);
  const registered = run(['register', '--dry-run']);
  t.equal(registered.code, 0, registered.stderr ?? 'register --dry-run');
  t.same(parseAllDocuments(registered.stdout).map((d) => (d.toJS() as { kind: string }).kind), ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']);

  // serve from an empty directory: it writes its development certificates there and answers /readyz.
  const child = spawn('sctp-guard', ['serve', '--port', '0', '--host', '127.0.0.1', '--health-probe-bind-address', '127.0.0.1:0', '--metrics-bind-address', '0'], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => void child.kill('SIGKILL'));
  const { probePort } = await listeningOf(child);
  t.equal((await httpGet(probePort!, '/readyz')).statusCode, 200, 'the installed serve is ready');
});
