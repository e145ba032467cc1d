import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';

/** The largest file (or stdin) `check` reads by default: what the YAML parser holds for it is about 10 times this. */
export const DEFAULT_MAX_FILE_BYTES = 32 * 2 ** 20;

/** Why an input cannot be read, as one line (the caller adds the file). */
export class ReadError extends Error {
  override name = 'ReadError';
}

/** `64Mi`, `500M`, `1Gi`, `1048576`: a byte count as Kubernetes quantities write it. */
export function parseByteSize(text: string): number {
  const m = /^(\d+)(Ki|Mi|Gi|K|M|G)?$/.exec(text.trim());
  const unit = { '': 1, K: 1e3, M: 1e6, G: 1e9, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 }[m?.[2] ?? ''];
  if (!m || unit === undefined || Number(m[1]) <= 0)
    throw new ReadError(`"${text}" is not a size: write bytes, or a number with Ki, Mi, Gi (K, M, G), e.g. 64Mi`);
  return Number(m[1]) * unit;
}

export function formatBytes(n: number): string {
  return n >= 2 ** 20 ? `${+(n / 2 ** 20).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
}

function tooLarge(size: string, max: number): ReadError {
  return new ReadError(
    `${size}, over the limit of ${formatBytes(max)} per input: raise it with --max-file-size (e.g. --max-file-size ${Math.ceil((max * 4) / 2 ** 20)}Mi)`,
  );
}

/**
 * A regular file's bytes, at most `maxBytes`. Devices, FIFOs and sockets are refused (`/dev/zero` never ends, a FIFO
 * may never open): they are read as stdin (`-f - < /dev/stdin`). Opened non-blocking, so that a FIFO planted under
 * a manifest's name cannot stall the open; the size is checked before any byte is read.
 */
export function readFileBytes(path: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new ReadError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new ReadError(
        `not a regular file (${fileType(stat)}): only files and folders are read; give a device or pipe as stdin (-f - < ${path})`,
      );
    if (stat.size > maxBytes) throw tooLarge(formatBytes(stat.size), maxBytes);
    // Read up to one byte past the limit: a file that grows while it is read is still bounded.
    const buffer = Buffer.allocUnsafe(Math.min(stat.size, maxBytes) + 1);
    let length = 0;
    for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0;)
      length += n;
    if (length > maxBytes) throw tooLarge(`more than ${formatBytes(maxBytes)}`, maxBytes);
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/**
 * All of a stream (stdin, piped or redirected) read as it arrives, at most `maxBytes`: a non-blocking pipe is waited
 * for (readFileSync(0) fails on one with EAGAIN), and an endless one (`< /dev/zero`) is cut at the limit.
 */
export async function readStreamBytes(
  stream: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  maxBytes: number,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    length += bytes.length;
    if (length > maxBytes) {
      (stream as { destroy?: () => void }).destroy?.();
      throw tooLarge(`more than ${formatBytes(maxBytes)}`, maxBytes);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, length);
}

function fileType(stat: Stats): string {
  if (stat.isCharacterDevice()) return 'a character device';
  if (stat.isBlockDevice()) return 'a block device';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}
