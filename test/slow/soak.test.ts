import t from 'tap';
import { Agent, request } from 'node:https';
import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { writeDevCerts } from '../../src/cli/certs.js';
import { EMPTY_SNAPSHOT } from '../../src/cluster/snapshot.js';
import { Engine } from '../../src/engine/engine.js';
import { defaultPolicy } from '../../src/policy/presets.js';
import { ALL_RULES } from '../../src/rules/index.js';
import { buildApp } from '../../src/server/app.js';
import { createLogger } from '../../src/server/logger.js';
import { readKeyPair } from '../../src/server/tls.js';
import { admissionReview, exampleObject } from '../helpers/admission.js';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Bounded: SOAK_REVIEWS reviews over SOAK_CONNECTIONS keep-alive connections, loopback only. `npm test` sends
 * 30,000 to stay within its time budget; `npm run soak` sends 300,000.
 */
const TOTAL = Number(process.env.SOAK_REVIEWS ?? 30_000);
const CONNECTIONS = Number(process.env.SOAK_CONNECTIONS ?? 64);

t.test(
  `soak: ${TOTAL} reviews over ${CONNECTIONS} connections, none lost, each with its audit line, RSS flat`,
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'sctp-guard-soak-'));
    const files = writeDevCerts({ dir });
    // The audit trail is kept as uids only: the test itself must not be what grows.
    const audited = new Map<string, string>();
    let auditLines = 0;
    const sink = new Writable({
      write(chunk, _e, done) {
        for (const line of String(chunk).split('\n')) {
          if (!line.includes('"audit":"admission"')) continue;
          const rec = JSON.parse(line) as { uid: string; decision: string };
          audited.set(rec.uid, rec.decision);
          auditLines++;
        }
        done();
      },
    });
    const app = buildApp({
      engine: new Engine(ALL_RULES, defaultPolicy()),
      cluster: { snapshot: () => EMPTY_SNAPSHOT, readiness: () => ({ ready: true, reason: 'test' }) },
      logger: createLogger('info', sink),
      tls: readKeyPair(files.cert, files.key),
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    t.teardown(() => app.close());
    const port = (app.server.address() as AddressInfo).port;
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS, ca: readFileSync(files.caCert) });
    t.teardown(() => agent.destroy());

    const templates = [
      { obj: exampleObject('ako-sctp-loadbalancer.yaml', 'Service'), allowed: false },
      { obj: exampleObject('openshift-sctp-service-clusterip.yaml', 'Service'), allowed: true },
      { obj: exampleObject('antrea-npl-sctp-service.yaml', 'Service'), allowed: true },
      { obj: exampleObject('openshift-sctp-pod.yaml', 'Pod'), allowed: true },
    ].map(({ obj, allowed }) => ({ text: JSON.stringify(admissionReview(obj, { uid: '@@UID@@' })), allowed }));

    let mismatches = 0;
    let wrongDecisions = 0;
    let failures = 0;
    const post = (i: number) =>
      new Promise<void>((resolve) => {
        const tpl = templates[i % templates.length]!;
        const uid = `soak-${i}`;
        const body = tpl.text.replace('@@UID@@', uid);
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/validate',
            method: 'POST',
            agent,
            servername: 'localhost',
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const out = JSON.parse(Buffer.concat(chunks).toString()) as {
                response?: { uid: string; allowed: boolean };
              };
              if (out.response?.uid !== uid) mismatches++;
              else if (out.response.allowed !== tpl.allowed) wrongDecisions++;
              resolve();
            });
          },
        );
        req.on('error', () => {
          failures++;
          resolve();
        });
        req.end(body);
      });

    let next = 0;
    const rss: number[] = [];
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        await post(i);
        if (i % Math.max(1, Math.floor(TOTAL / 10)) === 0) {
          gc();
          rss.push(process.memoryUsage().rss);
        }
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    t.equal(failures, 0, 'no request failed');
    t.equal(mismatches, 0, 'every response carries its own request uid');
    t.equal(wrongDecisions, 0, 'every decision is right');
    t.equal(auditLines, TOTAL, 'one audit line per decision');
    t.equal(audited.size, TOTAL, 'every uid is in the audit trail');
    // RSS after warm-up (the first tenth) against the end: allow for allocator noise, not for a leak.
    const warm = rss[1] ?? rss[0]!;
    const end = rss.at(-1)!;
    t.ok(
      end < warm * 1.25 + 16 * 1024 * 1024,
      `RSS ${Math.round(warm / 1e6)} MB after warm-up, ${Math.round(end / 1e6)} MB at the end`,
    );
  },
);
