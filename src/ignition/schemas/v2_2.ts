import {
  absolutePath,
  arrayOf,
  bool,
  boolOrNull,
  compression,
  DRAFT_04,
  dropinName,
  int,
  intOrNull,
  mode,
  object,
  str,
  strings,
  strOrNull,
  unitName,
  url,
  verification,
  type Schema,
} from './builders.js';

/**
 * Ignition spec 2.2.0, from coreos/ignition `doc/configuration-v2_2.md` and the 2.x `schema/ignition.json`
 * (spec2x branch); `config/v2_2/types` validators for paths, modes, schemes and unit names.
 */
const source = url(['data', 'https?', 'tftp', 's3'], false);
const reference = object({ source, verification: verification(false) }, ['source'], true);
const owner = object({ id: intOrNull, name: str }, [], true);
const node = { filesystem: str, path: absolutePath, overwrite: boolOrNull, user: owner, group: owner };
const dropin = object({ name: dropinName, contents: str }, ['name']);

const userFields = {
  uid: intOrNull,
  gecos: str,
  homeDir: str,
  noCreateHome: bool,
  primaryGroup: str,
  groups: strings,
  noUserGroup: bool,
  system: bool,
  noLogInit: bool,
  shell: str,
};

export const ignitionV2_2Schema: Schema = {
  $schema: DRAFT_04,
  ...object(
    {
      ignition: object(
        {
          version: { type: 'string', enum: ['2.2.0'] },
          config: object({ append: arrayOf(reference), replace: reference }),
          timeouts: object({ httpResponseHeaders: intOrNull, httpTotal: intOrNull }),
          security: object({ tls: object({ certificateAuthorities: arrayOf(reference) }) }),
        },
        ['version'],
      ),
      storage: object({
        disks: arrayOf(
          object(
            {
              device: str,
              wipeTable: bool,
              partitions: arrayOf(
                object({ label: strOrNull, number: int, size: intOrNull, start: intOrNull, typeGuid: str, guid: str }),
              ),
            },
            ['device'],
          ),
        ),
        raid: arrayOf(object({ name: str, level: str, devices: strings, spares: int, options: strings }, ['name', 'level', 'devices'])),
        filesystems: arrayOf(
          object({
            name: str,
            mount: object(
              {
                device: str,
                format: str,
                wipeFilesystem: bool,
                label: strOrNull,
                uuid: strOrNull,
                options: strings,
                create: object({ force: bool, options: strings }, [], true),
              },
              ['device', 'format'],
              true,
            ),
            path: strOrNull,
          }),
        ),
        files: arrayOf(
          object(
            {
              ...node,
              mode,
              append: bool,
              contents: object({ compression: compression(false), source, verification: verification(false) }),
            },
            ['filesystem', 'path'],
          ),
        ),
        directories: arrayOf(object({ ...node, mode }, ['filesystem', 'path'])),
        links: arrayOf(object({ ...node, target: str, hard: bool }, ['filesystem', 'path', 'target'])),
      }),
      systemd: object({
        units: arrayOf(
          object(
            { name: unitName, enable: bool, enabled: boolOrNull, mask: bool, contents: str, dropins: arrayOf(dropin) },
            ['name'],
          ),
        ),
      }),
      networkd: object({
        units: arrayOf(object({ name: { type: 'string', pattern: '\\.(?:link|netdev|network)$', description: 'a .link, .netdev or .network name' }, contents: str, dropins: arrayOf(dropin) }, ['name'])),
      }),
      passwd: object({
        users: arrayOf(
          object(
            {
              name: str,
              passwordHash: strOrNull,
              sshAuthorizedKeys: strings,
              ...userFields,
              create: object(userFields, [], true),
            },
            ['name'],
          ),
        ),
        groups: arrayOf(object({ name: str, gid: intOrNull, passwordHash: str, system: bool }, ['name'])),
      }),
    },
    ['ignition'],
  ),
};
