import { summarize, type Report } from './report.js';

/** A one-line progress display on stderr, only when stderr is a terminal (never in pipes or CI logs). */
export class Progress {
  private shown = false;

  constructor(private readonly stream: Pick<NodeJS.WriteStream, 'write' | 'isTTY'>) {}

  update(resource: string, report: Report): void {
    if (!this.stream.isTTY) return;
    const s = summarize(report);
    this.stream.write(
      `\r\u001b[K[audit] ${resource}: ${s.objects + s.reportedAtOwner} objects, ${s.denied} denied, ${s.warned} warned`,
    );
    this.shown = true;
  }

  note(text: string): void {
    if (!this.stream.isTTY) return;
    this.stream.write(`\r\u001b[K[audit] ${text}`);
    this.shown = true;
  }

  done(): void {
    if (this.shown) this.stream.write('\r\u001b[K');
    this.shown = false;
  }
}
