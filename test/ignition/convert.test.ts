import t from 'tap';
import { gzipSync } from 'node:zlib';
import { convertConfig, outputVersion } from '../../src/ignition/convert.js';
import type { Problem } from '../../src/ignition/problems.js';

const v32 = (rest: Record<string, unknown>) => ({ ignition: { version: '3.2.0' }, ...rest });
const file = (f: Record<string, unknown>) =>
  v32({ storage: { files: [{ path: '/etc/x', overwrite: true, contents: { source: 'data:,x' }, ...f }] } });
const errors = (problems: Problem[]) => problems.filter((p) => p.severity === 'error');
const warnings = (problems: Problem[]) => problems.filter((p) => p.severity === 'warning');

t.test('not a config, no version, unknown version', async (t) => {
  t.match(convertConfig('x', '3.2.0').problems, [{ severity: 'error', message: /spec\.config is not an object/ }]);
  t.match(convertConfig({}, '3.2.0').problems, [
    {
      severity: 'error',
      message: /no ignition\.version: the MCO refuses it \("parsing Ignition config failed: invalid version"\)/,
    },
  ]);
  // 2.0 and 2.1 are read by Ignition's v2_2 Parse (it falls back to v2_1/v2_0 and translates up); 2.3 is not.
  const unknown = convertConfig({ ignition: { version: '2.3.0' } }, '3.2.0');
  t.match(unknown.problems, [
    {
      severity: 'error',
      message:
        /"2\.3\.0" is not a spec version the MCO accepts \("unknown version"\); supported versions: 2\.0\.0, 2\.1\.0, 2\.2\.0, 3\.0\.0, 3\.1\.0, 3\.2\.0, 3\.3\.0, 3\.4\.0, 3\.5\.0/,
    },
  ]);
  t.equal(unknown.config, undefined);
  t.match(convertConfig({ ignition: { version: 3.2 } }, '3.2.0').problems[0]?.message, /ignition\.version 3\.2 is not/);
});

t.test('2.0 and 2.1 configs are read as Ignition v2_2 Parse reads them, and translated up', async (t) => {
  const files = [{ filesystem: 'root', path: '/etc/modules-load.d//sctp.conf', contents: { source: 'data:,sctp%0A' } }];
  for (const version of ['2.0.0', '2.1.0']) {
    const out = convertConfig({ ignition: { version }, storage: { files } }, '3.2.0');
    t.same(errors(out.problems), [], version);
    // TranslateFromV2_1: an absent mode becomes 0 (util.IntToPtr); ign-converter: path.Join cleans the path.
    t.same(
      (out.config as any).storage.files,
      [
        {
          path: '/etc/modules-load.d/sctp.conf',
          mode: 0,
          overwrite: true,
          ...(version === '2.0.0' ? { user: { id: 0 }, group: { id: 0 } } : {}),
          contents: { source: 'data:,sctp%0A' },
        },
      ],
      version,
    );
  }
  const v20 = convertConfig(
    { ignition: { version: '2.0.0' }, storage: { files: [{ ...files[0], overwrite: true }] } },
    '2.2.0',
  );
  t.match(
    warnings(v20.problems),
    [{ message: /overwrite is not a field of Ignition 2\.0\.0/ }],
    'a 2.2 field in a 2.0 config is ignored',
  );
  t.equal((v20.config as any).ignition.version, '2.2.0', 'a 2.2.0 target gets the 2.2 form');
  t.equal((v20.config as any).storage.files[0].overwrite, undefined);
});

t.test('schema errors are listed (at most five), with a count of the rest', async (t) => {
  const files = Array.from({ length: 8 }, (_, i) => ({ path: `relative/${i}` }));
  const out = convertConfig(v32({ storage: { files } }), '3.2.0');
  t.equal(errors(out.problems).length, 6);
  t.match(
    out.problems[0]?.message,
    /files\[0\]\.path must be an absolute path .*: Ignition 3\.2\.0 refuses the config, and so does the MCO/,
  );
  t.match(out.problems[5]?.message, /and 3 more schema errors/);
  t.equal(out.config, undefined, 'no rewrite of an invalid config');
});

t.test('unknown fields: a warning; dropped when the config is rewritten, kept when it is not', async (t) => {
  const cfg = {
    ignition: { version: '3.1.0' },
    kernelArguments: { shouldExist: ['x'] },
    storage: { files: [{ path: '/etc/a', overwrite: true, contents: { source: 'data:,a' }, filesystem: 'root' }] },
  };
  const rewritten = convertConfig(cfg, '3.4.0');
  t.same(errors(rewritten.problems), [], 'kernelArguments in a 3.1 config is ignored, never activated by the rewrite');
  t.same(rewritten.config, {
    ignition: { version: '3.4.0' },
    storage: { files: [{ path: '/etc/a', overwrite: true, contents: { source: 'data:,a' } }] },
  });
  // kernelArguments exists from 3.3 on: worth a word. `filesystem` is in no 3.x spec: the MCO drops it silently.
  t.same(
    warnings(rewritten.problems).map((p) => p.short),
    ['kernelArguments is not in Ignition 3.1.0; ignored'],
  );
  const kept = convertConfig({ ...cfg, ignition: { version: '3.4.0' } }, '3.4.0');
  t.equal(kept.config, undefined, 'already at the target: never rewritten');
  t.match(
    errors(kept.problems),
    [{ message: /kernelArguments cannot be applied/ }],
    'in 3.4 kernelArguments is a field, and the daemon refuses it',
  );
});

t.test('already at the target: validated, not rewritten', async (t) => {
  const docs = v32({
    storage: {
      files: [
        { path: '/etc/modprobe.d/sctp-blacklist.conf', mode: 420, overwrite: true, contents: { source: 'data:,' } },
      ],
    },
  });
  const out = convertConfig(docs, '3.2.0');
  t.same(out, { from: '3.2.0', to: '3.2.0', config: undefined, checked: docs, problems: [] });
});

t.test('a 2.2.0 target: 2.2 configs stay, 3.x configs are written as 3.0.0', async (t) => {
  t.equal(outputVersion('2.2.0', '2.2.0'), '2.2.0');
  t.equal(outputVersion('3.2.0', '2.2.0'), '3.0.0');
  t.equal(outputVersion('2.2.0', '3.4.0'), '3.4.0');
  const v22 = {
    ignition: { version: '2.2.0' },
    storage: { files: [{ filesystem: 'root', path: '/etc/x', mode: 644, contents: { source: 'data:,x' } }] },
  };
  const out = convertConfig(v22, '2.2.0');
  t.equal(out.config, undefined);
  t.match(
    errors(out.problems),
    [{ message: /invalid mode 01204 for \/etc\/x, cannot exceed 0777/ }],
    'checked as the MCO converts it',
  );
});

t.test('what Ignition refuses beyond the schema', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'duplicate path across files and directories',
      v32({
        storage: { files: [{ path: '/etc/a', contents: { source: 'data:,' } }], directories: [{ path: '/etc/a' }] },
      }),
      /spec\.config\.storage has \/etc\/a more than once: Ignition 3 refuses duplicate entries/,
    ],
    [
      'duplicate unit',
      v32({ systemd: { units: [{ name: 'a.service' }, { name: 'a.service' }] } }),
      /systemd\.units has a\.service more than once/,
    ],
    [
      'duplicate dropin',
      v32({ systemd: { units: [{ name: 'a.service', dropins: [{ name: 'x.conf' }, { name: 'x.conf' }] }] } }),
      /dropins has x\.conf more than once/,
    ],
    [
      'overwrite without source',
      v32({ storage: { files: [{ path: '/etc/a', overwrite: true }] } }),
      /overwrite must be false if source is unspecified/,
    ],
    ['id and name', file({ user: { id: 0, name: 'root' } }), /sets both user\.id and user\.name/],
    [
      'malformed data URL',
      file({ contents: { source: 'data:,blacklist sctp' } }),
      /the data URL in contents of \/etc\/x is malformed: invalid data character/,
    ],
    [
      'malformed merged config URL',
      v32({ ignition: { version: '3.2.0', config: { merge: [{ source: 'data:;base64,c2N0cA' }] } } }),
      /ignition\.config\.merge\[0\] is malformed: invalid base64/,
    ],
  ];
  for (const [name, cfg, expected] of cases) {
    const out = convertConfig(cfg, '3.2.0');
    t.ok(
      errors(out.problems).some((p) => expected.test(p.message)),
      `${name}: ${out.problems.map((p) => p.message).join(' | ')}`,
    );
  }
});

t.test('what the MCO and the machine-config daemon refuse, with their words and a fix', async (t) => {
  const cases: Array<[string, Record<string, unknown>, RegExp, RegExp]> = [
    [
      'mode 644 typed in decimal',
      file({ mode: 644 }),
      /invalid mode 01204 for \/etc\/x, cannot exceed 0777/,
      /644 reads as the octal mode 0644 typed in decimal: use 420 \(JSON\) or YAML 0644/,
    ],
    ['mode 0755 read as YAML 1.2', file({ mode: 755 }), /invalid mode 01363/, /use 493 \(JSON\) or YAML 0755/],
    [
      'setuid mode',
      file({ mode: 0o4755 }),
      /invalid mode 04755 for \/etc\/x, cannot exceed 0777/,
      /at most 511 \(0777\)/,
    ],
    ['non-core user', v32({ passwd: { users: [{ name: 'alice' }] } }), /non-core user/, /only the user core/],
    [
      'core user with a shell',
      v32({ passwd: { users: [{ name: 'core', shell: '/bin/zsh', sshAuthorizedKeys: ['k'] }] } }),
      /user core sets shell: .*not reconcilable/,
      /remove shell from user core/,
    ],
    [
      'groups',
      v32({ passwd: { groups: [{ name: 'sctp' }] } }),
      /ignition Passwd Groups section contains changes/,
      /install time/,
    ],
    [
      'disks',
      v32({ storage: { disks: [{ device: '/dev/sdb' }] } }),
      /ignition disks section contains changes/,
      /install time/,
    ],
    [
      'filesystems',
      v32({ storage: { filesystems: [{ device: '/dev/sdb', format: 'xfs', path: '/var/data' }] } }),
      /ignition filesystems section contains changes/,
      /install time/,
    ],
    [
      'raid',
      v32({ storage: { raid: [{ name: 'md0', level: 'raid1', devices: ['/dev/a', '/dev/b'] }] } }),
      /ignition raid section contains changes/,
      /install time/,
    ],
    [
      'directories',
      v32({ storage: { directories: [{ path: '/etc/sctp' }] } }),
      /ignition directories section contains changes/,
      /systemd unit/,
    ],
    [
      'links',
      v32({ storage: { links: [{ path: '/etc/l', target: '/etc/x' }] } }),
      /ignition links section contains changes/,
      /systemd unit/,
    ],
    [
      'append',
      v32({ storage: { files: [{ path: '/etc/motd', append: [{ source: 'data:,x' }] }] } }),
      /ignition file \/etc\/motd includes append/,
      /overwrite: true/,
    ],
    [
      'daemon force file',
      v32({ storage: { files: [{ path: '/run/machine-config-daemon-force', contents: { source: 'data:,' } }] } }),
      /cannot create \/run\/machine-config-daemon-force via Ignition/,
      /remove this file/,
    ],
    [
      'remote contents',
      file({ contents: { source: 'https://example.com/sctp.conf' } }),
      /come from https: URLs, but the machine-config daemon writes only inline data: URLs/,
      /inline the content/,
    ],
    [
      'gzip that is not gzip',
      file({ contents: { source: 'data:,sctp', compression: 'gzip' } }),
      /cannot be decoded by the machine-config daemon: gzip data does not decompress/,
      /gzip the bytes/,
    ],
    [
      'kernelArguments in 3.4',
      { ignition: { version: '3.4.0' }, kernelArguments: { shouldExist: ['a'] } },
      /ignition kargs section contains changes/,
      /spec\.kernelArguments/,
    ],
  ];
  for (const [name, cfg, message, fix] of cases) {
    const version = (cfg.ignition as { version: '3.2.0' | '3.4.0' }).version;
    const hit = errors(convertConfig(cfg, version).problems).find((p) => message.test(p.message));
    t.ok(hit, `${name}: refused with the upstream reason`);
    t.match(hit?.fix, fix, `${name}: says how to fix it`);
    t.ok(
      (hit?.short.length ?? 0) <= 62,
      `${name}: short form fits a warning line after the rule and object: ${hit?.short}`,
    );
  }
  const gz = gzipSync(Buffer.from('sctp\n')).toString('base64');
  t.same(
    errors(convertConfig(file({ contents: { source: `data:;base64,${gz}`, compression: 'gzip' } }), '3.2.0').problems),
    [],
    'real gzip is fine',
  );
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024)).toString('base64');
  const big = convertConfig(
    file({ contents: { source: `data:;base64,${bomb}`, compression: 'gzip' } }),
    '3.2.0',
  ).problems;
  t.same(errors(big), [], 'content too large to inflate is no error');
  t.match(
    big,
    [
      {
        severity: 'warning',
        message: /cannot tell whether the machine-config daemon can decode .*inflates to more than 4 MiB/,
      },
    ],
    'but a named "cannot tell"',
  );
  t.same(
    errors(
      convertConfig(
        v32({ passwd: { users: [{ name: 'core', sshAuthorizedKeys: ['k'], passwordHash: 'x' }] } }),
        '3.2.0',
      ).problems,
    ),
    [],
    'core keys and password are applied',
  );
});

t.test('no warnings for what Ignition writes as it is asked to', async (t) => {
  // Ignition writes the decoded bytes whatever the media type or charset says (internal/resource/url.go reads only
  // the data), systemd-modules-load reads a last line without a newline, and Butane itself writes `+` unescaped
  // (url.PathEscape) and gzip as `data:;base64,H4sI...`: none of these breaks on a node.
  const modulesLoad = (source: string, compression?: string) =>
    v32({
      storage: {
        files: [
          {
            path: '/etc/modules-load.d/sctp-load.conf',
            overwrite: true,
            mode: 420,
            contents: { source, ...(compression ? { compression } : {}) },
          },
        ],
      },
    });
  const gz = gzipSync(Buffer.from('sctp\n')).toString('base64');
  for (const [source, compression] of [
    ['data:,sctp'],
    ['data:,sctp%0A'],
    ['data:;base64,c2N0cAo='],
    ['data:,sctp+dccp%0A'],
    ['data:,%E9%0A'],
    ['data:text/plain;charset=utf-8,%FF%0A'],
    [`data:;base64,${gz}`, 'gzip'],
  ] as Array<[string, string?]>) {
    t.same(convertConfig(modulesLoad(source, compression), '3.2.0').problems, [], source.slice(0, 40));
  }
  t.same(
    convertConfig(file({ mode: 400 }), '3.2.0').problems,
    [],
    'mode 400 is a valid mode (0620): Ignition writes it',
  );
});

t.test('each problem points at the offending field of the config as it was written', async (t) => {
  const v22 = (rest: Record<string, unknown>) => ({ ignition: { version: '2.2.0' }, ...rest });
  const file22 = (path: string, f: Record<string, unknown> = {}) => ({
    filesystem: 'root',
    path,
    mode: 420,
    contents: { source: 'data:,x' },
    ...f,
  });
  const pointers = (config: unknown, short: RegExp) =>
    convertConfig(config, '3.2.0')
      .problems.filter((p) => short.test(p.short))
      .map((p) => p.pointer);
  const cases: Array<[string, unknown, RegExp, string[]]> = [
    ['not an object: spec.config itself', 'x', /not an object/, ['']],
    ['no version: the version', {}, /version is missing/, ['/ignition/version']],
    ['unknown version', { ignition: { version: '2.3.0' } }, /unknown Ignition version/, ['/ignition/version']],
    [
      'schema: a unit whose contents is not a string',
      v32({ systemd: { units: [{ name: 'a.service' }, { name: 'b.service', contents: 42 }] } }),
      /contents must be string/,
      ['/systemd/units/1/contents'],
    ],
    [
      'schema: a field of a newer spec',
      v32({
        storage: { files: [{ path: '/etc/x' }, { path: '/etc/y', contents: { source: 'data:,y' } }] },
        kernelArguments: {},
      }),
      /kernelArguments is not in Ignition 3\.2\.0/,
      ['/kernelArguments'],
    ],
    [
      'decimal mode, third file',
      v32({ storage: { files: [{ path: '/etc/a' }, { path: '/etc/b' }, { path: '/etc/c', mode: 644 }] } }),
      /mode 644/,
      ['/storage/files/2/mode'],
    ],
    [
      'a duplicate unit: the second one',
      v32({ systemd: { units: [{ name: 'a.service' }, { name: 'b.service' }, { name: 'a.service' }] } }),
      /more than once/,
      ['/systemd/units/2/name'],
    ],
    [
      'a duplicate path across files and directories',
      v32({ storage: { files: [{ path: '/etc/a' }], directories: [{ path: '/etc/a' }] } }),
      /more than once/,
      ['/storage/directories/0/path'],
    ],
    [
      'a directory on a running node: the first entry that is a change',
      v32({ storage: { directories: [{ path: '/etc/a' }] } }),
      /directories cannot be applied/,
      ['/storage/directories/0'],
    ],
    [
      'a user other than core',
      v32({ passwd: { users: [{ name: 'core' }, { name: 'alice' }] } }),
      /only user core/,
      ['/passwd/users/1/name'],
    ],
    [
      'a field of user core the daemon cannot change',
      v32({ passwd: { users: [{ name: 'core', shell: '/bin/zsh' }] } }),
      /only sshAuthorizedKeys/,
      ['/passwd/users/0/shell'],
    ],
    [
      'a malformed data URL',
      file({ contents: { source: 'data:x' } }),
      /malformed data URL/,
      ['/storage/files/0/contents/source'],
    ],
    // 2.2.0: found in the 3.0 form the MCO converts it to, pointed back at the input.
    [
      '2.2.0: decimal mode after a duplicate file was dropped',
      v22({
        storage: { files: [file22('/etc/a'), file22('/etc/b'), file22('/etc/a', { mode: 644 })] },
      }),
      /mode 644|given 2 times/,
      ['/storage/files/2/path', '/storage/files/2/mode'],
    ],
    [
      '2.2.0: an appended file from an https URL: its contents',
      v22({
        storage: { files: [file22('/etc/b'), file22('/etc/a', { append: true, contents: { source: 'https://x/a' } })] },
      }),
      /only data: URLs/,
      ['/storage/files/1/contents/source'],
    ],
    [
      '2.2.0: a malformed data URL in ignition.config.append',
      v22({ ignition: { version: '2.2.0', config: { append: [{ source: 'data:x' }] } } }),
      /malformed data URL/,
      ['/ignition/config/append/0/source'],
    ],
    [
      '2.2.0: a file on another filesystem, after a duplicate unit',
      v22({
        systemd: { units: [{ name: 'a.service' }, { name: 'a.service' }] },
        storage: { files: [file22('/etc/a'), file22('/etc/a'), file22('/etc/b', { filesystem: 'data' })] },
      }),
      /only root is mapped|given 2 times/,
      ['/storage/files/1/path', '/systemd/units/1/name', '/storage/files/2/filesystem'],
    ],
    [
      '2.2.0: user core merged into its last entry',
      v22({ passwd: { users: [{ name: 'core' }, { name: 'core', shell: '/bin/zsh' }] } }),
      /listed 2 times|only sshAuthorizedKeys/,
      ['/passwd/users/1', '/passwd/users/1/shell'],
    ],
  ];
  for (const [about, config, short, expected] of cases) t.same(pointers(config, short), expected, about);
});
