import t from 'tap';
import { X509Certificate } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { certDays, ensureDevCerts, registerCertsCommand } from '../../src/cli/certs.js';

/** `sctp-guard certs ARGS` through the command's own definition, in this process; stdout is kept. */
async function certs(args: string[]): Promise<string> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {} });
  registerCertsCommand(program);
  let out = '';
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => ((out += chunk), true)) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'sctp-guard', 'certs', ...args]);
  } finally {
    process.stdout.write = write;
  }
  return out;
}

const dir = () => mkdtempSync(join(tmpdir(), 'sctp-guard-certs-'));
const NAMES = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'];

t.test('a symbolic link at an output path is never written through, with or without --force', async (t) => {
  const d = dir();
  const victim = join(dir(), 'authorized_keys');
  writeFileSync(victim, 'precious\n');
  symlinkSync(victim, join(d, 'tls.key'));
  await t.rejects(certs(['--dir', d]), /tls\.key is a symbolic link: certs never writes through one/);
  await t.rejects(certs(['--dir', d, '--force']), /tls\.key is a symbolic link/);
  t.equal(readFileSync(victim, 'utf8'), 'precious\n', 'the link target is untouched');
  t.ok(lstatSync(join(d, 'tls.key')).isSymbolicLink(), 'the link is left as it was');
  t.notOk(existsSync(join(d, 'ca.key')), 'nothing was written: every path is checked first');
  // A dangling link too: exclusive creation would fail on it, the check says why first.
  const dangling = dir();
  symlinkSync(join(dangling, 'elsewhere'), join(dangling, 'ca.key'));
  await t.rejects(certs(['--dir', dangling]), /ca\.key is a symbolic link/);
  t.notOk(existsSync(join(dangling, 'elsewhere')));
});

t.test('every output file is guarded without --force, not only ca.crt', async (t) => {
  const d = dir();
  await certs(['--dir', d]);
  const before = Object.fromEntries(NAMES.map((n) => [n, readFileSync(join(d, n), 'utf8')]));
  rmSync(join(d, 'ca.crt'));
  await t.rejects(
    certs(['--dir', d]),
    new RegExp(`${d}/ca\\.key, ${d}/tls\\.crt, ${d}/tls\\.key exist: .*pass --force to replace them`),
  );
  for (const n of ['ca.key', 'tls.crt', 'tls.key'])
    t.equal(readFileSync(join(d, n), 'utf8'), before[n], `${n} is kept`);
  t.throws(
    () => ensureDevCerts(join(d, 'tls.crt'), join(d, 'missing.key'), d),
    /exist: .*--force/,
    "serve's development pair does not overwrite either",
  );

  const out = await certs(['--dir', d, '--force']);
  t.match(out, /^wrote .*ca\.crt/);
  for (const n of ['ca.key', 'tls.crt', 'tls.key'])
    t.not(readFileSync(join(d, n), 'utf8'), before[n], `--force replaces ${n}`);
  for (const n of ['ca.key', 'tls.key']) t.equal(statSync(join(d, n)).mode & 0o777, 0o600, `${n} is 0600`);
  t.equal(statSync(join(d, 'tls.crt')).mode & 0o777, 0o644, 'certificates are 0644');
});

t.test('--days stays in the X.509 range: notAfter by 9999-12-31, and at least one day', async (t) => {
  const now = Date.UTC(2026, 11, 7);
  const most = Math.floor((Date.UTC(9999, 11, 31, 23, 59, 59) - now) / 86_400_000);
  t.equal(certDays(String(most), now), most);
  t.throws(
    () => certDays(String(most + 1), now),
    /expected whole days from 1 to \d+ \(a certificate cannot end after 9999-12-31\), got/,
  );
  for (const bad of ['0', '-5', '1.5', 'x']) t.throws(() => certDays(bad, now), /expected whole days/, bad);
  await t.rejects(certs(['--dir', dir(), '--days', '3000000']), /cannot end after 9999-12-31/);

  const d = dir();
  const days = certDays(String(Math.floor((Date.UTC(9999, 11, 31) - Date.now()) / 86_400_000)));
  await certs(['--dir', d, '--days', String(days)]);
  const cert = new X509Certificate(readFileSync(join(d, 'tls.crt')));
  t.ok(Number.isFinite(new Date(cert.validTo).getTime()), `Node reads its notAfter: ${cert.validTo}`);
  t.match(cert.validTo, /9999 GMT$/);
});
