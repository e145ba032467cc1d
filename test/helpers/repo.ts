/** The repository root: tests run built, from dist-test/test/ or dist/test/. */
import { join } from 'node:path';
import { repoRoot } from '../../bench/repo.js';

export const REPO_ROOT = repoRoot();

/** A path in the repository, from its root. */
export const repoPath = (...parts: string[]): string => join(REPO_ROOT, ...parts);
