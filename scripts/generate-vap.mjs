// npm run generate:vap: rewrites deploy/components/vap/policies.yaml from the rules (after tsc; see package.json).
import { writeFileSync } from 'node:fs';
import { vapComponentFile } from '../dist/src/cli/export.js';

writeFileSync(new URL('../deploy/components/vap/policies.yaml', import.meta.url), vapComponentFile());
