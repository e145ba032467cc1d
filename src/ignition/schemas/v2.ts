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
 * Ignition specs 2.0.0, 2.1.0 and 2.2.0, from coreos/ignition `config/v2_N/types` (tag v0.35.0: the JSON keys of
 * each version's structs) and `doc/configuration-v2_N.md`; `config/v2_2/types` validators for paths, modes,
 * schemes and unit names. 2.1 added directories, links, timeouts, owner names, unit `enabled`, partition guid,
 * mount label/uuid/options/wipeFilesystem and the user fields beside `create`; 2.2 added `ignition.security`,
 * file `append`, node `overwrite`, raid `options` and networkd drop-ins.
 */
export function ignitionV2Schema(minor: 0 | 1 | 2): Schema {
  const since = <T>(m: number, value: T): T | undefined => (minor >= m ? value : undefined);
  const source = url(['data', 'https?', 'tftp', 's3'], false);
  const reference = object({ source, verification: verification(false) }, ['source'], true);
  const owner = minor === 0 ? object({ id: int }) : object({ id: intOrNull, name: str }, [], true);
  const node = { filesystem: str, path: absolutePath, overwrite: since(2, boolOrNull), user: owner, group: owner };
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
  return {
    $schema: DRAFT_04,
    ...object(
      {
        ignition: object(
          {
            version: { type: 'string', enum: [`2.${minor}.0`] },
            config: object({ append: arrayOf(reference), replace: reference }),
            timeouts: since(1, object({ httpResponseHeaders: intOrNull, httpTotal: intOrNull })),
            security: since(2, object({ tls: object({ certificateAuthorities: arrayOf(reference) }) })),
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
                  object({
                    label: strOrNull,
                    number: int,
                    size: intOrNull,
                    start: intOrNull,
                    typeGuid: str,
                    guid: since(1, str),
                  }),
                ),
              },
              ['device'],
            ),
          ),
          raid: arrayOf(
            object({ name: str, level: str, devices: strings, spares: int, options: since(2, strings) }, [
              'name',
              'level',
              'devices',
            ]),
          ),
          filesystems: arrayOf(
            object({
              name: str,
              mount: object(
                {
                  device: str,
                  format: str,
                  wipeFilesystem: since(1, bool),
                  label: since(1, strOrNull),
                  uuid: since(1, strOrNull),
                  options: since(1, strings),
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
                append: since(2, bool),
                contents: object({ compression: compression(false), source, verification: verification(false) }),
              },
              ['filesystem', 'path'],
            ),
          ),
          directories: since(1, arrayOf(object({ ...node, mode }, ['filesystem', 'path']))),
          links: since(1, arrayOf(object({ ...node, target: str, hard: bool }, ['filesystem', 'path', 'target']))),
        }),
        systemd: object({
          units: arrayOf(
            object(
              {
                name: unitName,
                enable: bool,
                enabled: since(1, boolOrNull),
                mask: bool,
                contents: str,
                dropins: arrayOf(dropin),
              },
              ['name'],
            ),
          ),
        }),
        networkd: object({
          units: arrayOf(
            object(
              {
                name: {
                  type: 'string',
                  pattern: '\\.(?:link|netdev|network)$',
                  description: 'a .link, .netdev or .network name',
                },
                contents: str,
                dropins: since(2, arrayOf(dropin)),
              },
              ['name'],
            ),
          ),
        }),
        passwd: object({
          users: arrayOf(
            object(
              {
                name: str,
                passwordHash: strOrNull,
                sshAuthorizedKeys: strings,
                ...(minor >= 1 ? userFields : {}),
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
}
