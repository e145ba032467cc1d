import { createRequire } from 'node:module';
import ajvDraft04 from 'ajv-draft-04';
import addFormats from 'ajv-formats';
import t from 'tap';
import { formatText } from '../../src/cli/output/text.js';
import { useColour } from '../../src/cli/options.js';
import { findingLine, type Report } from '../../src/cli/output/report.js';
import { readManifests } from '../../src/input/manifests.js';
import type { ReviewMessage } from '../../src/engine/review-object.js';
import { runCli } from '../helpers/run-cli.js';

// The published SARIF 2.1.0 schema (OASIS, as on json.schemastore.org: sarif-2.1.0-rtm.5), shipped by Microsoft's
// @microsoft/jest-sarif package, which SARIF producers use to validate their logs.
const require = createRequire(import.meta.url);
const SARIF_SCHEMA = require('@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json') as object;

const REPO = 'test/fixtures/check-repo';
const lines = (text: string) => text.split('\n').filter(Boolean);

t.test(
  'a repository: exit 1 for the denied manifest with one notice per skipped file; 0 once it is excluded',
  async (t) => {
    // --allow-skipped: the chart's template is skipped on purpose (without it, a skip that may hide objects is exit 2).
    const [denied, clean] = await Promise.all([
      runCli(['check', '-f', REPO, '--allow-skipped']),
      runCli(['check', '-f', REPO, '--allow-skipped', '--exclude', 'sctp-lb.yaml']),
    ]);
    t.equal(denied.code, 1, denied.stderr);
    t.match(
      denied.stdout,
      new RegExp(`^${REPO}/manifests/sctp-lb.yaml:8: Service telco/diameter-lb: sctp-service-type DENY`, 'm'),
      'at the type: line',
    );
    const notices = lines(denied.stderr);
    t.equal(notices.length, 7, denied.stderr);
    t.ok(notices.every((l) => l.startsWith('sctp-guard: notice: ') && l.includes(': skipped: ')));
    t.match(
      denied.stderr,
      `${REPO}/chart/templates/service.yaml:4: skipped: a template ({{ … }}) that YAML cannot read: render it first, e.g. \`helm template ${REPO}/chart | sctp-guard check\``,
    );
    t.notMatch(denied.stderr, /Keys with collection values|Warning/, 'no library warning leaks');
    t.notMatch(denied.stderr, /\.github/, 'dot-folders are not read');
    t.equal(clean.code, 0, clean.stdout + clean.stderr);
    t.match(
      lines(clean.stdout).at(-1),
      /^2 objects checked: 0 denied, \d+ warned, \d+ passed, 7 skipped \(.*1 template.*\)$/,
    );
  },
);

t.test('stdin is read when no path is given; --skip-kinds', async (t) => {
  const manifest =
    'apiVersion: v1\nkind: Service\nmetadata: {name: lb}\nspec:\n  type: LoadBalancer\n  ports:\n    - port: 80\n      protocol: SCTP\n';
  const [piped, skipped] = await Promise.all([
    runCli(['check'], { stdin: manifest }),
    runCli(['check', '--skip-kinds', 'ConfigMap,Service'], {
      stdin: manifest + '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n',
    }),
  ]);
  t.equal(piped.code, 1);
  t.match(piped.stdout, /^<stdin>:5: Service default\/lb: sctp-service-type DENY/m, 'at the type: line');
  t.equal(skipped.code, 2, 'nothing left to check');
  t.match(skipped.stderr, 'no Kubernetes objects');
});

t.test(
  '-o sarif validates against the SARIF 2.1.0 schema: one rule per rule ID, results with file and line',
  async (t) => {
    const r = await runCli(['check', '-f', REPO, '-f', 'test/fixtures/check/syntax-error.yaml', '-o', 'sarif']);
    t.equal(r.code, 2);
    const log = JSON.parse(r.stdout);
    // The schema is draft-04; its formats (uri, uri-reference, date-time) are checked too.
    const ajv = new ajvDraft04.default({ strict: false, allErrors: true, unicodeRegExp: false });
    addFormats.default(ajv);
    const validate = ajv.compile(SARIF_SCHEMA);
    t.ok(validate(log), JSON.stringify(validate.errors, null, 2));
    t.equal(log.version, '2.1.0');
    const rules = log.runs[0].tool.driver.rules.map((x: { id: string }) => x.id);
    t.equal(new Set(rules).size, rules.length, 'one reportingDescriptor per rule ID');
    t.ok(rules.includes('sctp-service-type'));
    const deny = log.runs[0].results.find((x: { ruleId: string }) => x.ruleId === 'sctp-service-type');
    t.match(deny, {
      level: 'error',
      ruleIndex: rules.indexOf('sctp-service-type'),
      locations: [
        { physicalLocation: { artifactLocation: { uri: `${REPO}/manifests/sctp-lb.yaml` }, region: { startLine: 8 } } },
      ],
    });
    t.match(log.runs[0].invocations[0], {
      executionSuccessful: false,
      toolExecutionNotifications: [{ level: 'error', locations: [{ physicalLocation: { region: { startLine: 8 } } }] }],
    });

    // The schema check can fail: a result without a message is refused.
    const broken = structuredClone(log);
    delete broken.runs[0].results[0].message;
    t.notOk(validate(broken));
  },
);

t.test('-o github: workflow commands with file and line; -o tap', async (t) => {
  const [gh, tap] = await Promise.all([
    runCli([
      'check',
      '-f',
      'examples/ako-sctp-loadbalancer.yaml',
      'examples/antrea-npl-sctp-service.yaml',
      '-o',
      'github',
    ]),
    runCli([
      'check',
      '-f',
      'examples/ako-sctp-loadbalancer.yaml',
      'examples/antrea-npl-sctp-service.yaml',
      '-o',
      'tap',
    ]),
  ]);
  t.equal(gh.code, 1);
  const out = lines(gh.stdout);
  t.ok(
    out.some((l) =>
      /^::error file=examples\/ako-sctp-loadbalancer.yaml,line=\d+,title=sctp-service-type%3A Service default\/server::\[sctp-service-type\] Service default\/server: SCTP ports 80\/SCTP of type LoadBalancer/.test(
        l,
      ),
    ),
    gh.stdout,
  );
  t.ok(
    out.some((l) =>
      /^::warning file=examples\/antrea-npl-sctp-service.yaml,line=\d+,title=nodeportlocal-sctp%3A Service default\/sctp-npl::/.test(
        l,
      ),
    ),
    gh.stdout,
  );
  t.match(out.at(-1), /^3 objects checked: 1 denied/);

  t.equal(tap.code, 1);
  t.match(tap.stdout, /^TAP version 14\n1\.\.3\n/);
  t.match(tap.stdout, /^not ok \d - examples\/ako-sctp-loadbalancer.yaml:25 Service default\/server$/m);
  t.match(
    tap.stdout,
    // eslint-disable-next-line no-regex-spaces -- TAP's YAML block, indented as printed
    /^ok \d - examples\/antrea-npl-sctp-service.yaml:3 Service default\/sctp-npl\n  ---\n  severity: comment\n  findings:\n/m,
  );
});

t.test('--fail-on-warn, --quiet, --summary', async (t) => {
  const npl = 'examples/antrea-npl-sctp-service.yaml';
  const [plain, strict, quiet, summary] = await Promise.all([
    runCli(['check', '-f', npl, '-f', REPO, '--allow-skipped']),
    runCli(['check', '-f', npl, '--fail-on-warn']),
    runCli(['check', '-f', npl, '-f', REPO, '--quiet', '--allow-skipped']),
    runCli(['check', '-f', npl, '-f', REPO, '--summary', '--allow-skipped']),
  ]);
  t.equal(plain.code, 1);
  t.equal(strict.code, 1, 'a warning fails the check with --fail-on-warn');
  t.match(strict.stdout, 'nodeportlocal-sctp WARN');
  t.equal(quiet.stderr, '', 'no notices');
  t.ok(
    lines(quiet.stdout)
      .slice(0, -1)
      .every((l) => / (DENY|WARN|MUTATE|AUDIT|ERROR): /.test(l)),
    'findings only',
  );
  t.match(lines(quiet.stdout).at(-1), /, 7 skipped \(/, 'and the summary line, since files were skipped');
  t.equal(summary.stderr, '');
  t.same(lines(summary.stdout).length, 1);
  t.match(summary.stdout, /^4 objects checked: 1 denied, \d+ warned, \d+ passed, 7 skipped \(.*\)\n$/);
  t.equal(summary.code, 1);
});

t.test("a finding with a field path points at that field's line", async (t) => {
  const [svc] = (await readManifests(['test/fixtures/check-repo/manifests/sctp-lb.yaml'])).objects;
  // Findings carry the JSON Pointer of their field (ReviewMessage.path, from the rules).
  const finding: ReviewMessage = {
    rule: 'r',
    phase: 'validate',
    decision: 'deny',
    message: '[r] Service telco/diameter-lb: bad.',
    detail: 'bad.',
    path: '/spec/ports/0/protocol',
  };
  const o = {
    file: svc!.file,
    line: svc!.line,
    lineOf: svc!.lineOf,
    apiVersion: 'v1',
    kind: 'Service',
    namespace: 'telco',
    name: 'diameter-lb',
    result: 'deny' as const,
    warnings: [],
    patch: [],
    patchedBy: [],
    findings: [finding],
  };
  t.equal(findingLine(o, finding), 14, 'the protocol: line');
  const { path: _path, ...withoutPath } = finding;
  t.equal(findingLine(o, withoutPath), 2, "no path: the object's first line");
});

t.test('colour on a terminal only, never under NO_COLOR or TERM=dumb, and never when piped', async (t) => {
  t.ok(useColour({ isTTY: true }, {}));
  t.notOk(useColour({ isTTY: true }, { NO_COLOR: '1' }));
  t.notOk(useColour({ isTTY: true }, { TERM: 'dumb' }));
  t.notOk(useColour({ isTTY: false }, {}));
  const report: Report = {
    command: 'check',
    problems: [],
    reportedAtOwner: 0,
    startedAt: new Date(0),
    objects: [
      {
        file: 'a.yaml',
        line: 1,
        apiVersion: 'v1',
        kind: 'Service',
        namespace: 'ns',
        name: 's',
        result: 'deny',
        warnings: [],
        patch: [],
        patchedBy: [],
        findings: [
          { rule: 'r', phase: 'validate', decision: 'deny', message: '[r] Service ns/s: bad.', detail: 'bad.' },
        ],
      },
    ],
  };
  t.match(formatText(report, { colour: true }), 'r \u001b[31mDENY\u001b[0m: bad.');
  t.equal(
    formatText(report, { summary: false }),
    'a.yaml:1: Service ns/s: r DENY: bad.\n',
    "no field path: the object's line",
  );
  t.notMatch(formatText(report), '\u001b[');
  const piped = await runCli(['check', '-f', 'examples/ako-sctp-loadbalancer.yaml']);
  t.notMatch(piped.stdout, '\u001b[', 'stdout is a pipe here');
});
