import t from 'tap';
import { validateConfig } from '../../src/ignition/validate.js';
import { SPEC_VERSIONS } from '../../src/ignition/versions.js';

const docsFiles = [
  { path: '/etc/modprobe.d/sctp-blacklist.conf', mode: 420, overwrite: true, contents: { source: 'data:,' } },
  { path: '/etc/modules-load.d/sctp-load.conf', mode: 420, overwrite: true, contents: { source: 'data:,sctp' } },
];

t.test('the documentation config is valid in every 3.x version; the 2.2 form in 2.2.0', async (t) => {
  for (const version of SPEC_VERSIONS.filter((v) => v !== '2.2.0')) {
    t.same(validateConfig({ ignition: { version }, storage: { files: docsFiles } }, version), [], version);
  }
  const v22 = {
    ignition: { version: '2.2.0' },
    storage: { files: docsFiles.map(({ overwrite: _, ...f }) => ({ ...f, filesystem: 'root' })) },
  };
  t.same(validateConfig(v22, '2.2.0'), []);
  t.match(validateConfig({ ignition: { version: '3.2.0' }, storage: { files: docsFiles } }, '2.2.0'), [
    { kind: 'invalid', message: /spec\.config\.ignition\.version must be one of "2\.2\.0"/ },
  ]);
});

t.test('Go validator rules carried by the schemas', async (t) => {
  const file = (f: Record<string, unknown>) => ({
    ignition: { version: '3.2.0' },
    storage: { files: [{ path: '/etc/x', ...f }] },
  });
  const cases: Array<[string, unknown, RegExp]> = [
    [
      'relative path',
      { ignition: { version: '3.2.0' }, storage: { files: [{ path: 'etc/x' }] } },
      /files\[0\]\.path must be an absolute path/,
    ],
    [
      'unclean path',
      { ignition: { version: '3.2.0' }, storage: { files: [{ path: '/etc/../x' }] } },
      /files\[0\]\.path must be an absolute path without/,
    ],
    [
      'trailing slash',
      { ignition: { version: '3.2.0' }, storage: { directories: [{ path: '/etc/x/' }] } },
      /directories\[0\]\.path/,
    ],
    ['mode above 07777', file({ mode: 0o10000 }), /mode must be a decimal mode from 0 to 4095/],
    [
      'mode as a string',
      file({ mode: '0644' }),
      /mode must be integer,null \(got "0644"\)|mode must be integer or null/,
    ],
    [
      'unknown scheme',
      file({ contents: { source: 'ftp://x/y' } }),
      /contents\.source must be a URL with scheme data, http\(s\), tftp, s3, gs \(got "ftp:\/\/x\/y"\)/,
    ],
    [
      'compression',
      file({ contents: { source: 'data:,x', compression: 'xz' } }),
      /compression must be "gzip" or empty/,
    ],
    [
      'hash',
      file({ contents: { source: 'data:,x', verification: { hash: 'md5-abc' } } }),
      /verification\.hash must be sha512-<128 hex digits> or sha256-<64 hex digits>/,
    ],
    [
      'unit name',
      { ignition: { version: '3.2.0' }, systemd: { units: [{ name: 'sctp' }] } },
      /units\[0\]\.name must be a unit name ending in a systemd unit type/,
    ],
    [
      'dropin name',
      { ignition: { version: '3.2.0' }, systemd: { units: [{ name: 'a.service', dropins: [{ name: 'x' }] }] } },
      /dropins\[0\]\.name must be a drop-in name ending in \.conf/,
    ],
    [
      'missing path',
      { ignition: { version: '3.2.0' }, storage: { files: [{ mode: 420 }] } },
      /spec\.config\.storage\.files\[0\]\.path is required in Ignition 3\.2\.0/,
    ],
    ['missing version', { ignition: {} }, /spec\.config\.ignition\.version is required/],
  ];
  for (const [name, config, expected] of cases) {
    const issues = validateConfig(config, '3.2.0');
    t.ok(
      issues.some((i) => i.kind === 'invalid' && expected.test(i.message)),
      `${name}: ${issues.map((i) => i.message).join(' | ')}`,
    );
  }
});

t.test('fields are gated on the version that added them', async (t) => {
  const unknownIn = (config: Record<string, unknown>, version: (typeof SPEC_VERSIONS)[number]) =>
    validateConfig({ ignition: { version }, ...config }, version)
      .filter((i) => i.kind === 'unknown-field')
      .map((i) => i.pointer);
  t.same(unknownIn({ storage: { luks: [] } }, '3.1.0'), ['/storage/luks'], 'luks: 3.2');
  t.same(unknownIn({ storage: { luks: [] } }, '3.2.0'), []);
  t.same(unknownIn({ kernelArguments: {} }, '3.2.0'), ['/kernelArguments'], 'kernelArguments: 3.3');
  t.same(unknownIn({ kernelArguments: {} }, '3.3.0'), []);
  t.same(
    unknownIn({ storage: { luks: [{ name: 'a', cex: { enabled: true } }] } }, '3.4.0'),
    ['/storage/luks/0/cex'],
    'cex: 3.5',
  );
  t.same(unknownIn({ storage: { luks: [{ name: 'a', cex: { enabled: true } }] } }, '3.5.0'), []);
  t.same(unknownIn({ ignition: { version: '3.0.0', proxy: {} } }, '3.0.0'), ['/ignition/proxy'], 'proxy: 3.1');
  const gs = { storage: { files: [{ path: '/x', contents: { source: 'gs://b/o' } }] } };
  t.equal(validateConfig({ ignition: { version: '3.1.0' }, ...gs }, '3.1.0')[0]?.kind, 'invalid', 'gs:// is 3.2');
  t.same(validateConfig({ ignition: { version: '3.2.0' }, ...gs }, '3.2.0'), []);
  const none = { storage: { filesystems: [{ device: '/dev/sdb', format: 'none' }] } };
  t.equal(
    validateConfig({ ignition: { version: '3.2.0' }, ...none }, '3.2.0')[0]?.kind,
    'invalid',
    'format none is 3.3',
  );
  t.same(validateConfig({ ignition: { version: '3.3.0' }, ...none }, '3.3.0'), []);
  const raidNoLevel = { storage: { raid: [{ name: 'md0' }] } };
  t.match(
    validateConfig({ ignition: { version: '3.3.0' }, ...raidNoLevel }, '3.3.0')[0]?.message,
    /raid\[0\]\.level is required/,
  );
  t.same(
    validateConfig({ ignition: { version: '3.4.0' }, ...raidNoLevel }, '3.4.0'),
    [],
    'raid level optional from 3.4',
  );
  const sha256 = {
    storage: {
      files: [{ path: '/x', contents: { source: 'data:,', verification: { hash: `sha256-${'a'.repeat(64)}` } } }],
    },
  };
  t.equal(validateConfig({ ignition: { version: '3.0.0' }, ...sha256 }, '3.0.0')[0]?.kind, 'invalid', 'sha256 is 3.1');
  t.same(validateConfig({ ignition: { version: '3.1.0' }, ...sha256 }, '3.1.0'), []);
});

t.test('2.2.0 has its own shape', async (t) => {
  const base = { ignition: { version: '2.2.0' } };
  t.match(validateConfig({ ...base, storage: { files: [{ path: '/x' }] } }, '2.2.0'), [
    { message: /files\[0\]\.filesystem is required in Ignition 2\.2\.0/ },
  ]);
  t.same(
    validateConfig(
      {
        ...base,
        networkd: { units: [{ name: 'a.network' }] },
        systemd: { units: [{ name: 'a.service', enable: true }] },
      },
      '2.2.0',
    ),
    [],
  );
  t.same(
    validateConfig(
      { ...base, storage: { files: [{ filesystem: 'root', path: '/x', overwrite: true, contents: {} }] } },
      '3.2.0',
    )
      .map((i) => i.kind)
      .sort(),
    ['invalid', 'unknown-field'],
    'a 2.2 file in a 3.x config: filesystem unknown, version wrong',
  );
});
