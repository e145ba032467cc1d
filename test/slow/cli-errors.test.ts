import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from '../helpers/run-cli.js';

// Every command with bad input: one line on stderr that says what is wrong and where to look, no help dump, exit 2.
// (check still writes its report, 0 objects and the input error counted, on stdout.)
const certs = mkdtempSync(join(tmpdir(), 'sctp-guard-certs-'));
t.teardown(() => rmSync(certs, { recursive: true, force: true }));

const CASES: Array<[string[], RegExp]> = [
  [
    ['chek', '-f', 'x.yaml'],
    /^sctp-guard: unknown command 'chek' \(did you mean check\?\); commands: serve, certs, check, audit, register, unregister, remediate, preflight, export \(see sctp-guard --help\)$/,
  ],
  [['bogus'], /^sctp-guard: unknown command 'bogus'; commands: /],
  [['--bogus'], /^sctp-guard: unknown option '--bogus' \(see sctp-guard (serve )?--help\)$/],
  [
    ['serve', '--log-level', 'verbose'],
    /^sctp-guard: option '--log-level <level>' argument 'verbose' is invalid\. Allowed choices are fatal, error, warn, info, debug, trace, silent\. \(see sctp-guard serve --help\)$/,
  ],
  [['serve', '--port', '70000'], /argument '70000' is invalid\. expected a port 0-65535/],
  [['serve', '--tls-cert', 'no/such.crt', '--tls-key', 'no/such.key', '--port', '0'], /^sctp-guard: .*no\/such\.crt/],
  [
    ['certs', '--days', '0'],
    /^sctp-guard: option '--days <n>' argument '0' is invalid\. expected whole days from 1 to \d+ \(a certificate cannot end after 9999-12-31\)/,
  ],
  [
    ['certs', '--days', '3000000'],
    /^sctp-guard: option '--days <n>' argument '3000000' is invalid\. expected whole days from 1 to \d+/,
  ],
  [
    ['certs', '--dir', certs],
    new RegExp(
      `^sctp-guard: ${certs}/ca\\.crt, ${certs}/ca\\.key, ${certs}/tls\\.crt, ${certs}/tls\\.key exist: .*pass --force to replace them`,
    ),
  ],
  [['check', '--bogus'], /^sctp-guard: unknown option '--bogus' \(see sctp-guard check --help\)$/],
  [
    ['check', '-f', 'examples/openshift-sctp-pod.yaml', '-o', 'xml'],
    /argument 'xml' is invalid\. Allowed choices are text, json, junit, yaml, sarif, github, tap\./,
  ],
  [['check', '-f', 'no-such-file.yaml'], /^sctp-guard: no-such-file\.yaml: cannot read: ENOENT$/],
  [
    [
      'check',
      '-f',
      'examples/openshift-sctp-pod.yaml',
      '--config',
      'test/fixtures/check/policies/bad-service-type.yaml',
    ],
    /^sctp-guard: bad policy: .*bad-service-type\.yaml:6: policy field \/allowedServiceTypes\/1: must be one of: /,
  ],
  [['audit', '--page-size', '0'], /argument '0' is invalid\. expected a positive integer/],
  [['audit', '--kubeconfig', 'no-such-kubeconfig'], /^sctp-guard: .*no-such-kubeconfig/],
  [['register', '--timeout-seconds', '99'], /the API server accepts 1 to 30 seconds/],
  [['register', '--url', 'http://example.com'], /reaches webhooks over https only/],
  [['register'], /--ca-bundle FILE is required/],
  [['unregister', '--bogus'], /^sctp-guard: unknown option '--bogus' \(see sctp-guard unregister --help\)$/],
];

t.test('setup: an existing CA', async (t) => {
  t.equal((await runCli(['certs', '--dir', certs, '--days', '1'])).code, 0);
});

type Result = Awaited<ReturnType<typeof runCli>>;
const results: Result[] = [];
t.test('run every case, four at a time (each is a process start)', async () => {
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < CASES.length; i = next++)
      results[i] = await runCli(CASES[i]![0], { env: { KUBECONFIG: '' } });
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
});

for (const [index, [args, message]] of CASES.entries()) {
  t.test(args.join(' '), async (t) => {
    const r = results[index]!;
    t.equal(r.code, 2, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    t.equal(lines.length, 1, `one line:\n${r.stderr}`);
    t.match(lines[0], message);
    t.notMatch(r.stdout, /Usage:|Options:/, 'no help dump');
    if (args[0] !== 'check') t.equal(r.stdout, '');
  });
}

t.test('certs --force replaces the CA', async (t) => {
  const r = await runCli(['certs', '--dir', certs, '--force']);
  t.equal(r.code, 0, r.stderr);
});
