/**
 * A 4.18 cluster (rendered 3.4.0) upgraded to 4.19 (3.5.0), step by step, as the MCO moves through it
 * (openshift/machine-config-operator): the CVO moves ClusterVersion's desired version; the new
 * machine-config-controller starts and its template, kubelet-config and container-runtime-config controllers
 * rewrite their configs in the new controller's Ignition version (ctrlcommon.NewIgnConfig: ign3types MaxVersion)
 * with the new version hash; the render controller re-renders each pool only once every generated config carries
 * its hash (render_controller.go, OCPBUGS-3821); the daemon rolls the pools to the new rendered configs.
 * At each step the MCO's own writes pass untouched (as serve, with the controller's username, and as check/audit
 * read them), and a user's MachineConfig comes out in a version every controller that may read it accepts:
 * the old one (IgnParseWrapper of release-4.18: 2.x, 3.0-3.4) until the new one runs, the new one (release-4.19:
 * 2.x, 3.0-3.5) from then on; and a config is never translated down once the running controller reads it.
 */
import t from 'tap';
import fastJsonPatch from 'fast-json-patch';
import { review } from '../../src/admission/review.js';
import { GENERATED_BY_ANNOTATION } from '../../src/cluster/machineconfig.js';
import { reduce } from '../../src/cluster/records.js';
import type { ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { ClusterState } from '../../src/cluster/state.js';
import { Engine } from '../../src/engine/engine.js';
import { MCO_SERVICE_ACCOUNTS } from '../../src/engine/platform-owned.js';
import { reviewObject } from '../../src/engine/review-object.js';
import type { KubeObject } from '../../src/engine/types.js';
import {
  compareVersions,
  isSpecVersion,
  newestReadByRelease,
  renderedVersionOfRelease,
} from '../../src/ignition/versions.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { admissionReview } from '../helpers/admission.js';

const MCO = 'machineconfiguration.openshift.io';
const HASH = { '4.18': '0a418c0ffee', '4.19': '0b419decaf' } as const;
type Release = keyof typeof HASH;

/** What a release's controller reads: 2.x, and 3.x up to its IgnParseWrapper's newest (per release branch). */
function reads(release: Release, version: string): boolean {
  if (version.startsWith('2.')) return true;
  const newest = newestReadByRelease(release)!;
  return isSpecVersion(version) && compareVersions(version, newest) <= 0;
}

const ign = (version: string, path: string) => ({
  ignition: { version },
  storage: { files: [{ path, contents: { source: 'data:,x' }, mode: 420, overwrite: true }] },
});

/** The generated configs of the worker pool, as the controller of `release` writes them. */
function generated(release: Release): KubeObject[] {
  const version = renderedVersionOfRelease(release)!;
  const owner = (kind: string, name: string) => [
    { apiVersion: `${MCO}/v1`, kind, name, uid: `uid-${name}`, controller: true, blockOwnerDeletion: true },
  ];
  const mc = (name: string, ownerReferences?: NonNullable<KubeObject['metadata']>['ownerReferences']): KubeObject => ({
    apiVersion: `${MCO}/v1`,
    kind: 'MachineConfig',
    metadata: {
      name,
      labels: { [`${MCO}/role`]: 'worker' },
      annotations: { [GENERATED_BY_ANNOTATION]: HASH[release] },
      ...(ownerReferences ? { ownerReferences } : {}),
    },
    spec: { config: ign(version, `/etc/${name}`) },
  });
  return [
    mc('00-worker', owner('ControllerConfig', 'machine-config-controller')),
    mc('01-worker-container-runtime', owner('ControllerConfig', 'machine-config-controller')),
    mc('01-worker-kubelet', owner('ControllerConfig', 'machine-config-controller')),
    mc('97-worker-generated-kubelet'),
    mc('98-worker-generated-kubelet'),
    mc('99-worker-generated-kubelet', owner('KubeletConfig', 'set-max-pods')),
    mc('99-worker-generated-containerruntime', owner('ContainerRuntimeConfig', 'pids-limit')),
    mc('99-worker-generated-registries', [
      { apiVersion: 'config.openshift.io/v1', kind: 'Image', name: 'cluster', uid: 'uid-image' },
    ]),
  ];
}

function rendered(release: Release): KubeObject {
  const version = renderedVersionOfRelease(release)!;
  return {
    apiVersion: `${MCO}/v1`,
    kind: 'MachineConfig',
    metadata: {
      name: `rendered-worker-${HASH[release]}`,
      annotations: { [GENERATED_BY_ANNOTATION]: HASH[release], [`${MCO}/release-image-version`]: `${release}.0` },
      ownerReferences: [
        {
          apiVersion: `${MCO}/v1`,
          kind: 'MachineConfigPool',
          name: 'worker',
          uid: 'uid-worker',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { config: ign(version, '/etc/rendered') },
  };
}

function pool(target: Release, current: Release): KubeObject {
  return {
    apiVersion: `${MCO}/v1`,
    kind: 'MachineConfigPool',
    metadata: { name: 'worker' },
    spec: {
      configuration: { name: `rendered-worker-${HASH[target]}` },
      machineConfigSelector: { matchLabels: { [`${MCO}/role`]: 'worker' } },
      nodeSelector: { matchLabels: { 'node-role.kubernetes.io/worker': '' } },
    },
    status: {
      configuration: { name: `rendered-worker-${HASH[current]}` },
      machineCount: 3,
      updatedMachineCount: target === current ? 3 : 1,
    },
  };
}

interface Step {
  name: string;
  desired: string;
  /** The controller that runs: the one whose writes the step makes. */
  running: Release;
  /** Controllers that may read a config written at this step: the running one and every one after it. */
  readers: Release[];
  objects: KubeObject[];
}

const cv = (version: string): KubeObject => ({
  apiVersion: 'config.openshift.io/v1',
  kind: 'ClusterVersion',
  metadata: { name: 'version' },
  status: { desired: { version } },
});

const STEPS: Step[] = [
  {
    name: '4.18, settled',
    desired: '4.18.10',
    running: '4.18',
    readers: ['4.18', '4.19'],
    objects: [cv('4.18.10'), ...generated('4.18'), rendered('4.18'), pool('4.18', '4.18')],
  },
  {
    name: 'ClusterVersion desired moves to 4.19; the old controller still runs',
    desired: '4.19.0',
    running: '4.18',
    readers: ['4.18', '4.19'],
    objects: [cv('4.19.0'), ...generated('4.18'), rendered('4.18'), pool('4.18', '4.18')],
  },
  {
    name: 'the new controller writes its configs at 3.5.0; pools not re-rendered',
    desired: '4.19.0',
    running: '4.19',
    readers: ['4.19'],
    objects: [cv('4.19.0'), ...generated('4.19'), rendered('4.18'), pool('4.18', '4.18')],
  },
  {
    name: 'pools re-render at 3.5.0 and roll',
    desired: '4.19.0',
    running: '4.19',
    readers: ['4.19'],
    objects: [cv('4.19.0'), ...generated('4.19'), rendered('4.18'), rendered('4.19'), pool('4.19', '4.18')],
  },
  {
    name: '4.19, settled',
    desired: '4.19.0',
    running: '4.19',
    readers: ['4.19'],
    objects: [cv('4.19.0'), ...generated('4.19'), rendered('4.19'), pool('4.19', '4.19')],
  },
];

function snapshotOf(step: Step): ClusterSnapshot {
  const state = new ClusterState();
  for (const o of step.objects)
    state.upsert(o.kind as 'MachineConfig', reduce(o.kind as 'MachineConfig', o as Record<string, unknown>));
  return { ...state.build('offline', true), ageSeconds: 0, stale: false };
}

const engine = new Engine(ALL_RULES, defaultPolicy());
const versionOf = (o: KubeObject) => String((o.spec as any).config.ignition.version);

function user(version: string): KubeObject {
  const config =
    version === '2.2.0'
      ? {
          ignition: { version },
          storage: {
            files: [
              {
                filesystem: 'root',
                path: '/etc/modules-load.d/sctp-load.conf',
                contents: { source: 'data:,sctp' },
                mode: 420,
              },
            ],
          },
        }
      : ign(version, '/etc/modules-load.d/sctp-load.conf');
  return {
    apiVersion: `${MCO}/v1`,
    kind: 'MachineConfig',
    metadata: { name: '99-worker-load-sctp', labels: { [`${MCO}/role`]: 'worker' } },
    spec: { config },
  };
}

t.test(
  '4.18 → 4.19, step by step: the MCO is never patched, the user is never refused, nothing goes back and forth',
  async (t) => {
    // The user's config as the cluster stores it, re-applied at every step (a GitOps sync): versions only move forward.
    const stored = new Map<string, KubeObject>();
    for (const step of STEPS) {
      const snapshot = snapshotOf(step);
      t.equal(
        snapshot.controllerIgnitionVersion,
        renderedVersionOfRelease(step.running),
        `${step.name}: the running controller's version is known`,
      );
      for (const own of [
        ...generated(step.running),
        ...step.objects.filter((o) => o.metadata?.name?.startsWith('rendered-')),
      ]) {
        const name = `${step.name}: ${own.metadata!.name} at ${versionOf(own)}`;
        const offline = reviewObject(engine, snapshot, own);
        t.same([offline.patch, offline.allowed], [[], true], `${name} (check/audit)`);
        t.match(offline.skipped, /Machine Config Operator's own/);
        const served = review(
          admissionReview(own, { operation: 'UPDATE', oldObject: own }) as never,
          engine,
          snapshot,
          'mutate',
        );
        t.same([served.review.response.allowed, served.review.response.patch], [true, undefined], `${name} (serve)`);
        const body = admissionReview(own) as any;
        body.request.userInfo.username = MCO_SERVICE_ACCOUNTS[0];
        t.match(
          review(body, engine, snapshot, 'mutate').decision.skipped,
          /written by system:serviceaccount:openshift-machine-config-operator:machine-config-controller/,
        );
      }
      for (const version of ['2.2.0', '3.2.0', '3.4.0', '3.5.0']) {
        const name = `${step.name}: user config written at ${version}`;
        const created = reviewObject(engine, snapshot, user(version));
        t.ok(created.allowed, `${name}: admitted`);
        const out = versionOf(created.object);
        for (const r of step.readers) t.ok(reads(r, out), `${name}: stored at ${out}, which the ${r} controller reads`);
        if (created.patch.length > 0 && compareVersions(out as never, version as never) < 0) {
          t.notOk(
            reads(step.running, version),
            `${name}: translated down only because the running controller would refuse ${version}`,
          );
        }
        // Re-applied to what the cluster stored at the previous step: never rewritten to an older version.
        const before = stored.get(version);
        if (before) {
          const again = reviewObject(engine, snapshot, before, before);
          t.ok(again.allowed, `${name}: the stored object re-applied is admitted`);
          t.ok(
            compareVersions(versionOf(again.object) as never, versionOf(before) as never) >= 0,
            `${name}: ${versionOf(before)} → ${versionOf(again.object)}, never down`,
          );
          stored.set(version, again.object);
        } else stored.set(version, created.object);
        // Idempotent: what sctp-guard wrote is what it writes again.
        t.same(
          reviewObject(engine, snapshot, created.object, created.object).patch,
          [],
          `${name}: its own output is left as it is`,
        );
      }
    }
    t.equal(versionOf(stored.get('3.5.0')!), '3.5.0', 'the user 3.5.0 config ends at 3.5.0');
  },
);

t.test(
  'mid-upgrade, a 3.5.0 config is kept once the new controller runs, and translated down while the old one does',
  async (t) => {
    const [, oldRuns, newRuns] = STEPS.map(snapshotOf);
    const kept = reviewObject(engine, newRuns!, user('3.5.0'));
    t.same(kept.patch, [], 'the 4.19 controller reads 3.5.0 as is: not translated down to the rendered 3.4.0');
    const down = reviewObject(engine, oldRuns!, user('3.5.0'));
    t.equal(versionOf(down.object), '3.4.0', 'the 4.18 controller would refuse 3.5.0');
    const patched = fastJsonPatch.applyPatch(
      structuredClone(user('3.5.0')),
      structuredClone(down.patch) as never,
      true,
      false,
    ).newDocument;
    t.equal(versionOf(patched), '3.4.0');
    // A 3.5-only field cannot go down: refused while the old controller runs, accepted once the new one does.
    const cex = user('3.5.0');
    (cex.spec as any).config.storage.luks = [{ name: 'data', device: '/dev/sdb', cex: { enabled: true } }];
    t.notOk(reviewObject(engine, oldRuns!, cex).allowed, 'luks cex while 4.18 runs');
    t.ok(reviewObject(engine, newRuns!, cex).allowed, 'luks cex once 4.19 runs');
  },
);
