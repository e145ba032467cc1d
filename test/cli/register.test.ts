import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { writeDevCerts } from '../../src/cli/certs.js';
import { configurationsFor, type RegisterOptions } from '../../src/cli/register.js';

// --ca-bundle is published in both webhook configurations (anyone who may list them reads it): CA certificates only.
const dir = t.testdir();
const certs = writeDevCerts({ dir });
const options = (caBundle: string): RegisterOptions => ({
  caBundle,
  serviceName: 's',
  namespace: 'ns',
  servicePort: 443,
  legacy: false,
  timeoutSeconds: 5,
  dryRun: false,
});
const published = (file: string) =>
  Buffer.from(configurationsFor(options(file)).validating!.webhooks![0]!.clientConfig.caBundle!, 'base64').toString();

t.test('a CA certificate is published as it is written', async (t) => {
  t.equal(published(certs.caCert), readFileSync(certs.caCert, 'utf8'));
});

t.test('a file with a private key is refused, whatever the order of its blocks', async (t) => {
  const both = join(dir, 'ca-and-key.pem');
  writeFileSync(both, readFileSync(certs.caCert, 'utf8') + readFileSync(certs.caKey, 'utf8'));
  t.throws(() => configurationsFor(options(both)), {
    message: `--ca-bundle ${both}: holds a RSA PRIVATE KEY block, and the bundle is published in the webhook configurations: pass a file with only the CA certificate (ca.crt, never a key)`,
  });
  t.throws(() => configurationsFor(options(certs.key)), /holds a RSA PRIVATE KEY block/);
});

t.test('a certificate that is not a CA (the serving certificate) is refused', async (t) => {
  t.throws(() => configurationsFor(options(certs.cert)), {
    message: new RegExp(
      `^--ca-bundle ${certs.cert}: certificate 1 \\(CN=[^)]*\\) is not a CA \\(no basicConstraints CA:TRUE\\): pass the CA that signed the serving certificate, not the serving certificate$`,
    ),
  });
  const chain = join(dir, 'chain.pem');
  writeFileSync(chain, readFileSync(certs.caCert, 'utf8') + readFileSync(certs.cert, 'utf8'));
  t.throws(() => configurationsFor(options(chain)), /certificate 2 .* is not a CA/);
});

t.test('text around the certificates is not published', async (t) => {
  const noted = join(dir, 'noted.pem');
  writeFileSync(noted, `subject=CN = sctp-guard development CA\n${readFileSync(certs.caCert, 'utf8')}`);
  t.equal(published(noted).trim(), readFileSync(certs.caCert, 'utf8').trim());
});
