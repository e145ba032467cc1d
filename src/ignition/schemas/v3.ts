import {
  arrayOf,
  boolOrNull,
  cleanAbsolutePath,
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
 * Ignition spec 3.`minor`.0 (minor 0 to 5), from coreos/ignition `config/v3_N/schema/ignition.json` and
 * `config/v3_N/types`. One builder for the six versions, with each field gated on the version that added it
 * (`docs/migrating-configs.md`): 3.1 proxy, httpHeaders, compression on every resource, mountOptions, sha256;
 * 3.2 luks, partition resize, users/groups shouldExist, gs:// URLs; 3.3 kernelArguments, filesystem format
 * none; 3.4 tang advertisement, luks discard/openOptions, arn: URLs, optional raid level/devices, link target
 * and clevis custom fields; 3.5 luks cex.
 */
export function ignitionV3Schema(minor: number): Schema {
  const since = <T>(added: number, value: T): T | undefined => (minor >= added ? value : undefined);
  const relaxedIn34 = minor >= 4;

  const schemes = ['data', 'https?', 'tftp', 's3'];
  if (minor >= 2) schemes.push('gs');
  if (minor >= 4) schemes.push('arn');
  const source = url(schemes, true);
  const hash = verification(minor >= 1);

  // 3.0 has three resource shapes (config-reference, ca-reference, file-contents); 3.1 merged them.
  const resource =
    minor === 0
      ? object({ compression: compression(true), source, verification: hash })
      : object({
          source,
          compression: compression(true),
          httpHeaders: arrayOf(object({ name: str, value: strOrNull }, ['name'])),
          verification: hash,
        });
  // Shared parts are compiled once each through $ref (ajv compiles inlined copies again and again).
  const definitions = { resource, owner: object({ id: intOrNull, name: strOrNull }) };
  const resourceRef = { $ref: '#/definitions/resource' };
  const configReference = minor === 0 ? object({ source, verification: hash }, ['source']) : resourceRef;
  const caReference =
    minor === 0 ? object({ source: url(schemes, false), verification: hash }, ['source']) : resourceRef;

  const owner = { $ref: '#/definitions/owner' };
  const node = { path: cleanAbsolutePath, overwrite: boolOrNull, user: owner, group: owner };
  const formats = ['ext4', 'btrfs', 'xfs', 'vfat', 'swap', ''];
  if (minor >= 3) formats.push('none');

  const luks = object(
    {
      name: str,
      label: strOrNull,
      uuid: strOrNull,
      device: strOrNull,
      keyFile: resourceRef,
      wipeVolume: boolOrNull,
      clevis: object({
        custom: relaxedIn34
          ? object({ pin: strOrNull, config: strOrNull, needsNetwork: boolOrNull })
          : object({ pin: str, config: str, needsNetwork: boolOrNull }, ['pin', 'config']),
        tpm2: boolOrNull,
        tang: arrayOf(object({ url: str, thumbprint: strOrNull, advertisement: since(4, strOrNull) })),
        threshold: intOrNull,
      }),
      options: strings,
      discard: since(4, boolOrNull),
      openOptions: since(4, strings),
      cex: since(5, object({ enabled: boolOrNull })),
    },
    ['name'],
  );

  const ownerFields = {
    uid: intOrNull,
    gecos: strOrNull,
    homeDir: strOrNull,
    noCreateHome: boolOrNull,
    primaryGroup: strOrNull,
  };

  return {
    $schema: DRAFT_04,
    definitions,
    ...object(
      {
        ignition: object(
          {
            version: { type: 'string', enum: [`3.${minor}.0`] },
            config: object({ merge: arrayOf(configReference), replace: configReference }),
            timeouts: object({ httpResponseHeaders: intOrNull, httpTotal: intOrNull }),
            security: object({ tls: object({ certificateAuthorities: arrayOf(caReference) }) }),
            proxy: since(1, object({ httpProxy: strOrNull, httpsProxy: strOrNull, noProxy: strings })),
          },
          ['version'],
        ),
        storage: object({
          disks: arrayOf(
            object(
              {
                device: str,
                wipeTable: boolOrNull,
                partitions: arrayOf(
                  object({
                    label: strOrNull,
                    number: int,
                    sizeMiB: intOrNull,
                    startMiB: intOrNull,
                    typeGuid: strOrNull,
                    guid: strOrNull,
                    wipePartitionEntry: boolOrNull,
                    shouldExist: boolOrNull,
                    resize: since(2, boolOrNull),
                  }),
                ),
              },
              ['device'],
            ),
          ),
          raid: arrayOf(
            object(
              {
                name: str,
                level: relaxedIn34 ? strOrNull : str,
                devices: strings,
                spares: intOrNull,
                options: strings,
              },
              relaxedIn34 ? ['name'] : ['name', 'level', 'devices'],
            ),
          ),
          luks: since(2, arrayOf(luks)),
          filesystems: arrayOf(
            object(
              {
                path: strOrNull,
                device: str,
                format: { type: ['string', 'null'], enum: [...formats, null] },
                options: strings,
                mountOptions: since(1, strings),
                wipeFilesystem: boolOrNull,
                label: strOrNull,
                uuid: strOrNull,
              },
              ['device'],
            ),
          ),
          files: arrayOf(object({ ...node, mode, contents: resourceRef, append: arrayOf(resourceRef) }, ['path'])),
          directories: arrayOf(object({ ...node, mode }, ['path'])),
          links: arrayOf(
            object(
              { ...node, target: relaxedIn34 ? strOrNull : str, hard: boolOrNull },
              relaxedIn34 ? ['path'] : ['path', 'target'],
            ),
          ),
        }),
        systemd: object({
          units: arrayOf(
            object(
              {
                name: unitName,
                enabled: boolOrNull,
                mask: boolOrNull,
                contents: strOrNull,
                dropins: arrayOf(object({ name: dropinName, contents: strOrNull }, ['name'])),
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
                ...ownerFields,
                groups: strings,
                noUserGroup: boolOrNull,
                system: boolOrNull,
                noLogInit: boolOrNull,
                shell: strOrNull,
                shouldExist: since(2, boolOrNull),
              },
              ['name'],
            ),
          ),
          groups: arrayOf(
            object(
              {
                name: str,
                gid: intOrNull,
                passwordHash: strOrNull,
                system: boolOrNull,
                shouldExist: since(2, boolOrNull),
              },
              ['name'],
            ),
          ),
        }),
        kernelArguments: since(3, object({ shouldExist: strings, shouldNotExist: strings })),
      },
      ['ignition'],
    ),
  };
}
