import t from 'tap';
import { gzipSync } from 'node:zlib';
import { analyzeSctp, machineConfigUnread, reduceMachineConfig } from '../../src/cluster/machineconfig.js';
import { elideLongStrings, parseElided } from '../../src/input/elided-strings.js';
import { docsFiles, filler, rendered, translated22, type IgnFile } from '../fixtures/cluster/builders.js';

const cfg = (files: IgnFile[], version = '3.2.0') => ({ ignition: { version }, storage: { files } });
const blacklist = (source: string, extra: Record<string, unknown> = {}): IgnFile => ({
  path: '/etc/modprobe.d/sctp-blacklist.conf',
  mode: 420,
  overwrite: true,
  contents: { source },
  ...extra,
});
const load = (
  source: string,
  path = '/etc/modules-load.d/sctp-load.conf',
  extra: Record<string, unknown> = {},
): IgnFile => ({ path, mode: 420, overwrite: true, contents: { source }, ...extra });

t.test('the docs MachineConfig merged into a rendered config carries SCTP, in both published forms', async (t) => {
  const v32 = analyzeSctp(cfg([...filler(3, 100), ...docsFiles('3.2.0')]), [], 'rendered-worker-1');
  t.same(v32, {
    carries: true,
    reason: 'rendered-worker-1 loads sctp and replaces /etc/modprobe.d/sctp-blacklist.conf',
  });
  // OpenShift 4.1–4.5 render 2.2.0: the 2.2.0 form lands verbatim (filesystem root, no overwrite).
  t.equal(
    analyzeSctp(cfg([...filler(1, 10), ...docsFiles('2.2.0')], '2.2.0'), []).carries,
    true,
    '2.2.0 rendered config',
  );
  // 4.6+: the MCO translates 2.2 to 3.x with overwrite: true and keeps the text/plain source.
  t.equal(
    analyzeSctp(cfg(translated22(docsFiles('2.2.0')), '3.4.0'), []).carries,
    true,
    '2.2.0 form translated into 3.4.0',
  );
});

t.test('a node with the blacklist still present does not carry SCTP, with the reason', async (t) => {
  const onlyLoad = analyzeSctp(cfg([load('data:,sctp')]), [], 'rendered-worker-9');
  t.equal(onlyLoad.carries, false);
  t.match(onlyLoad.reason, 'rendered-worker-9 keeps the RHCOS /etc/modprobe.d/sctp-blacklist.conf (blacklist sctp)');
  const stillBlacklisted = analyzeSctp(cfg([blacklist('data:,blacklist%20sctp%0A'), load('data:,sctp')]), []);
  t.equal(stillBlacklisted.carries, false);
  t.match(stillBlacklisted.reason, '/etc/modprobe.d/sctp-blacklist.conf has "blacklist sctp"');
  const noLoad = analyzeSctp(cfg([blacklist('data:,')]), [], 'rendered-x');
  t.same(noLoad, { carries: false, reason: 'no file under /etc/modules-load.d/ in rendered-x lists sctp' });
  const empty = analyzeSctp({}, [], 'rendered-y');
  t.equal(empty.carries, false);
  t.match(empty.reason, /keeps the RHCOS .*; no file under/);
});

t.test('other modprobe.d files and kernel arguments that disable sctp', async (t) => {
  const base = [blacklist('data:,'), load('data:,sctp')];
  for (const [content, found] of [
    ['install sctp /bin/false', 'install sctp /bin/false'],
    ['install   sctp /bin/true # disabled', 'install sctp /bin/true'],
    ['options x y\nblacklist sctp', 'blacklist sctp'],
  ] as const) {
    const r = analyzeSctp(
      cfg([...base, load(`data:,${encodeURIComponent(content)}`, '/etc/modprobe.d/99-hardening.conf')]),
      [],
    );
    t.equal(r.carries, false, content);
    t.match(r.reason, `/etc/modprobe.d/99-hardening.conf has "${found}"`);
  }
  t.equal(
    analyzeSctp(
      cfg([...base, load('data:,install%20sctp%20/sbin/modprobe%20--ignore-install%20sctp', '/etc/modprobe.d/x.conf')]),
      [],
    ).carries,
    true,
    'an install line that still loads the module',
  );
  t.equal(
    analyzeSctp(cfg([...base, load('data:,blacklist%20sctp', '/etc/modprobe.d/notes.txt')]), []).carries,
    true,
    'kmod reads only *.conf',
  );
  t.equal(
    analyzeSctp(cfg([...base, load('data:,blacklist%20sctp_diag', '/etc/modprobe.d/x.conf')]), []).carries,
    true,
    'another module',
  );
  const karg = analyzeSctp(cfg(base), ['nosmt', 'module_blacklist=dccp,sctp']);
  t.equal(karg.carries, false);
  t.match(karg.reason, 'kernel argument module_blacklist=dccp,sctp');
});

t.test('a gzip bomb: only the SCTP files are inflated, and those only up to the limit ("cannot tell")', async (t) => {
  const bomb = {
    source: `data:;base64,${gzipSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64')}`,
    compression: 'gzip',
  };
  const started = performance.now();
  const elsewhere = analyzeSctp(
    cfg([
      blacklist('data:,'),
      load('data:,sctp'),
      ...Array.from({ length: 20 }, (_, i) => load('', `/etc/bomb-${i}.bin`, { contents: bomb })),
    ]),
    [],
  );
  t.equal(elsewhere.carries, true, 'files no rule reads are not decoded');
  t.ok(performance.now() - started < 500, '20 bombs elsewhere cost nothing');
  const inBlacklist = analyzeSctp(
    cfg([blacklist('', { contents: bomb }), load('data:,sctp')]),
    [],
    'rendered-worker-b',
  );
  t.equal(inBlacklist.carries, 'unknown');
  t.match(
    inBlacklist.reason,
    /but cannot read \/etc\/modprobe.d\/sctp-blacklist.conf: undecodable data URL \(the gzip content inflates to more than 4 MiB/,
  );
});

t.test('millions of lines are scanned one at a time', async (t) => {
  const lines = `data:;base64,${gzipSync('\n'.repeat(4 * 1024 * 1024 - 5) + 'sctp').toString('base64')}`;
  const r = analyzeSctp(
    cfg([blacklist('data:,'), load(lines, undefined, { contents: { source: lines, compression: 'gzip' } })]),
    [],
  );
  t.equal(r.carries, true, 'sctp on the last of 4 million lines');
});

t.test('modules-load.d contents are decoded fully', async (t) => {
  const withBlacklist = (f: IgnFile) => cfg([blacklist('data:,'), f]);
  const gz = gzipSync('# SCTP for the RAN\nsctp\n').toString('base64');
  t.equal(
    analyzeSctp(
      withBlacklist(
        load(`data:;base64,${gz}`, undefined, { contents: { source: `data:;base64,${gz}`, compression: 'gzip' } }),
      ),
      [],
    ).carries,
    true,
    'gzip + base64',
  );
  t.equal(
    analyzeSctp(withBlacklist(load('data:text/plain;charset=utf-8;base64,c2N0cAo=')), []).carries,
    true,
    'base64',
  );
  t.equal(
    analyzeSctp(withBlacklist(load('data:,%23%20comment%0A%20sctp%20%0A')), []).carries,
    true,
    'comment and spaces',
  );
  t.equal(analyzeSctp(withBlacklist(load('data:,sctp_diag')), []).carries, false, 'a different module');
  t.equal(
    analyzeSctp(withBlacklist(load('data:,sctp', '/etc/modules-load.d/sctp-load')), []).carries,
    false,
    'systemd reads only *.conf',
  );
  t.equal(
    analyzeSctp(withBlacklist(load('data:,sctp', '/etc/modules-load.d/sctp.conf', { overwrite: undefined })), [])
      .carries,
    true,
    'rendered files without overwrite',
  );
  const remote = analyzeSctp(withBlacklist(load('https://example.com/modules.conf')), []);
  t.equal(remote.carries, 'unknown', 'a remote source cannot be read');
  t.match(remote.reason, 'content comes from https: URL');
  const bad = analyzeSctp(withBlacklist(load('data:,sctp load')), []);
  t.equal(bad.carries, 'unknown');
  t.match(bad.reason, 'undecodable data URL');
});

t.test('appending to the blacklist does not replace it; the last entry for a path wins', async (t) => {
  const appended22 = cfg(
    [
      { path: '/etc/modprobe.d/sctp-blacklist.conf', filesystem: 'root', append: true, contents: { source: 'data:,' } },
      load('data:,sctp'),
    ],
    '2.2.0',
  );
  t.equal(analyzeSctp(appended22, []).carries, false, '2.x append');
  const appended3 = cfg([
    { path: '/etc/modprobe.d/sctp-blacklist.conf', overwrite: false, append: [{ source: 'data:,%23%20ok' }] },
    load('data:,sctp'),
  ]);
  t.equal(analyzeSctp(appended3, []).carries, false, '3.x append without overwrite');
  const later = cfg([load('data:,sctp'), blacklist('data:,'), load('data:,dccp')]);
  t.equal(analyzeSctp(later, []).carries, false, 'a later entry for the same path replaced the sctp line');
});

t.test('reduceMachineConfig keeps a few fields of a large rendered config', async (t) => {
  const big = rendered('rendered-worker-7', 'worker', [...filler(40, 12_000), ...docsFiles('3.2.0')], '3.4.0');
  t.ok(JSON.stringify(big).length > 500_000, 'the input is the size of a real rendered config');
  const r = reduceMachineConfig(big as Record<string, unknown>);
  t.same(r, {
    metadata: { name: 'rendered-worker-7' },
    ignitionVersion: '3.4.0',
    pool: 'worker',
    rendered: true,
    sctp: { carries: true, reason: 'rendered-worker-7 loads sctp and replaces /etc/modprobe.d/sctp-blacklist.conf' },
  });
  t.ok(JSON.stringify(r).length < 300);
  const plain = reduceMachineConfig({
    metadata: { name: '99-x', labels: { 'machineconfiguration.openshift.io/role': 'infra' } },
    spec: {},
  });
  t.match(plain, { pool: 'infra', rendered: false });
  t.notOk('ignitionVersion' in plain);
});

t.test('a MachineConfig read with the contents it never reads left out reduces to the same record', async (t) => {
  const long = (text: string) => `data:,${encodeURIComponent(`${text}\n${'# padding\n'.repeat(300)}`)}`;
  const configs = [
    rendered('rendered-worker-7', 'worker', [...filler(40, 12_000), ...docsFiles('3.2.0')], '3.4.0'),
    rendered('rendered-worker-8', 'worker', [...filler(3, 5_000), ...docsFiles('2.2.0')], '2.2.0'),
    // The files that decide SCTP, each longer than what is left out: all of them must be read back.
    rendered('rendered-sctp-1', 'sctp', [
      ...filler(2, 5_000),
      blacklist(long('# no blacklist')),
      load(long('sctp')),
      { path: '/etc/modprobe.d/other.conf', overwrite: false, append: [{ source: long('install sctp /bin/false') }] },
    ]),
    rendered('rendered-sctp-2', 'sctp', [blacklist(long('')), load(long('dccp'))], '3.4.0', [
      `module_blacklist=${'x,'.repeat(600)}sctp`,
    ]),
  ];
  for (const mc of configs) {
    const text = JSON.stringify(mc);
    const parts = Array.from({ length: Math.ceil(text.length / 16_384) }, (_, i) =>
      text.slice(i * 16_384, (i + 1) * 16_384),
    );
    const { text: shorter, elided } = elideLongStrings(parts);
    const name = mc.metadata.name;
    t.ok(elided && shorter.length < text.length / 2, `${name}: most of the text left out`);
    const read = parseElided(shorter, elided, machineConfigUnread) as Record<string, unknown>;
    t.same(reduceMachineConfig(read), reduceMachineConfig(mc as Record<string, unknown>), name);
    const kept = JSON.stringify(read).match(/\\u0000elided/g)?.length ?? 0;
    const files = (mc.spec as { config: { storage: { files: IgnFile[] } } }).config.storage.files;
    t.equal(kept, files.filter((f) => f.path.startsWith('/etc/kubernetes/')).length, `${name}: only bulk left out`);
  }
});
