// npm run generate:validators: rewrites src/ignition/generated/validators.ts, the Ignition validators as ajv
// standalone code, from src/ignition/schemas/ (after tsc; see package.json). test/ignition/validate.test.ts fails
// while the checked-in file differs from what this writes.
import { mkdirSync, writeFileSync } from 'node:fs';
import { validatorsModule } from '../dist/src/ignition/schemas/standalone.js';

const dir = new URL('../src/ignition/generated/', import.meta.url);
mkdirSync(dir, { recursive: true });
writeFileSync(new URL('validators.ts', dir), validatorsModule());
