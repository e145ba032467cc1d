import { StringDecoder } from 'node:string_decoder';

/**
 * Bytes to text as kubectl decodes a manifest: k8s.io/cli-runtime `pkg/resource/visitor.go` (`FileVisitor.Visit`)
 * reads every file and stdin through `unicode.BOMOverride(unicode.UTF8.NewDecoder())` (golang.org/x/text): a UTF-8
 * byte order mark is dropped, a UTF-16 LE or BE one switches to UTF-16, anything else is UTF-8 (an invalid byte
 * reads as U+FFFD). Chunks may split a character or the mark itself: the decoder waits for the rest.
 */
export class TextStreamDecoder {
  private decoder?: StringDecoder;
  private bigEndian = false;
  /** Bytes held back: the start of the input until the mark is known, or the odd byte of a UTF-16 BE pair. */
  private held = Buffer.alloc(0);

  write(chunk: Buffer): string {
    let bytes = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    if (!this.decoder) {
      if (bytes.length < 3 && isPrefixOfMark(bytes)) {
        this.held = Buffer.from(bytes);
        return '';
      }
      bytes = this.start(bytes);
    }
    return this.decode(bytes);
  }

  end(): string {
    const rest = this.held;
    this.held = Buffer.alloc(0);
    if (!this.decoder) {
      const bytes = this.start(rest);
      return this.decoder!.write(bytes) + this.decoder!.end();
    }
    return (rest.length > 0 ? this.decoder.write(rest) : '') + this.decoder.end();
  }

  /** Picks the encoding from the mark and returns the bytes after it. */
  private start(bytes: Buffer): Buffer {
    if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return this.use('utf8', bytes.subarray(3));
    if (bytes[0] === 0xff && bytes[1] === 0xfe) return this.use('utf16le', bytes.subarray(2));
    if (bytes[0] === 0xfe && bytes[1] === 0xff) {
      this.bigEndian = true;
      return this.use('utf16le', bytes.subarray(2));
    }
    return this.use('utf8', bytes);
  }

  private use(encoding: 'utf8' | 'utf16le', rest: Buffer): Buffer {
    this.decoder ??= new StringDecoder(encoding);
    return rest;
  }

  private decode(bytes: Buffer): string {
    if (!this.bigEndian) return this.decoder!.write(bytes);
    // Node has no UTF-16 BE decoder: swap each pair (in a copy) and read it as LE; an odd last byte waits.
    const even = bytes.length - (bytes.length % 2);
    this.held = Buffer.from(bytes.subarray(even));
    return this.decoder!.write(Buffer.from(bytes.subarray(0, even)).swap16());
  }
}

const MARKS = [Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from([0xff, 0xfe]), Buffer.from([0xfe, 0xff])];

function isPrefixOfMark(bytes: Buffer): boolean {
  return MARKS.some((m) => bytes.length < m.length && m.subarray(0, bytes.length).equals(bytes));
}

/** A whole input's bytes as text (see TextStreamDecoder). */
export function decodeText(bytes: Buffer): string {
  const decoder = new TextStreamDecoder();
  return decoder.write(bytes) + decoder.end();
}
