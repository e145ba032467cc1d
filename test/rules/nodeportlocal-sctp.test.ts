import t from 'tap';
import { evaluateRule } from '../../src/engine/engine.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { nodePortLocalSctp } from '../../src/rules/nodeportlocal-sctp.js';
import { exampleObject, ruleInput } from '../helpers/admission.js';

t.test('an NPL-annotated SCTP Service is flagged; without the annotation it is not', async (t) => {
  const svc = exampleObject('antrea-npl-sctp-service.yaml', 'Service');
  const f = evaluateRule(nodePortLocalSctp, ruleInput(svc)).findings;
  t.equal(f.length, 1);
  t.match(
    f[0]!.message,
    /\[nodeportlocal-sctp\] Service default\/sctp-npl: it has the annotation nodeportlocal.antrea.io\/enabled: "true", but Antrea NodePortLocal cannot carry SCTP: ports 80\/SCTP/,
  );
  t.match(f[0]!.message, /Fix: remove the nodeportlocal.antrea.io\/enabled annotation/);
  const plain = { ...svc, metadata: { ...svc.metadata, annotations: {} } };
  t.same(evaluateRule(nodePortLocalSctp, ruleInput(plain)).findings, []);
  const off = { ...svc, metadata: { ...svc.metadata, annotations: { 'nodeportlocal.antrea.io/enabled': 'false' } } };
  t.same(evaluateRule(nodePortLocalSctp, ruleInput(off)).findings, []);
});

t.test('akoNodePortLocal flags every SCTP Service', async (t) => {
  const svc = exampleObject('openshift-sctp-service-clusterip.yaml', 'Service');
  t.same(evaluateRule(nodePortLocalSctp, ruleInput(svc)).findings, []);
  const f = evaluateRule(
    nodePortLocalSctp,
    ruleInput(svc, { policy: { ...defaultPolicy(), akoNodePortLocal: true } }),
  ).findings;
  t.match(f[0]!.message, /AKO runs in NodePortLocal mode/);
});

t.test(
  'only where Antrea acts: exact "true", a selector, not NodePort or ExternalName (validateNPLService)',
  async (t) => {
    const svc = exampleObject('antrea-npl-sctp-service.yaml', 'Service');
    const flagged = (changes: { annotation?: string; type?: string; selector?: Record<string, string> | null }) => {
      const spec = { ...(svc.spec as Record<string, unknown>) };
      if (changes.type) spec.type = changes.type;
      if (changes.selector === null) delete spec.selector;
      const annotations = { 'nodeportlocal.antrea.io/enabled': changes.annotation ?? 'true' };
      return (
        evaluateRule(nodePortLocalSctp, ruleInput({ ...svc, metadata: { ...svc.metadata, annotations }, spec }))
          .findings.length > 0
      );
    };
    t.ok(flagged({}), 'ClusterIP with a selector');
    t.ok(flagged({ type: 'LoadBalancer' }), 'LoadBalancer with a selector');
    t.notOk(flagged({ annotation: 'True' }), 'Antrea compares with == "true"');
    t.notOk(flagged({ annotation: 'TRUE' }));
    t.notOk(flagged({ type: 'NodePort' }), 'NodePort: the annotation has no effect');
    t.notOk(flagged({ type: 'ExternalName' }), 'ExternalName: the annotation has no effect');
    t.notOk(flagged({ selector: null }), 'no selector: the annotation has no effect');
  },
);
