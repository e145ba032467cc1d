/**
 * The final image's layout without a Docker engine: package.json, `npm ci --omit=dev --ignore-scripts` and the
 * compiled dist/src, owned by root and not writable by anyone else, run as uid/gid 65532 (the Dockerfile's USER)
 * through setpriv, with the Dockerfile's ENTRYPOINT and CMD. What breaks at run time (a missing production
 * dependency, a write outside /tmp, the wrong default paths) breaks here. Needs root (setpriv) and the registry.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDevCerts } from '../../src/cli/certs.js';
import { CMD, ENTRYPOINT, FINAL_STAGE } from '../helpers/dockerfile.js';
import { httpGet } from '../helpers/admission.js';
import { REPO_ROOT } from '../helpers/repo.js';
import { listeningOf } from '../helpers/run-cli.js';

const [uid, gid] = FINAL_STAGE.instructions
  .filter((i) => i.op === 'USER')
  .at(-1)!
  .args.split(':');
const root = mkdtempSync(join(tmpdir(), 'sctp-guard-image-'));
chmodSync(root, 0o755);
const app = join(root, 'app');
const bin = join(root, 'bin');

function listing(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, encoding: 'utf8' }) as string[]).sort();
}

t.test(
  'the production layout runs as the image user with nothing writable',
  { skip: process.getuid?.() !== 0 ? 'needs root for setpriv' : false },
  async (t) => {
    mkdirSync(app);
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(REPO_ROOT, f), join(app, f));
    execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: app,
      stdio: 'ignore',
    });
    cpSync(join(REPO_ROOT, 'dist', 'src'), join(app, 'dist', 'src'), {
      recursive: true,
      filter: (f) => statSync(f).isDirectory() || f.endsWith('.js'),
    });
    const main = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')).bin['sctp-guard'] as string;
    chmodSync(join(app, main), 0o755);
    mkdirSync(bin);
    symlinkSync(join(app, main), join(bin, 'sctp-guard'));
    execFileSync('chmod', ['-R', 'go-w,a+rX', root]);
    const before = listing(app);

    const tls = join(root, 'etc', 'sctp-guard', 'tls');
    const certs = writeDevCerts({ dir: tls });
    execFileSync('chmod', ['-R', 'a+rX', join(root, 'etc')]);
    // /tmp is the only writable place, as in the pod (readOnlyRootFilesystem, an emptyDir or none at /tmp).
    const env = { PATH: `${bin}:${process.env.PATH}`, HOME: '/nonexistent', NODE_ENV: 'production', KUBECONFIG: '' };
    const asImageUser = (args: string[]) => [
      '--reuid',
      uid!,
      '--regid',
      gid!,
      '--clear-groups',
      ...ENTRYPOINT,
      ...args,
    ];
    const run = (args: string[], input = '') => {
      try {
        return {
          code: 0,
          out: execFileSync('setpriv', asImageUser(args), {
            cwd: app,
            env,
            input,
            encoding: 'utf8',
            stdio: ['pipe', 'pipe', 'pipe'],
          }),
          err: '',
        };
      } catch (e) {
        const x = e as { status: number; stdout: string; stderr: string };
        return { code: x.status, out: x.stdout, err: x.stderr };
      }
    };

    t.match(run(['--version']).out.trim(), /^\d+\.\d+\.\d+$/);
    const checked = run(
      ['check', '-f', '-'],
      readFileSync(join(REPO_ROOT, 'examples', 'ako-sctp-loadbalancer.yaml'), 'utf8'),
    );
    t.equal(checked.code, 1, `docker run IMAGE check -f - < manifests.yaml: ${checked.err}`);
    t.match(checked.out, /sctp-service-type DENY/);

    // The default command as written, before the Secret is mounted: a clear error naming the file, never EACCES.
    const unmounted = run(CMD);
    t.equal(unmounted.code, 2);
    t.match(unmounted.err, /\/etc\/sctp-guard\/tls\/tls\.(crt|key)/);
    t.notMatch(unmounted.err, /EACCES|mkdir/);

    // The default command with the Secret's files where it expects them (paths rebased under the temporary root).
    const args = CMD.map((a) => a.replace('/etc/sctp-guard/tls', tls)).concat([
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--health-probe-bind-address',
      '127.0.0.1:0',
      '--metrics-bind-address',
      '127.0.0.1:0',
    ]);
    const child = spawn('setpriv', asImageUser(args), { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    t.teardown(() => void child.kill('SIGKILL'));
    const ports = await listeningOf(child);
    t.equal((await httpGet(ports.probePort!, '/readyz')).statusCode, 200, 'serve is ready as uid 65532');
    t.match(
      (await httpGet(ports.metricsPort!, '/metrics')).body,
      /sctp_guard_serving_certificate_expiry_timestamp_seconds/,
    );
    t.ok(certs.cert, 'the mounted pair was used');
    child.kill('SIGTERM');
    t.same(listing(app), before, 'nothing was written into the image');
  },
);
