import t from 'tap';
import { gzipSync } from 'node:zlib';
import { readsLikeDecimal } from '../../src/ignition/advisories.js';
import { convertConfig, outputVersion } from '../../src/ignition/convert.js';
import type { Problem } from '../../src/ignition/problems.js';

const v32 = (rest: Record<string, unknown>) => ({ ignition: { version: '3.2.0' }, ...rest });
const file = (f: Record<string, unknown>) => v32({ storage: { files: [{ path: '/etc/x', overwrite: true, contents: { source: 'data:,x' }, ...f }] } });
const errors = (problems: Problem[]) => problems.filter((p) => p.severity === 'error');
const warnings = (problems: Problem[]) => problems.filter((p) => p.severity === 'warning');

t.test('not a config, no version, unknown version', async (t) => {
  t.match(convertConfig('x', '3.2.0').problems, [{ severity: 'error', message: /spec\.config is not an object/ }]);
  t.match(convertConfig({}, '3.2.0').problems, [{ severity: 'error', message: /no ignition\.version: the MCO refuses it \("parsing Ignition config failed: invalid version"\)/ }]);
  const unknown = convertConfig({ ignition: { version: '2.1.0' } }, '3.2.0');
  t.match(unknown.problems, [{ severity: 'error', message: /"2\.1\.0" is not a spec version the MCO accepts \("unknown version"\); supported versions: 2\.2\.0, 3\.0\.0, 3\.1\.0, 3\.2\.0, 3\.3\.0, 3\.4\.0, 3\.5\.0/ }]);
  t.equal(unknown.config, undefined);
  t.match(convertConfig({ ignition: { version: 3.2 } }, '3.2.0').problems[0]?.message, /ignition\.version 3\.2 is not/);
});

t.test('schema errors are listed (at most five), with a count of the rest', async (t) => {
  const files = Array.from({ length: 8 }, (_, i) => ({ path: `relative/${i}` }));
  const out = convertConfig(v32({ storage: { files } }), '3.2.0');
  t.equal(errors(out.problems).length, 6);
  t.match(out.problems[0]?.message, /files\[0\]\.path must be an absolute path .*: Ignition 3\.2\.0 refuses the config, and so does the MCO/);
  t.match(out.problems[5]?.message, /and 3 more schema errors/);
  t.equal(out.config, undefined, 'no rewrite of an invalid config');
});

t.test('unknown fields: a warning; dropped when the config is rewritten, kept when it is not', async (t) => {
  const cfg = { ignition: { version: '3.1.0' }, kernelArguments: { shouldExist: ['x'] }, storage: { files: [{ path: '/etc/a', overwrite: true, contents: { source: 'data:,a' }, filesystem: 'root' }] } };
  const rewritten = convertConfig(cfg, '3.4.0');
  t.same(errors(rewritten.problems), [], 'kernelArguments in a 3.1 config is ignored, never activated by the rewrite');
  t.same(rewritten.config, { ignition: { version: '3.4.0' }, storage: { files: [{ path: '/etc/a', overwrite: true, contents: { source: 'data:,a' } }] } });
  t.same(warnings(rewritten.problems).map((p) => p.short), [
    'kernelArguments is not in Ignition 3.1.0; ignored',
    'storage.files[0].filesystem is not in Ignition 3.1.0; ignored',
  ]);
  const kept = convertConfig({ ...cfg, ignition: { version: '3.4.0' } }, '3.4.0');
  t.equal(kept.config, undefined, 'already at the target: never rewritten');
  t.match(errors(kept.problems), [{ message: /kernelArguments cannot be applied/ }], 'in 3.4 kernelArguments is a field, and the daemon refuses it');
});

t.test('already at the target: validated, not rewritten', async (t) => {
  const docs = v32({ storage: { files: [{ path: '/etc/modprobe.d/sctp-blacklist.conf', mode: 420, overwrite: true, contents: { source: 'data:,' } }] } });
  const out = convertConfig(docs, '3.2.0');
  t.same(out, { from: '3.2.0', to: '3.2.0', config: undefined, problems: [] });
});

t.test('a 2.2.0 target: 2.2 configs stay, 3.x configs are written as 3.0.0', async (t) => {
  t.equal(outputVersion('2.2.0', '2.2.0'), '2.2.0');
  t.equal(outputVersion('3.2.0', '2.2.0'), '3.0.0');
  t.equal(outputVersion('2.2.0', '3.4.0'), '3.4.0');
  const v22 = { ignition: { version: '2.2.0' }, storage: { files: [{ filesystem: 'root', path: '/etc/x', mode: 644, contents: { source: 'data:,x' } }] } };
  const out = convertConfig(v22, '2.2.0');
  t.equal(out.config, undefined);
  t.match(errors(out.problems), [{ message: /invalid mode 01204 for \/etc\/x, cannot exceed 0777/ }], 'checked as the MCO converts it');
});

t.test('what Ignition refuses beyond the schema', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['duplicate path across files and directories', v32({ storage: { files: [{ path: '/etc/a', contents: { source: 'data:,' } }], directories: [{ path: '/etc/a' }] } }), /spec\.config\.storage has \/etc\/a more than once: Ignition 3 refuses duplicate entries/],
    ['duplicate unit', v32({ systemd: { units: [{ name: 'a.service' }, { name: 'a.service' }] } }), /systemd\.units has a\.service more than once/],
    ['duplicate dropin', v32({ systemd: { units: [{ name: 'a.service', dropins: [{ name: 'x.conf' }, { name: 'x.conf' }] }] } }), /dropins has x\.conf more than once/],
    ['overwrite without source', v32({ storage: { files: [{ path: '/etc/a', overwrite: true }] } }), /overwrite must be false if source is unspecified/],
    ['id and name', file({ user: { id: 0, name: 'root' } }), /sets both user\.id and user\.name/],
    ['malformed data URL', file({ contents: { source: 'data:,blacklist sctp' } }), /the data URL in contents of \/etc\/x is malformed: invalid data character/],
    ['malformed merged config URL', v32({ ignition: { version: '3.2.0', config: { merge: [{ source: 'data:;base64,c2N0cA' }] } } }), /ignition\.config\.merge\[0\] is malformed: invalid base64/],
  ];
  for (const [name, cfg, expected] of cases) {
    const out = convertConfig(cfg, '3.2.0');
    t.ok(errors(out.problems).some((p) => expected.test(p.message)), `${name}: ${out.problems.map((p) => p.message).join(' | ')}`);
  }
});

t.test('what the MCO and the machine-config daemon refuse, with their words and a fix', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp, RegExp]> = [
    ['mode 644 typed in decimal', file({ mode: 644 }), /invalid mode 01204 for \/etc\/x, cannot exceed 0777/, /644 reads as the octal mode 0644 typed in decimal: use 420 \(JSON\) or YAML 0644/],
    ['mode 0755 read as YAML 1.2', file({ mode: 755 }), /invalid mode 01363/, /use 493 \(JSON\) or YAML 0755/],
    ['setuid mode', file({ mode: 0o4755 }), /invalid mode 04755 for \/etc\/x, cannot exceed 0777/, /at most 511 \(0777\)/],
    ['non-core user', v32({ passwd: { users: [{ name: 'alice' }] } }), /non-core user/, /only the user core/],
    ['core user with a shell', v32({ passwd: { users: [{ name: 'core', shell: '/bin/zsh', sshAuthorizedKeys: ['k'] }] } }), /user core sets shell: .*not reconcilable/, /remove shell from user core/],
    ['groups', v32({ passwd: { groups: [{ name: 'sctp' }] } }), /ignition Passwd Groups section contains changes/, /install time/],
    ['disks', v32({ storage: { disks: [{ device: '/dev/sdb' }] } }), /ignition disks section contains changes/, /install time/],
    ['filesystems', v32({ storage: { filesystems: [{ device: '/dev/sdb', format: 'xfs', path: '/var/data' }] } }), /ignition filesystems section contains changes/, /install time/],
    ['raid', v32({ storage: { raid: [{ name: 'md0', level: 'raid1', devices: ['/dev/a', '/dev/b'] }] } }), /ignition raid section contains changes/, /install time/],
    ['directories', v32({ storage: { directories: [{ path: '/etc/sctp' }] } }), /ignition directories section contains changes/, /systemd unit/],
    ['links', v32({ storage: { links: [{ path: '/etc/l', target: '/etc/x' }] } }), /ignition links section contains changes/, /systemd unit/],
    ['append', v32({ storage: { files: [{ path: '/etc/motd', append: [{ source: 'data:,x' }] }] } }), /ignition file \/etc\/motd includes append/, /overwrite: true/],
    ['daemon force file', v32({ storage: { files: [{ path: '/run/machine-config-daemon-force', contents: { source: 'data:,' } }] } }), /cannot create \/run\/machine-config-daemon-force via Ignition/, /remove this file/],
    ['remote contents', file({ contents: { source: 'https://example.com/sctp.conf' } }), /come from https: URLs, but the machine-config daemon writes only inline data: URLs/, /inline the content/],
    ['gzip that is not gzip', file({ contents: { source: 'data:,sctp', compression: 'gzip' } }), /cannot be decoded by the machine-config daemon: gzip data does not decompress/, /gzip the bytes/],
    ['kernelArguments in 3.4', { ignition: { version: '3.4.0' }, kernelArguments: { shouldExist: ['a'] } }, /ignition kargs section contains changes/, /spec\.kernelArguments/],
  ];
  for (const [name, cfg, message, fix] of cases) {
    const version = (cfg.ignition as { version: '3.2.0' | '3.4.0' }).version;
    const hit = errors(convertConfig(cfg, version).problems).find((p) => message.test(p.message));
    t.ok(hit, `${name}: refused with the upstream reason`);
    t.match(hit?.fix, fix, `${name}: says how to fix it`);
    t.ok((hit?.short.length ?? 0) <= 62, `${name}: short form fits a warning line after the rule and object: ${hit?.short}`);
  }
  const gz = gzipSync(Buffer.from('sctp\n')).toString('base64');
  t.same(errors(convertConfig(file({ contents: { source: `data:;base64,${gz}`, compression: 'gzip' } }), '3.2.0').problems), [], 'real gzip is fine');
  t.same(errors(convertConfig(v32({ passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['k'], passwordHash: 'x' }] } }), '3.2.0').problems), [], 'core keys and password are applied');
});

t.test('warnings: what works but surprises', async (t) => {
  const modulesLoad = (source: string) => v32({ storage: { files: [{ path: '/etc/modules-load.d/sctp-load.conf', overwrite: true, mode: 420, contents: { source } }] } });
  t.match(warnings(convertConfig(modulesLoad('data:,sctp'), '3.2.0').problems), [{ message: /sctp-load\.conf does not end with a newline/, fix: /data:,sctp%0A/ }]);
  t.same(convertConfig(modulesLoad('data:,sctp%0A'), '3.2.0').problems, [], 'a trailing newline: nothing to say');
  t.same(convertConfig(modulesLoad('data:;base64,c2N0cAo='), '3.2.0').problems, [], 'base64 with a newline');
  t.match(warnings(convertConfig(modulesLoad('data:,sctp+dccp%0A'), '3.2.0').problems), [{ message: /contains "\+": data URLs decode it as a plus sign, not a space/ }]);
  t.match(warnings(convertConfig(modulesLoad('data:,%E9%0A'), '3.2.0').problems), [{ message: /declares charset US-ASCII but holds bytes that are not US-ASCII/ }]);
  t.match(warnings(convertConfig(modulesLoad('data:text/plain;charset=utf-8,%FF%0A'), '3.2.0').problems), [{ message: /declares charset utf-8/ }]);
  t.same(convertConfig(modulesLoad('data:text/plain;charset=utf-8,%C3%A9%0A'), '3.2.0').problems, [], 'valid UTF-8');
  t.same(convertConfig(v32({ storage: { files: [{ path: '/etc/other.conf', overwrite: true, contents: { source: 'data:,x' } }] } }), '3.2.0').problems, [], 'only modules-load.d wants the newline');
  t.match(warnings(convertConfig(file({ mode: 400 }), '3.2.0').problems), [{ message: /mode 400, which is 0620 in octal/, short: /meant 0400 \(256\)\?/ }]);
  t.same(warnings(convertConfig(file({ mode: 420 }), '3.2.0').problems), [], '420 is 0644');
});

t.test('which valid modes read like decimal', async (t) => {
  for (const mode of [400, 440, 444]) t.ok(readsLikeDecimal(mode), `${mode}`);
  for (const mode of [420, 384, 493, 256, 416, 436, 432, 448, 511, 0, 292, 365, 457, 500, 600, 644]) t.notOk(readsLikeDecimal(mode), `${mode}`);
});
