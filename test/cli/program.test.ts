import t from 'tap';
import { buildProgram, plainDefault } from '../../src/cli/program.js';

const program = buildProgram();
const commands = [program, ...program.commands];

t.test('--help shows every default as a person types it, never JSON', async (t) => {
  for (const command of commands) {
    const help = command.helpInformation();
    t.notMatch(help, /default:? [[{"]/, `${command.name()}: no JSON default`);
    t.notMatch(help, /choices: "/, `${command.name()}: no JSON choices`);
    for (const option of command.options)
      t.doesNotThrow(() => plainDefault(option), `${command.name()} ${option.long}`);
  }
  const serve = program.commands
    .find((c) => c.name() === 'serve')!
    .helpInformation()
    .replace(/\s+/g, ' ');
  t.match(
    serve,
    '--health-probe-bind-address <addr> plain HTTP GET /healthz, /readyz ([host]:port; 0: off) (default :8081)',
  );
  t.match(serve, '(default :8080)');
  t.match(serve, '(one of fatal, error, warn, info, debug, trace, silent; default info)');
  const certs = program.commands
    .find((c) => c.name() === 'certs')!
    .helpInformation()
    .replace(/\s+/g, ' ');
  t.match(certs, 'output folder (default certs)');
  t.notMatch(certs, /--force .*default/, 'an off switch shows no default');
});

t.test('a default with no plain form is a programming error, caught here', async (t) => {
  t.throws(
    () => plainDefault({ long: '--x', defaultValue: { host: 'h' }, defaultValueDescription: undefined }),
    /--x: its default has no plain form/,
  );
  t.equal(plainDefault({ long: '--x', defaultValue: { host: 'h' }, defaultValueDescription: 'h:1' }), 'h:1');
  t.equal(plainDefault({ long: '--x', defaultValue: ['a', 'b'], defaultValueDescription: undefined }), 'a,b');
  t.equal(plainDefault({ long: '--x', defaultValue: [], defaultValueDescription: undefined }), undefined);
});
