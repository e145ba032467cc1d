import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describeLoadSctpModule, docsLoadSctpConfig } from '../../src/cluster/remediation.js';
import { REPO_ROOT } from '../helpers/repo.js';

// The load-sctp-module MachineConfig is defined once (src/cluster/remediation.ts); the docs quote it.
t.test('the docs quote the MachineConfig remediate writes and the denial names', async (t) => {
  const quoted = describeLoadSctpModule('3.x');
  for (const source of ['data:,', 'data:,sctp%0A']) t.match(quoted, `source "${source}"`);
  const files = (docsLoadSctpConfig() as { storage: { files: Array<{ contents: { source: string } }> } }).storage.files;
  t.same(
    files.map((f) => f.contents.source),
    ['data:,', 'data:,sctp%0A'],
    'the config carries the sources it is described with',
  );
  for (const doc of ['docs/rules.md', 'docs/fixing-a-denial.md']) {
    t.ok(readFileSync(join(REPO_ROOT, doc), 'utf8').includes(quoted), `${doc} quotes: ${quoted}`);
  }
});
