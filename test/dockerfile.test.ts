import t from 'tap';
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CMD, DOCKERFILE_STAGES, ENTRYPOINT, FINAL_STAGE, type Stage } from './helpers/dockerfile.js';
import { DEPLOY_DIR, kustomizeBuild } from './helpers/kustomize.js';
import { REPO_ROOT } from './helpers/repo.js';

/**
 * No Docker engine runs here: the Dockerfile is read and checked instruction by instruction, and
 * test/slow/image-layout.test.ts runs the production layout it describes as uid 65532 (npm run test:slow).
 */

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
};

const stages = DOCKERFILE_STAGES;
const final = FINAL_STAGE;
const runs = (s: Stage) => s.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
const copies = (s: Stage) => s.instructions.filter((i) => i.op === 'COPY').map((i) => i.args.split(/\s+/));
const stageNamed = (name: string) => stages.find((s) => s.name === name);

t.test('multi-stage on a supported Node LTS (22 or 24) image', async (t) => {
  t.ok(stages.length >= 2, `${stages.length} stages`);
  for (const s of stages) t.match(s.image, /^node:(22|24)(?:[.-]|$)/, `${s.name ?? 'final'} from ${s.image}`);
});

t.test('the build stage installs everything and compiles with npm run build', async (t) => {
  const build = stages.find((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
  t.ok(build, 'a stage runs npm run build');
  t.ok(build !== final, 'not in the final image');
  const install = runs(build!).find((r) => /\bnpm ci\b/.test(r));
  t.ok(install, 'npm ci from the lockfile');
  t.notMatch(install!, /--omit=dev/, 'with the dev dependencies (typescript)');
  for (const copy of copies(build!)) {
    for (const src of copy.slice(0, -1).filter((a) => !a.startsWith('--')))
      t.ok(existsSync(join(REPO_ROOT, src)), `${src} exists in the repository`);
  }
  t.ok(pkg.scripts.build, 'package.json has the build script');
});

t.test('the final image has production dependencies only, installed without lifecycle scripts', async (t) => {
  const fromStages = copies(final)
    .map((c) => /^--from=(\S+)$/.exec(c[0]!)?.[1])
    .filter((x): x is string => x !== undefined);
  const nodeModules = copies(final).find((c) => c.at(-1)!.replace(/\/$/, '').endsWith('node_modules'));
  t.ok(nodeModules, 'node_modules is copied in');
  const source = /^--from=(\S+)$/.exec(nodeModules![0]!)?.[1];
  const depsStage = source ? stageNamed(source) : final;
  t.ok(depsStage, `node_modules comes from stage ${source}`);
  const install = runs(depsStage!).find((r) => /\bnpm ci\b/.test(r));
  t.match(install, /--omit=dev/, 'npm ci --omit=dev');
  if (pkg.scripts.prepare)
    t.match(install, /--ignore-scripts/, 'package.json has a prepare script (tsc): it must not run');
  t.notOk(
    runs(final).some((r) => /\bnpm (ci|install)\b/.test(r) && !/--omit=dev/.test(r)),
    'no full install in the final stage',
  );
  t.notOk(
    copies(final).some((c) => c[0] === '.' || c.includes('src') || c.includes('./src')),
    'no sources and no build context copied wholesale',
  );
  t.ok(
    fromStages.some((s) => stageNamed(s) && runs(stageNamed(s)!).some((r) => /npm run build/.test(r))),
    'dist/ comes from the build stage',
  );
});

t.test('the compiled code needs nothing beyond the production dependencies', async (t) => {
  // The JavaScript built beside this file: dist-test/src (the test runner's build) or dist/src (tsc's).
  const dist = fileURLToPath(new URL('../src/', import.meta.url));
  t.ok(existsSync(dist), `${dist} is built`);
  const files = (readdirSync(dist, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => f.endsWith('.js'));
  const needed = new Set<string>();
  for (const file of files) {
    const text = readFileSync(join(dist, file), 'utf8');
    for (const m of text.matchAll(
      /(?:^|\n)\s*(?:import|export)\b[^'"\n;]*?from\s*['"]([^'"]+)['"]|(?:^|[^.\w])import\(\s*['"]([^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"]([^'"]+)['"]/g,
    )) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
      needed.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  t.ok(needed.has('fastify') && needed.has('pino'), 'the scan sees the imports');
  for (const name of needed) t.ok(name in pkg.dependencies, `${name} is a production dependency`);
});

t.test(
  'runs sctp-guard as a non-root numeric user; serve by default with the certificate paths deploy/ mounts',
  async (t) => {
    const user = final.instructions.filter((i) => i.op === 'USER').at(-1);
    t.ok(user, 'USER is set');
    const [uid, gid] = user!.args.split(':');
    t.match(uid, /^\d+$/, 'numeric, so the kubelet can verify runAsNonRoot');
    t.ok(Number(uid) > 0, 'not root');
    if (gid !== undefined) t.ok(Number(gid) > 0, 'nor the root group');
    const exposed = final.instructions.filter((i) => i.op === 'EXPOSE').flatMap((i) => i.args.split(/\s+/));
    t.same(exposed.sort(), ['8080', '8081', '8443'], 'webhook, metrics and probe ports');
    t.same(
      ENTRYPOINT,
      ['sctp-guard'],
      'exec form: node gets SIGTERM directly (graceful shutdown); `docker run IMAGE check ...` works',
    );
    t.ok(
      runs(final).some((r) => r.includes(`ln -s /app/${pkg.bin['sctp-guard']} /usr/local/bin/sctp-guard`)),
      'sctp-guard on PATH is the package bin',
    );
    t.equal(CMD[0], 'serve');
    // The default command reads the files where the Deployment mounts the Secret: nothing generated, nothing written.
    const deployment = kustomizeBuild(join(DEPLOY_DIR, 'base')).find((o) => o.kind === 'Deployment') as any;
    const container = deployment.spec.template.spec.containers[0];
    const tlsMount = container.volumeMounts.find((m: { name: string }) => m.name === 'tls').mountPath;
    t.same(CMD.slice(1).sort(), [`--tls-cert=${tlsMount}/tls.crt`, `--tls-key=${tlsMount}/tls.key`]);
    t.equal(container.args[0], 'serve', 'the Deployment args replace CMD: they start with the command');
    t.ok(
      copies(final).some((c) => c.slice(0, -1).includes('package.json')),
      'package.json is there (--version reads it)',
    );
    t.notOk(
      final.instructions.some((i) => i.op === 'USER' && /^(root|0)(:|$)/.test(i.args)),
      'never switches back to root',
    );
  },
);

t.test('.dockerignore keeps keys, dependencies and build output out of the context', async (t) => {
  const ignored = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const entry of ['node_modules', 'dist', 'certs', '.git', '*.key']) t.ok(ignored.includes(entry), entry);
});
