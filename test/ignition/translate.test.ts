import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPath } from '../../src/ignition/paths.js';
import { translateV22ToV30 } from '../../src/ignition/translate-v22.js';
import { translateV3 } from '../../src/ignition/translate-v3.js';
import { validateConfig } from '../../src/ignition/validate.js';
import { SPEC_VERSIONS, type SpecVersion } from '../../src/ignition/versions.js';
import { repoPath } from '../helpers/repo.js';

/** Golden files: test/fixtures/ignition/<direction>/<case>.json with input, target, expected config and problems. */
interface Golden {
  about: string;
  from?: SpecVersion;
  target: SpecVersion;
  input: Record<string, unknown>;
  expected: Record<string, unknown> | null;
  problems: string[];
}

function goldens(direction: string): Array<[string, Golden]> {
  const dir = repoPath('test/fixtures/ignition', direction);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [f, JSON.parse(readFileSync(join(dir, f), 'utf8')) as Golden]);
}

function v22ToTarget(input: Record<string, unknown>, target: SpecVersion) {
  const v30 = translateV22ToV30(input);
  if (!v30.config) return v30;
  const up = translateV3(v30.config, '3.0.0', target);
  return { config: up.config, problems: [...v30.problems, ...up.problems] };
}

const directions: Array<[string, (g: Golden) => ReturnType<typeof translateV3>]> = [
  ['v22-to-v3', (g) => v22ToTarget(g.input, g.target)],
  ['v3-up', (g) => translateV3(g.input, g.from!, g.target)],
  ['v3-down', (g) => translateV3(g.input, g.from!, g.target)],
];

for (const [direction, run] of directions) {
  t.test(`golden ${direction}`, async (t) => {
    const cases = goldens(direction);
    t.ok(cases.length >= 2, 'has golden files');
    for (const [file, g] of cases) {
      t.same(validateConfig(g.input, g.from ?? '2.2.0'), [], `${file}: the input is valid for its version`);
      const out = run(g);
      t.same(out.config ?? null, g.expected, `${file}: ${g.about}`);
      t.same(out.problems.map((p) => p.short).sort(), [...g.problems].sort(), `${file}: problems`);
      if (g.expected)
        t.same(validateConfig(out.config, g.target), [], `${file}: the result is valid Ignition ${g.target}`);
    }
  });
}

t.test('translation never changes its input', async (t) => {
  for (const direction of ['v22-to-v3', 'v3-down']) {
    for (const [file, g] of goldens(direction)) {
      const before = structuredClone(g.input);
      (direction === 'v22-to-v3'
        ? v22ToTarget
        : (i: Record<string, unknown>, target: SpecVersion) => translateV3(i, g.from!, target))(g.input, g.target);
      t.same(g.input, before, file);
    }
  }
});

t.test('round trips: every 2.2 golden input translates to a schema-valid config of every 3.x version', async (t) => {
  for (const [file, g] of goldens('v22-to-v3')) {
    for (const target of SPEC_VERSIONS.filter((v) => v !== '2.2.0')) {
      const out = v22ToTarget(g.input, target);
      t.same(validateConfig(out.config, target), [], `${file} → ${target}`);
      // And back down to 3.0.0: nothing newer than 3.0 was set, so it comes back the same.
      const down = translateV3(out.config!, target, '3.0.0');
      t.same(down.config, translateV22ToV30(g.input).config, `${file} → ${target} → 3.0.0`);
    }
  }
});

t.test('2.2 fields with no 3.x form are refused, naming the field', async (t) => {
  const base = { ignition: { version: '2.2.0' } };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'networkd',
      { networkd: { units: [{ name: '10-eth0.network', contents: '[Match]\nName=eth0\n' }] } },
      /spec\.config\.networkd has no Ignition 3 form/,
    ],
    [
      'non-root filesystem',
      { storage: { filesystems: [{ name: 'var', mount: { device: '/dev/sdb', format: 'xfs' } }] } },
      /spec\.config\.storage\.filesystems\[0\] \("var"\) has no Ignition 3 form/,
    ],
    [
      'file on another filesystem',
      { storage: { files: [{ filesystem: 'var', path: '/x', contents: { source: 'data:,' } }] } },
      /\/x in spec\.config\.storage\.files is on filesystem "var"/,
    ],
    [
      'partition size in sectors',
      { storage: { disks: [{ device: '/dev/sdb', partitions: [{ number: 1, size: 2048 }] }] } },
      /spec\.config\.storage\.disks\[0\]\.partitions\[0\]\.size \(in sectors\)/,
    ],
    [
      'user create',
      { passwd: { users: [{ name: 'core', create: { shell: '/bin/bash' } }] } },
      /spec\.config\.passwd\.users\[0\]\.create is deprecated/,
    ],
    [
      'user other than core',
      { passwd: { users: [{ name: 'core' }, { name: 'alice' }] } },
      /unexpected user with name: alice\. Only core user is supported/,
    ],
  ];
  for (const [name, extra, expected] of cases) {
    const input = { ...base, ...extra };
    t.same(validateConfig(input, '2.2.0'), [], `${name}: valid 2.2`);
    const out = translateV22ToV30(input);
    t.equal(out.config, undefined, `${name}: no translation`);
    t.match(out.problems.find((p) => p.severity === 'error')?.message, expected, name);
  }
  const rootOnly = translateV22ToV30({ ...base, storage: { filesystems: [{ name: 'root', path: '/sysroot' }] } });
  t.same(rootOnly.config, { ignition: { version: '3.0.0' } }, 'the root filesystem is implied in 3.x: dropped');
});

t.test('3.x upward keeps every field, and 3.x downward to the same version is the identity', async (t) => {
  const cfg = {
    ignition: { version: '3.2.0' },
    storage: { luks: [{ name: 'l', device: '/dev/sdb', clevis: { tpm2: true } }] },
  };
  t.same(translateV3(cfg, '3.2.0', '3.5.0').config, { ...cfg, ignition: { version: '3.5.0' } });
  t.same(translateV3(cfg, '3.2.0', '3.2.0').config, cfg);
  const back = translateV3({ ...cfg, ignition: { version: '3.5.0' } }, '3.5.0', '3.2.0');
  t.same(back.config, cfg, 'luks is a 3.2 field: it survives 3.5 → 3.2');
  t.match(
    translateV3(cfg, '3.2.0', '3.1.0').problems[0]?.message,
    /storage\.luks exists only from Ignition 3\.2\.0, and the target version is 3\.1\.0/,
  );
});

t.test('kernelArguments newer than the target say where they belong', async (t) => {
  const out = translateV3(
    { ignition: { version: '3.4.0' }, kernelArguments: { shouldExist: ['a=b'] } },
    '3.4.0',
    '3.2.0',
  );
  t.match(out.problems[0]?.fix, /spec\.kernelArguments of the MachineConfig/);
});

t.test('what 3.4 relaxed is refused below it, with the rule that applies there', async (t) => {
  const out = translateV3(
    {
      ignition: { version: '3.4.0' },
      storage: { files: [{ path: '/x', contents: { source: 'gs://b/o' } }], raid: [{ name: 'md0' }] },
    },
    '3.4.0',
    '3.1.0',
  );
  t.same(out.config, undefined);
  const messages = out.problems.map((p) => p.message);
  t.equal(messages.length, 3, messages.join(' | '));
  for (const expected of [
    /spec\.config\.storage\.raid\[0\]\.level is required before Ignition 3\.4\.0, and the target version is 3\.1\.0/,
    /spec\.config\.storage\.raid\[0\]\.devices is required before Ignition 3\.4\.0/,
    /spec\.config\.storage\.files\[0\]\.contents\.source must be a URL with scheme data, http\(s\), tftp, s3 \(got "gs:\/\/b\/o"\) before Ignition 3\.2\.0, and the target version is 3\.1\.0/,
  ]) {
    t.ok(
      messages.some((m) => expected.test(m)),
      String(expected),
    );
  }
});

t.test('2.x paths come out as Go path.Join cleans them (ign-converter translateNode)', async (t) => {
  const cases: Array<[string, string]> = [
    ['/etc/modules-load.d//sctp.conf', '/etc/modules-load.d/sctp.conf'],
    ['/etc/./modprobe.d/sctp-blacklist.conf', '/etc/modprobe.d/sctp-blacklist.conf'],
    ['/etc/x/../y/', '/etc/y'],
    ['/../etc', '/etc'],
    ['/', '/'],
  ];
  for (const [dirty, clean] of cases) t.equal(cleanPath(dirty), clean, dirty);
});
