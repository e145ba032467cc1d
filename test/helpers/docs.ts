import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './run-cli.js';

/**
 * The runnable-docs convention (notes/COMMON.md): a shell block in README.md or docs/*.md whose opening fence is
 * exactly ```` ```sh runnable ```` is executed by test/docs/runnable.test.ts. Any other fence that mentions
 * "runnable" is a typo that would silently skip a block.
 */
export const RUNNABLE_FENCE = '```sh runnable';

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  script: string;
}

export function docFiles(root = REPO_ROOT): string[] {
  const docs = join(root, 'docs');
  const pages = readdirSync(docs).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`);
  return ['README.md', ...pages];
}

/** Runnable blocks, and fences that look meant to be runnable but are not spelt as the convention says. */
export function runnableBlocks(file: string, text: string): { blocks: DocBlock[]; misspelt: number[] } {
  const lines = text.split('\n');
  const blocks: DocBlock[] = [];
  const misspelt: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fence = lines[i]!.trimEnd();
    if (!fence.trimStart().startsWith('```')) continue;
    if (fence !== RUNNABLE_FENCE) {
      if (/runnable/.test(fence)) misspelt.push(i + 1);
      // Skip to the closing fence so that a block's body is never read as a fence.
      const close = lines.findIndex((l, j) => j > i && l.trim() === '```');
      if (close > i) i = close;
      continue;
    }
    const end = lines.findIndex((l, j) => j > i && l.trim() === '```');
    if (end < 0) throw new Error(`${file}:${i + 1}: runnable block is never closed`);
    blocks.push({ file, line: i + 1, script: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return { blocks, misspelt };
}
