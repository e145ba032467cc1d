import t from 'tap';
import { KNOWN_RELEASES, mcoRelease, mcoReleaseOf, releaseLine } from '../../src/ignition/releases.js';

t.test('release lines from ClusterVersion versions', async (t) => {
  t.equal(releaseLine('4.14.8'), '4.14');
  t.equal(releaseLine('4.16.0-rc.2'), '4.16');
  t.equal(releaseLine('4.15.0-0.okd-2024-03-10-010116'), '4.15');
  t.equal(releaseLine('5.0.1'), '5.0');
  t.equal(releaseLine('v4.19'), '4.19');
  t.equal(releaseLine('latest'), undefined);
  t.equal(releaseLine(undefined), undefined);
});

t.test('per-release facts, as each release branch has them', async (t) => {
  t.same(mcoRelease('4.14').kernelTypes, ['default', 'realtime'], '4.14: no 64k-pages');
  t.same(mcoRelease('4.15.3').kernelTypeArchitectures, { '64k-pages': ['arm64'] });
  t.notOk(mcoRelease('4.17').extensions.includes('sysstat'));
  t.ok(mcoRelease('4.18').extensions.includes('sysstat'));
  t.ok(mcoRelease('4.19').extensions.includes('two-node-ha'));
  t.ok(mcoRelease('4.21').extensions.includes('wasm'));
  t.notOk(mcoRelease('4.22').extensions.includes('wasm'), 'wasm dropped in 4.22');
  t.same(
    KNOWN_RELEASES.map((r) => mcoRelease(r).extensionsCheckedBy),
    ['daemon', 'daemon', 'controller', 'controller', ...Array(7).fill('controller-with-config')],
  );
  t.same(
    KNOWN_RELEASES.filter((r) => mcoRelease(r).irreconcilableOverrides),
    ['4.20', '4.21', '4.22', '4.23', '5.0'],
  );
  t.same(
    KNOWN_RELEASES.filter((r) => mcoRelease(r).fipsCheckedBy === 'daemon'),
    ['4.14', '4.15'],
  );
  for (const r of KNOWN_RELEASES)
    t.match(
      mcoRelease(r).source,
      new RegExp(`^release-${r.replace('.', '\\.')}@[0-9a-f]{12}$`),
      `${r} names its branch`,
    );
});

t.test('an unknown release is an error naming the known ones; the rules read it as unknown', async (t) => {
  t.throws(() => mcoRelease('4.13'), {
    message:
      'unknown OpenShift release "4.13": the MCO\'s checks of kernelType, extensions and fips are known for 4.14, 4.15, 4.16, 4.17, 4.18, 4.19, 4.20, 4.21, 4.22, 4.23, 5.0',
  });
  t.throws(() => mcoRelease('next'), RangeError);
  t.equal(mcoReleaseOf('4.13.9'), undefined);
  t.equal(mcoReleaseOf(undefined), undefined);
  t.equal(mcoReleaseOf('4.16.3')?.release, '4.16');
});
