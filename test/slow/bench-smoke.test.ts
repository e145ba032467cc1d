import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterIdleMarkdown, runAfterIdle, STAGES as AFTER_IDLE_STAGES, summary } from '../../bench/after-idle.js';
import { generateCluster, poolSizes, writeClusterState } from '../../bench/cluster-state.js';
import { DEFAULT_OPTIONS, runBench } from '../../bench/harness.js';
import { repoRoot } from '../../bench/repo.js';
import { runHttp1Load, runHttp2Load } from '../../bench/load.js';
import { buildRequests, loadMixes } from '../../bench/mix.js';
import { stageCosts, stageOf } from '../../bench/profile.js';
import { readH2loadLog, wrkMarkdown, wrkScript } from '../../bench/wrk.js';
import { evaluateGoals, pairedRatios, spread, type PhaseResult, type ServerResult } from '../../bench/report.js';
import { call, negotiatedProtocol, startBaseline } from '../../bench/servers.js';
import { writeDevCerts } from '../../src/cli/certs.js';
import { podPlacement, podSelection, selectedNames } from '../../src/cluster/placement.js';
import { reduce } from '../../src/cluster/records.js';
import { ClusterState } from '../../src/cluster/state.js';
import { parseYamlDocuments } from '../../src/input/yaml.js';

// Never asserts speed: timing goals are what the benchmark reports, not what a test on a busy CI box can promise.

function readState(dir: string): Array<Record<string, any>> {
  return (
    readdirSync(dir)
      .sort()
      .flatMap((f) =>
        parseYamlDocuments(readFileSync(join(dir, f), 'utf8'), f).map((d) => d.value as Record<string, any>),
      )
      // Large parts of the state are `List`s, as `oc get -o json` dumps them.
      .flatMap((o) => (o.kind === 'List' ? (o.items as Array<Record<string, any>>) : [o]))
  );
}

t.test('the cluster state generator is deterministic and has the shape the loader expects', async (t) => {
  const spec = { nodes: 120, renderedConfigs: 6, renderedConfigBytes: 60 * 1024, seed: 7 };
  const dir = t.testdir();
  const [a, b, c] = ['a', 'b', 'c'].map((d) => join(dir, d)) as [string, string, string];
  const summary = writeClusterState(a, spec);
  writeClusterState(b, spec);
  const files = readdirSync(a).sort();
  t.same(readdirSync(b).sort(), files);
  for (const f of files)
    t.equal(readFileSync(join(a, f), 'utf8'), readFileSync(join(b, f), 'utf8'), `${f} is the same for the same seed`);
  writeClusterState(c, { ...spec, seed: 8 });
  t.not(
    readFileSync(join(c, 'machineconfigpools.yaml'), 'utf8'),
    readFileSync(join(a, 'machineconfigpools.yaml'), 'utf8'),
    'another seed, another cluster',
  );

  const objects = readState(a);
  const nodes = objects.filter((o) => o.kind === 'Node');
  const pools = objects.filter((o) => o.kind === 'MachineConfigPool');
  const rendered = objects.filter((o) => o.kind === 'MachineConfig' && String(o.metadata.name).startsWith('rendered-'));
  t.equal(nodes.length, 120);
  t.same(poolSizes(120), { master: 3, sctp: 12, worker: 105 });
  t.same(summary.nodesByPool, poolSizes(120));
  t.same(pools.map((p) => p.metadata.name).sort(), ['master', 'sctp', 'worker']);
  t.equal(rendered.length, 6);

  const byName = new Map(rendered.map((mc) => [mc.metadata.name as string, mc]));
  const paths = (mc: Record<string, any>) =>
    (mc.spec.config.storage.files as Array<{ path: string }>).map((f) => f.path);
  for (const mc of rendered) {
    t.equal(mc.spec.config.ignition.version, '3.2.0');
    const size = JSON.stringify(mc).length;
    t.ok(size > 50 * 1024 && size < 70 * 1024, `${mc.metadata.name} is about the asked size (${size} bytes)`);
    const owner = mc.metadata.ownerReferences[0].name;
    t.equal(
      paths(mc).includes('/etc/modules-load.d/sctp-load.conf'),
      owner === 'sctp',
      `${mc.metadata.name}: SCTP files only in the sctp pool`,
    );
  }
  for (const node of nodes) {
    const ann = node.metadata.annotations;
    const current = byName.get(ann['machineconfiguration.openshift.io/currentConfig']);
    t.ok(current, `${node.metadata.name} runs a rendered config of the state`);
    const pool =
      node.metadata.labels['node-role.kubernetes.io/sctp'] === ''
        ? 'sctp'
        : node.metadata.labels['node-role.kubernetes.io/master'] === ''
          ? 'master'
          : 'worker';
    t.equal(current!.metadata.ownerReferences[0].name, pool, `${node.metadata.name} runs its own pool's config`);
    t.equal(
      ann['machineconfiguration.openshift.io/state'],
      ann['machineconfiguration.openshift.io/currentConfig'] === ann['machineconfiguration.openshift.io/desiredConfig']
        ? 'Done'
        : 'Working',
    );
  }
  t.equal(summary.rolloutNodes, 1, '1% of the workers are mid-rollout');
  t.throws(() => writeClusterState(join(dir, 'd'), { ...spec, renderedConfigs: 3 }), /at least 4 rendered configs/);
});

t.test('the request mix covers every kind from the examples, as AdmissionReview v1', async (t) => {
  const mixes = loadMixes(join(repoRoot(), 'examples'));
  const kinds = (m: keyof typeof mixes) => [...new Set(mixes[m].map((e) => String(e.object.kind)))].sort();
  t.same(kinds('services'), ['Service']);
  t.same(kinds('workloads'), ['Deployment', 'Gateway', 'NetworkPolicy', 'Pod']);
  t.same(kinds('machineconfigs'), ['MachineConfig']);
  t.ok(
    mixes.services.some((e) => e.label.includes('TCP copy')) && mixes.services.some((e) => e.label.includes('(SCTP)')),
    'SCTP and TCP Services',
  );
  t.same(mixes.machineconfigs.map((e) => e.label.replace(/.*\((.*)\)/, '$1')).sort(), [
    'Ignition 2.2.0',
    'Ignition 3.2.0',
  ]);
  const mc = mixes.machineconfigs.find((e) => e.label.includes('3.2.0'))!;
  t.equal((mc.object.spec as any).config.storage.files[0].mode, 420, 'YAML 1.1: 0644 is 420');

  const requests = buildRequests(mixes.services, 3);
  t.equal(requests.length, mixes.services.length * 3);
  const reviews = requests.map((r) => JSON.parse(r.body));
  t.equal(new Set(reviews.map((r) => r.request.uid)).size, requests.length, 'a distinct uid per request');
  t.ok(requests.every((r) => r.path === '/validate'));
  t.ok(buildRequests(mixes.machineconfigs, 1).every((r) => r.path === '/mutate'));
  const first = reviews[0];
  t.match(first, {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      operation: 'CREATE',
      kind: { group: '', version: 'v1', kind: 'Service' },
      resource: { resource: 'services' },
    },
  });
  t.ok(first.request.object.metadata.managedFields[0].fieldsV1['f:spec'], 'managedFields as kubectl leaves them');
});

t.test('the placed SCTP Pods of the mix find their nodes in a generated cluster of any size', async (t) => {
  const placed = loadMixes(join(repoRoot(), 'examples')).workloads.filter((e) => e.label.includes('(SCTP, '));
  t.ok(placed.length > 0 && placed.length % 3 === 0, 'each SCTP Pod by hostname, by zone, by metadata.name');
  for (const nodes of [10, 1000]) {
    const state = new ClusterState();
    const cluster = generateCluster({ nodes, renderedConfigs: 4, renderedConfigBytes: 1024, seed: 1 });
    for (const o of [...cluster.machineConfigs, ...cluster.pools, ...cluster.nodes])
      state.upsert(o.kind as 'Node', reduce(o.kind as 'Node', o));
    const s = state.build('offline', true);
    const where = (spec: unknown) =>
      selectedNames(s.nodes, podSelection(s.nodes, podPlacement(spec as Record<string, unknown>)), s.nodes.all);
    for (let i = 0; i < placed.length; i += 3) {
      const [byHost, byZone, byName] = placed.slice(i, i + 3).map((e) => where(e.object.spec));
      t.same(byHost, ['worker-00001.ocp.example.com'], `${nodes} nodes: hostname`);
      t.same(byName, ['worker-00003.ocp.example.com'], `${nodes} nodes: metadata.name`);
      t.ok(byZone!.length >= 1 && !byZone!.includes('worker-00002.ocp.example.com'), `${nodes} nodes: zones`);
    }
  }
});

function fakePhase(mix: PhaseResult['mix'], rps: number, p99: number, faults = 0): PhaseResult {
  return {
    mix,
    protocol: 'http/1.1',
    requests: rps,
    seconds: 1,
    rps,
    latencyMs: { mean: p99 / 2, p50: p99 / 2, p99, p99_9: p99 * 2, max: p99 * 3 },
    errors: faults,
    timeouts: 0,
    non2xx: 0,
  };
}

function fakeServer(
  kind: ServerResult['kind'],
  nodes: number | undefined,
  rps: number,
  p99: number,
  mcP99: number,
  rss: number,
): ServerResult {
  return {
    id: `${kind}@${nodes}`,
    kind,
    nodes,
    startupMs: 1,
    readyReason: '',
    rssLoadMB: rss,
    phases: [
      fakePhase('services', rps, p99),
      fakePhase('workloads', rps, p99),
      fakePhase('machineconfigs', rps, mcP99),
    ],
  };
}

t.test('goals are judged on the right measurements', async (t) => {
  const pass = evaluateGoals([
    fakeServer('baseline', undefined, 1000, 1, 1, 50),
    fakeServer('sctp-guard', 10, 900, 1.4, 4, 90),
    fakeServer('sctp-guard', 10000, 880, 1.6, 4.5, 150),
  ]);
  t.same(
    pass.map((g) => [g.id, g.pass]),
    [
      ['throughput', true],
      ['p99', true],
      ['mutation-p99', true],
      ['scaling-p99', true],
      ['rss', true],
    ],
  );
  const fail = evaluateGoals([
    fakeServer('baseline', undefined, 1000, 1, 1, 50),
    fakeServer('sctp-guard', 10, 800, 1.6, 4, 90),
    fakeServer('sctp-guard', 10000, 800, 2.0, 6, 250),
  ]);
  t.same(
    fail.map((g) => [g.id, g.pass]),
    [
      ['throughput', false],
      ['p99', false],
      ['mutation-p99', false],
      ['scaling-p99', false],
      ['rss', false],
    ],
  );
  t.match(fail.find((g) => g.id === 'mutation-p99')!.measured, /6\.00 ms \(worst: 10,000 nodes, at saturation\)/);
  const slowFirst = fakeServer('sctp-guard', 10, 900, 1.4, 4, 90);
  slowFirst.answers = {
    services: [],
    workloads: [],
    machineconfigs: [{ entry: 'MachineConfig x (Ignition 3.2.0)', status: 200, ms: 250 }],
  };
  t.match(
    evaluateGoals([fakeServer('baseline', undefined, 1000, 1, 1, 50), slowFirst]).find((g) => g.id === 'mutation-p99'),
    { pass: false, measured: /first request of a version 250\.00 ms/ },
    'the first MachineConfig of a version counts',
  );
  const faulty = fakeServer('sctp-guard', 10, 950, 1, 1, 90);
  faulty.phases[0] = fakePhase('services', 950, 1, 3);
  const withFaults = evaluateGoals([fakeServer('baseline', undefined, 1000, 1, 1, 50), faulty]);
  t.match(
    withFaults.find((g) => g.id === 'throughput'),
    { pass: false, note: /3 errors/ },
    'a phase with errors fails its goal',
  );
  t.match(
    withFaults.find((g) => g.id === 'scaling-p99'),
    { pass: null, note: /two cluster sizes/ },
  );
});

t.test('ratios are taken within a round, then their median and spread', async (t) => {
  const round = (repeat: number, rps: number): PhaseResult => ({ ...fakePhase('services', rps, 1), repeat });
  const guard = [round(0, 50), round(1, 80), round(2, 60)];
  const base = [round(2, 100), round(0, 100), round(1, 100)];
  t.same(
    pairedRatios(guard, base, (p) => p.rps),
    { median: 0.6, min: 0.5, max: 0.8, n: 3 },
  );
  t.same(pairedRatios(guard, base.slice(1), (p) => p.rps).n, 2, 'a round one server missed is left out');
  t.same(spread([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
});

t.test('profile samples are put in the stage of the innermost frame that has one', async (t) => {
  t.equal(stageOf('file:///x/dist/src/rules/sctp-module-loaded.js', 'judge'), 'rule sctp-module-loaded');
  t.equal(
    stageOf('file:///x/dist/src/rules/objects.js', 'records'),
    undefined,
    'a helper of the rules: its caller decides',
  );
  t.equal(stageOf('file:///x/dist/src/server/audit-record.js', 'auditRecord'), 'audit line');
  t.equal(stageOf('file:///x/dist/src/server/admission-routes.js', 'parseReviewBody'), 'body parse');
  t.equal(stageOf('file:///x/dist/src/server/admission-routes.js', 'handler'), 'handler');
  t.equal(stageOf('file:///x/dist/src/engine/engine.js', 'evaluate'), 'engine');
  t.equal(stageOf('file:///x/node_modules/secure-json-parse/index.js', '_parse'), 'body parse');
  t.equal(stageOf('', 'validate10'), 'envelope check');
  t.equal(stageOf('', 'writev'), 'HTTP, TLS and socket', 'the socket write, not the reply that called it');
  t.equal(stageOf('', 'writeString'), undefined, 'other native code: its caller decides');
  t.equal(
    stageOf('node:fs', 'writeSync'),
    undefined,
    "node's own code: its caller decides (stageShares puts it in HTTP, TLS and socket when nothing else is on the stack)",
  );
  t.same(
    stageCosts(
      new Map([
        ['engine', 30],
        ['body parse', 10],
      ]),
      200,
    ),
    [
      { stage: 'body parse', us: 50 },
      { stage: 'engine', us: 150 },
    ],
  );
});

t.test('the HTTP/2 load driver and the ALPN probe, against the baseline with HTTP/2 on', async (t) => {
  const dir = t.testdir();
  const certs = writeDevCerts({ dir, days: 1 });
  const tls = { ca: readFileSync(certs.caCert), cert: certs.cert, key: certs.key };
  const server = await startBaseline({
    baselineJs: join(repoRoot(), 'dist/bench/baseline.js'),
    tls,
    http2: true,
    nodeArgs: [],
    readyTimeoutMs: 30_000,
  });
  t.teardown(() => server.stop());
  t.equal(await negotiatedProtocol(server.port, tls.ca), 'h2');
  const requests = buildRequests(loadMixes(join(repoRoot(), 'examples')).services, 2);
  for (const run of [runHttp2Load, runHttp1Load]) {
    const r = await run({ port: server.port, ca: tls.ca }, requests, { seconds: 0.3, concurrency: 3 });
    t.ok(r.requests > 0 && r.errors + r.timeouts + r.non2xx === 0, `${run.name}: answers, no faults`);
    t.ok(r.latencyMs.p50 > 0 && r.latencyMs.p50 <= r.latencyMs.p99, `${run.name}: latencies`);
  }
  const answer = await call(server.port, tls.ca, 'POST', '/validate', requests[0]!.body);
  t.same(
    JSON.parse(answer.body).response,
    { uid: JSON.parse(requests[0]!.body).request.uid, allowed: true },
    'the baseline echoes the uid',
  );
});

t.test('a short run of the whole harness writes results.json and results.md', async (t) => {
  const outDir = t.testdir();
  const results = await runBench(
    // HTTP/2 has its own test below: here it would cost two more server starts.
    {
      ...DEFAULT_OPTIONS,
      seconds: 0.3,
      warmupSeconds: 0.3,
      connections: 2,
      sizes: [15, 6],
      renderedConfigs: 4,
      renderedConfigKiB: 40,
      http2: false,
      readyTimeoutSeconds: 60,
      liveNodes: 0,
      repeats: 2,
      fixedRps: 50,
      outDir,
    },
    () => {},
  );
  const written = JSON.parse(readFileSync(join(outDir, 'results.json'), 'utf8'));
  t.same(written, JSON.parse(JSON.stringify(results)), 'results.json is what runBench returned');
  t.same(
    written.servers.map((s: ServerResult) => s.id),
    ['baseline', 'sctp-guard@6', 'sctp-guard@15'],
  );
  for (const server of written.servers as ServerResult[]) {
    t.ok(server.startupMs > 0, `${server.id} start-up time`);
    // Two alternating rounds of the three mixes, then per round the paced phases: the Service mix at half the
    // baseline's maximum and at the fixed rate on the baseline and the smallest state, MachineConfigs on every size.
    const paced =
      server.kind === 'baseline'
        ? ['services', 'services']
        : server.id === 'sctp-guard@6'
          ? ['services', 'services', 'machineconfigs']
          : ['machineconfigs'];
    const mixes = ['services', 'workloads', 'machineconfigs'];
    t.same(
      server.phases.map((p) => p.mix),
      [...mixes, ...mixes, ...paced, ...paced],
    );
    t.same(
      server.phases.map((p) => p.repeat),
      [0, 0, 0, 1, 1, 1, ...paced.map(() => 0), ...paced.map(() => 1)],
      `${server.id}: rounds numbered`,
    );
    t.ok(
      server.phases.slice(6).every((p) => p.offeredRps! > 0),
      `${server.id}: paced phases name their rate`,
    );
    if (server.kind === 'baseline')
      t.same(
        server.phases.slice(6, 8).map((p) => [p.pace, p.offeredRps === 50]),
        [
          ['half-max', false],
          ['fixed', true],
        ],
      );
    for (const p of server.phases) {
      const l = p.latencyMs;
      t.ok(p.requests > 0 && p.rps > 0, `${server.id} ${p.mix}: answers counted`);
      t.equal(p.errors + p.timeouts + p.non2xx, 0, `${server.id} ${p.mix}: no faults`);
      t.ok(
        l.p50 > 0 && l.p50 <= l.p99 && l.p99 <= l.p99_9 && l.p99_9 <= l.max,
        `${server.id} ${p.mix}: ordered percentiles`,
      );
      if (process.platform === 'linux')
        t.ok(p.rssMB! > 10 && p.cpuPercent! >= 0, `${server.id} ${p.mix}: RSS and CPU read`);
    }
  }
  const guard = written.servers[1] as ServerResult;
  t.equal(guard.clusterState?.nodes, 6);
  const denied = guard.answers!.services.find((a) => a.entry.startsWith('Service server (SCTP)'));
  t.match(
    denied,
    { status: 200, allowed: false, message: /\[sctp-service-type\]/ },
    'sctp-guard decided, the LoadBalancer SCTP Service is denied',
  );
  t.ok(
    guard.answers!.machineconfigs.every((a) => a.status === 200),
    'MachineConfigs answered',
  );
  t.same(
    written.comparisons.map((c: { mix: string }) => c.mix),
    ['services', 'workloads', 'machineconfigs'],
  );
  t.same(
    written.scaling.map((c: { mix: string }) => c.mix),
    ['services', 'workloads', 'machineconfigs'],
  );
  t.match(written.scaling[0], { p99Ratio: { n: 2 }, rpsRatio: { n: 2 } }, 'p99 and throughput, round by round');
  t.same(
    written.goals.map((g: { id: string }) => g.id),
    ['throughput', 'p99', 'mutation-p99', 'scaling-p99', 'rss'],
  );
  t.match(written.comparisons[0].throughput, { n: 2 }, 'each ratio is taken in both rounds');
  t.ok(
    guard.answers!.machineconfigs.every((a) => a.ms! > 0),
    'the first request of each MachineConfig is timed',
  );
  t.ok(
    written.goals.every((g: { pass: unknown }) => typeof g.pass === 'boolean'),
    'every goal judged',
  );
  t.match(written.http2, { protocol: 'http/1.1', note: /not measured/ }, 'sctp-guard answers HTTP/1.1 by default');
  const md = readFileSync(join(outDir, 'results.md'), 'utf8');
  t.match(md, /\| services \| \*\*sctp-guard \/ baseline\*\* \|/);
  t.match(md, /\| 15 \| [\d.]+ MB \| [\d.]+ s \|/);
  t.match(md, /\| (PASS|FAIL) \|/);
  t.match(md, /At a fixed offered rate/);
  t.match(
    written.goals.find((g: { id: string }) => g.id === 'p99').measured,
    /both at \d+ req\/s offered; at 50 req\/s /,
  );
});

t.test('the wrk script sends each body in a Lua long string its text cannot close', async (t) => {
  const req = (path: string, body: string) => ({
    method: 'POST' as const,
    path,
    headers: {},
    body,
    entry: 0,
  });
  const script = wrkScript([req('/validate', '{"a":"]]"}'), req('/validate', '{"b":[[1]]}')], 15);
  t.match(script, 'local bodies = { [=[{"a":"]]"}]=], [=[{"b":[[1]]}]=] }');
  t.match(script, 'delay = function() return 15 end');
  t.notMatch(wrkScript([req('/validate', '{}')], 0), 'delay', 'no delay at saturation');
});

t.test("h2load's per-request log: latencies of the 2xx answers, every other status a fault", async (t) => {
  const log = ['1796686715095686\t200\t2438', '1796686715095179\t503\t3681', '1796686715143024\t200\t1631', ''].join(
    '\n',
  );
  t.same(readH2loadLog(log), { latenciesMs: [2.438, 1.631], faults: 1 });
  t.same(readH2loadLog('1796686715095686\t-1\t0\n'), { latenciesMs: [], faults: 1 }, 'a failed request is a fault');
});

t.test('the comparison without h2load says its fixed-rate rows were not measured', async (t) => {
  const run = { requests: 100, rps: 1000, p50Ms: 0.4, p99Ms: 1.2, faults: 0, cpuUsPerRequest: 60 };
  const runs = { saturation: [run], paced: [run], half: [], realistic: [] };
  const md = wrkMarkdown(
    { wrkVersion: 'wrk 4.1.0', runs: { baseline: runs, 'sctp-guard': runs } },
    { connections: 8, seconds: 5, fixedRps: 500 },
  );
  t.match(md, /h2load was not on PATH: the fixed-rate rows \("half", "realistic"\) were not measured/);
  t.match(md, /\| paced \| \*\*sctp-guard \/ baseline\*\* \| \| 1\.00 \(1\.00–1\.00, 1 rounds\)/);
  t.notMatch(md, /\| half \|/);
});

t.test('--after-idle: every stage of both servers timed, back to back and after a wait, and the table', async (t) => {
  const lines: string[] = [];
  const results = await runAfterIdle(
    {
      ...DEFAULT_OPTIONS,
      outDir: t.testdir(),
      seconds: 0.1,
      renderedConfigs: 4,
      renderedConfigKiB: 8,
      mixes: ['services', 'machineconfigs'],
    },
    (line) => lines.push(line),
  );
  t.same(
    results.map((r) => [r.mix, r.requests]),
    [
      ['services', 50],
      ['machineconfigs', 50],
    ],
    'the mixes asked for, at least 50 requests each',
  );
  for (const r of results) {
    for (const times of [...Object.values(r.guard).flatMap((s) => Object.values(s)), ...Object.values(r.bare)])
      t.ok(times.mean > 0 && times.p50 > 0, `${r.mix}: every stage timed`);
    t.ok(r.answerChars.guard > r.answerChars.bare, `${r.mix}: sctp-guard's answers say more than a constant allow`);
  }
  t.match(lines.join('\n'), /after idle, services: sctp-guard [\d.]+ → [\d.]+ µs, bare [\d.]+ → [\d.]+ µs/);

  const at = (mean: number) => ({ mean, p50: mean });
  const stages = (mean: number) => Object.fromEntries(AFTER_IDLE_STAGES.map((s) => [s, at(mean)]));
  const md = afterIdleMarkdown([
    {
      mix: 'services',
      requests: 10,
      guard: { 'back to back': stages(1), 'after 1 ms idle': stages(3) } as never,
      bare: { 'back to back': at(2), 'after 1 ms idle': at(5) },
      answerChars: { guard: 400, bare: 134 },
    },
  ]);
  t.match(md, /\| engine and rules \| 1\.00 \(1\.00\) \| 3\.00 \(3\.00\) \| 3\.00 \|/);
  t.match(md, /\| \*\*sctp-guard, all stages\*\* \| 6\.00 \| 18\.00 \| 3\.00 \|/, 'the six stages summed');
  t.match(md, /\| \*\*sctp-guard − bare\*\* \| 4\.00 \| 13\.00 \| \|/);
  t.same(summary([3, 1, 2, 10]), { mean: 4, p50: 3 });
  t.same(summary([]), { mean: 0, p50: 0 });
});
