import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadClusterState } from '../../src/cluster/offline.js';
import { EMPTY_SNAPSHOT, type ClusterSnapshot } from '../../src/cluster/snapshot.js';
import { Engine } from '../../src/engine/engine.js';
import { reviewObject, type Review } from '../../src/engine/review-object.js';
import type { KubeObject } from '../../src/engine/types.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { repoPath } from '../helpers/repo.js';

export const CORPUS_DIR = repoPath('test/corpus');

export type Verdict = 'allow' | 'deny' | 'warn' | 'patch';

/** One real-world input: an upstream manifest reproduced field for field, and what upstream does with it. */
export interface CorpusItem {
  file: string;
  source: { repo: string; path: string; ref: string; note?: string };
  decidedBy: string;
  expect: { verdict: Verdict; rules?: string[] };
  clusterState?: string;
  operation: 'CREATE' | 'UPDATE';
  object: KubeObject;
  oldObject?: KubeObject;
}

export function loadCorpus(): CorpusItem[] {
  const root = join(CORPUS_DIR, 'items');
  return readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({
      file: f,
      ...(parse(readFileSync(join(root, f), 'utf8'), { version: '1.1' }) as Omit<CorpusItem, 'file'>),
    }));
}

const snapshots = new Map<string, ClusterSnapshot>();

/** The cluster state an item names, loaded as `--cluster-state` loads it (once per directory). */
export function snapshotOf(item: CorpusItem): ClusterSnapshot {
  if (!item.clusterState) return EMPTY_SNAPSHOT;
  let s = snapshots.get(item.clusterState);
  if (!s) {
    s = loadClusterState(join(CORPUS_DIR, item.clusterState));
    snapshots.set(item.clusterState, s);
  }
  return s;
}

export interface Outcome {
  verdict: Verdict;
  rules: string[];
  review: Review;
}

/** Deny beats patch beats warn: what the user would see first. */
export function outcomeOf(review: Review): Outcome {
  const ruled = (decisions: string[]) =>
    [...new Set(review.findings.filter((f) => decisions.includes(f.decision)).map((f) => f.rule))].sort();
  if (!review.allowed) return { verdict: 'deny', rules: ruled(['deny', 'error']), review };
  if (review.patch.length > 0) return { verdict: 'patch', rules: [...review.patchedBy].sort(), review };
  if (review.warnings.length > 0) return { verdict: 'warn', rules: ruled(['warn']), review };
  return { verdict: 'allow', rules: [], review };
}

const engine = new Engine(ALL_RULES, defaultPolicy());

export function run(item: CorpusItem): Outcome {
  return outcomeOf(reviewObject(engine, snapshotOf(item), item.object, item.oldObject ?? null));
}
