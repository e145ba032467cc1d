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
  if (url === '') return functionName === '(garbage collector)' ? 'gc' : functionName.startsWith('(') ? functionName : 'native';
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
  return { file, busyMs: Math.round(busy / 1000), areas: top(areas, busy, topN), functions: top(functions, busy, topN) };
}

/** Every profile a --cpu-prof-dir holds (one per process that exited). */
export function summarizeProfiles(dir: string, skipMs = 0): ProfileSummary[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .sort()
    .map((f) => summarizeProfile(join(dir, f), skipMs));
}
