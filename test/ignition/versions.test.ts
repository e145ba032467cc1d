import t from 'tap';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import {
  firstReleaseRendering,
  renderedVersionOfRelease,
  resolveTarget,
  describeTarget,
} from '../../src/ignition/versions.js';

t.test('OpenShift release → rendered Ignition version', async (t) => {
  const table: Array<[string, string | undefined]> = [
    ['4.1.0', '2.2.0'],
    ['4.5.41', '2.2.0'],
    ['4.6.12', '3.1.0'],
    ['4.7.0', '3.2.0'],
    ['4.12.3', '3.2.0'],
    ['4.13.0-rc.2', '3.2.0'],
    ['4.14.1', '3.4.0'],
    ['4.18.9', '3.4.0'],
    ['4.19.0', '3.5.0'],
    ['4.22.1', '3.5.0'],
    ['v4.16', '3.4.0'],
    ['3.11.0', undefined],
    ['not-a-version', undefined],
    ['', undefined],
  ];
  for (const [release, expected] of table) t.equal(renderedVersionOfRelease(release), expected, release || '(empty)');
  t.equal(renderedVersionOfRelease(undefined), undefined);
});

t.test('the first release that renders a version', async (t) => {
  t.equal(firstReleaseRendering('3.1.0'), 'OpenShift 4.6');
  t.equal(firstReleaseRendering('3.2.0'), 'OpenShift 4.7');
  t.equal(firstReleaseRendering('3.3.0'), 'OpenShift 4.14', 'no release renders 3.3: the next one renders 3.4');
  t.equal(firstReleaseRendering('3.5.0'), 'OpenShift 4.19');
});

t.test('target: policy, then rendered configs, then the release, then 3.2.0', async (t) => {
  const snap = { ...EMPTY_SNAPSHOT, renderedIgnitionVersion: '3.4.0', openshiftVersion: '4.12.3' };
  t.same(resolveTarget('3.1.0', snap), { version: '3.1.0', source: 'policy' });
  t.same(resolveTarget('auto', snap), { version: '3.4.0', source: 'rendered' });
  t.same(resolveTarget('auto', { ...snap, renderedIgnitionVersion: undefined }), {
    version: '3.2.0',
    source: 'release',
  });
  t.same(
    resolveTarget('auto', { ...snap, renderedIgnitionVersion: '9.9.9', openshiftVersion: '4.19.2' }),
    { version: '3.5.0', source: 'release' },
    'an unknown rendered version is ignored',
  );
  t.same(resolveTarget('auto', EMPTY_SNAPSHOT), { version: '3.2.0', source: 'default' });
  t.match(
    describeTarget(resolveTarget('auto', { ...snap, renderedIgnitionVersion: undefined }), snap),
    /3\.2\.0 \(what OpenShift 4\.12\.3 renders\)/,
  );
  t.match(describeTarget(resolveTarget('auto', EMPTY_SNAPSHOT), EMPTY_SNAPSHOT), /documentation's version/);
});
