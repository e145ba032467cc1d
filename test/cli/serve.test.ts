import t from 'tap';
import { warmUp } from '../../src/cli/serve.js';
import { loadClusterState } from '../../src/cluster/offline.js';
import { Engine } from '../../src/engine/engine.js';
import { SPEC_VERSIONS } from '../../src/ignition/versions.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { repoPath } from '../helpers/repo.js';

t.test('the warm-up takes a MachineConfig of every Ignition version through the mutating rules', async (t) => {
  const decisions = warmUp(
    new Engine(ALL_RULES, defaultPolicy()),
    loadClusterState(repoPath('examples/cluster-state')),
  );
  t.equal(decisions.length, SPEC_VERSIONS.length);
  for (const d of decisions) {
    t.equal(d.allowed, true, 'the documented MachineConfig is allowed');
    t.equal(d.skipped, undefined, 'rules ran');
  }
  const ran = new Set(decisions.flatMap((d) => d.results.map((r) => r.rule)));
  t.ok(ran.has('ignition-spec-version'), 'the Ignition rule, with its validators and translation');
  t.ok(
    decisions.some((d) => d.patch.length > 0),
    'a config rewritten to the target version: the patch code ran',
  );
});
