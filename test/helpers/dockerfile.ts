/** The Dockerfile read instruction by instruction (no Docker engine runs here). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './repo.js';

export interface Instruction {
  op: string;
  args: string;
}
export interface Stage {
  image: string;
  name?: string;
  instructions: Instruction[];
}

/** Instructions (continuation lines joined, comments dropped) grouped by FROM into stages. */
export function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#') || (line === '' && pending === '')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logical.filter(Boolean)) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line)!;
    if (op!.toUpperCase() === 'FROM') {
      const [, image, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!.trim())!;
      stages.push({ image: image!, name, instructions: [] });
    } else {
      stages.at(-1)!.instructions.push({ op: op!.toUpperCase(), args: args!.trim() });
    }
  }
  return stages;
}

export const DOCKERFILE_STAGES = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
export const FINAL_STAGE = DOCKERFILE_STAGES.at(-1)!;
/** ENTRYPOINT and CMD of the final image, in exec form. */
export const ENTRYPOINT = JSON.parse(FINAL_STAGE.instructions.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
export const CMD = JSON.parse(FINAL_STAGE.instructions.find((i) => i.op === 'CMD')?.args ?? '[]') as string[];
