import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The parts of a V8 .cpuprofile (written by `node --cpu-prof`) that self time needs. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  name: string;
  /** Share of the busy (non-idle) samples. */
  percent: number;
}

export interface ProfileSummary {
  file: string;
  /** Which server of the run it profiled. */
  server?: string;
  busyMs: number;
  /** Self time by package or sctp-guard source folder: where the CPU goes. */
  areas: ProfileShare[];
  /** Self time by function. */
  functions: ProfileShare[];
}

const IDLE = new Set(['(idle)', '(program)']);

/** `node_modules/fastify/...` → fastify, `dist/src/engine/...` → sctp-guard src/engine, `node:tls` → node:tls. */
export function areaOf(url: string, functionName: string): string {
  if (url === '')
    return functionName === '(garbage collector)' ? 'gc' : functionName.startsWith('(') ? functionName : 'native';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/dist\/(src|bench)\/([^/]+)\//.exec(url);
  if (own) return `sctp-guard ${own[1]}/${own[2]}`;
  const internal = /^node:(?:internal\/)?([^/]+)/.exec(url);
  if (internal) return `node:${internal[1]}`;
  return url.split('/').slice(-2).join('/');
}

function top(map: Map<string, number>, total: number, n: number): ProfileShare[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, t]) => ({ name, percent: Math.round((t / total) * 1000) / 10 }));
}

/** skipMs: leave out the first milliseconds of the profile (start-up and cluster state loading). */
export function summarizeProfile(file: string, skipMs = 0, topN = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let busy = 0;
  let elapsedUs = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const dt = profile.timeDeltas[i] ?? 0;
    elapsedUs += dt;
    if (elapsedUs < skipMs * 1000 || !node || IDLE.has(node.callFrame.functionName)) return;
    const { functionName, url, lineNumber } = node.callFrame;
    busy += dt;
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + dt);
    const fn = `${functionName || '(anonymous)'} ${area}${url ? `:${lineNumber + 1}` : ''}`;
    functions.set(fn, (functions.get(fn) ?? 0) + dt);
  });
  return {
    file,
    busyMs: Math.round(busy / 1000),
    areas: top(areas, busy, topN),
    functions: top(functions, busy, topN),
  };
}

/** Every profile a --cpu-prof-dir holds (one per process that exited). */
export function summarizeProfiles(dir: string, skipMs = 0): ProfileSummary[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summarizeProfile(join(dir, f), skipMs));
}

/** The stages of a request, in the order the tables print them. */
export const STAGES = [
  'body parse',
  'envelope check',
  'fastify routing and hooks',
  'engine',
  'audit line',
  'metrics',
  'answer',
  'handler',
  'HTTP, TLS and socket',
  'gc',
  'other',
] as const;

export interface StageCost {
  /** One of STAGES, or `rule <id>`. */
  stage: string;
  /** CPU µs per request. */
  us: number;
}

/** A rule's own file (helpers shared by rules are attributed to the rule that called them). */
const RULE_FILE = /\/dist\/src\/rules\/(?!objects\.js|index\.js|cel\.js)([^/]+)\.js$/;

/** The stage a frame belongs to, or undefined to look at its caller (helpers, native code). */
export function stageOf(url: string, functionName: string): string | undefined {
  if (url === '') {
    if (functionName === '(garbage collector)') return 'gc';
    // The body schema's code, compiled by ajv at start-up through `new Function`.
    if (/^validate\d*$/.test(functionName)) return 'envelope check';
    // A socket's gathered write: TLS encryption and the kernel's loopback send (which also wakes the client, so
    // the profiler's wall-clock samples put any time the server then waits for a core here too).
    return functionName === 'writev' ? 'HTTP, TLS and socket' : undefined;
  }
  const rule = RULE_FILE.exec(url);
  if (rule) return `rule ${rule[1]}`;
  if (/\/dist\/src\/server\/admission-routes\.js$/.test(url) && functionName === 'parseReviewBody') return 'body parse';
  if (/\/dist\/src\/server\/(audit-record|logger)\.js$|node_modules\/(pino|sonic-boom)\//.test(url))
    return 'audit line';
  if (/\/dist\/src\/server\/metrics\.js$|node_modules\/prom-client\//.test(url)) return 'metrics';
  if (/\/dist\/src\/(engine|admission)\//.test(url)) return 'engine';
  if (/\/dist\/src\/server\/admission-routes\.js$|\/dist\/bench\/baseline\.js$/.test(url)) return 'handler';
  if (/node_modules\/(secure-json-parse|fastify\/lib\/contentTypeParser)/.test(url)) return 'body parse';
  if (/node_modules\/(@fastify\/ajv-compiler|ajv|fastify\/lib\/validation)/.test(url)) return 'envelope check';
  if (
    /node_modules\/(fast-json-stringify|@fastify\/fast-json-stringify-compiler|fastify\/lib\/(reply|error-serializer))/.test(
      url,
    )
  )
    return 'answer';
  if (/node_modules\/(fastify|find-my-way|avvio|light-my-request|@fastify)\//.test(url))
    return 'fastify routing and hooks';
  // node's own code (node:fs, node:net, node:_tls_wrap...) belongs to whoever called it; HTTP, TLS and socket
  // only when nothing of ours or of a package is on the stack (see stageShares).
  return undefined;
}

/**
 * Busy time by stage over the samples taken in the given monotonic-clock windows (µs, as V8 stamps the profile):
 * each sample goes to the innermost frame on its stack that belongs to a stage.
 */
export function stageShares(file: string, windows: ReadonlyArray<readonly [number, number]>): Map<string, number> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile & {
    startTime: number;
    nodes: Array<{ children?: number[] }>;
  };
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const memo = new Map<number, string>();
  const classify = (id: number): string => {
    const known = memo.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const own = node ? stageOf(node.callFrame.url, node.callFrame.functionName) : undefined;
    const up = parent.get(id);
    let stage = own ?? (up === undefined ? 'other' : classify(up));
    if (stage === 'other' && node?.callFrame.url.startsWith('node:')) stage = 'HTTP, TLS and socket';
    memo.set(id, stage);
    return stage;
  };
  const out = new Map<string, number>();
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node || IDLE.has(node.callFrame.functionName) || node.callFrame.functionName === '(root)') return;
    if (!windows.some(([a, b]) => t >= a && t <= b)) return;
    const stage = classify(id);
    out.set(stage, (out.get(stage) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  return out;
}

/** Stage shares scaled to a measured CPU per request. */
export function stageCosts(shares: ReadonlyMap<string, number>, cpuUsPerRequest: number): StageCost[] {
  const busy = [...shares.values()].reduce((a, b) => a + b, 0);
  if (busy === 0) return [];
  const order = (s: string) =>
    s.startsWith('rule ') ? STAGES.indexOf('engine') + 0.5 : STAGES.indexOf(s as (typeof STAGES)[number]);
  return [...shares.entries()]
    .sort((a, b) => order(a[0]) - order(b[0]) || a[0].localeCompare(b[0]))
    .map(([stage, t]) => ({ stage, us: Math.round((t / busy) * cpuUsPerRequest * 10) / 10 }));
}
