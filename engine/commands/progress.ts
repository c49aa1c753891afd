// Training progress on the terminal: one line redrawn in place on a TTY, plain lines otherwise
// (a log file, a pipe, CI) at most every few seconds.
import type { StepMetrics, ValidationMetrics } from '../train/metrics';

export class Progress {
  private readonly tty: boolean;
  private lastPlain = 0;
  private readonly started = Date.now();
  private startStep: number | null = null;

  constructor(
    private readonly total: number,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  step(m: StepMetrics): void {
    this.startStep ??= m.step - 1;
    const done = m.step - this.startStep;
    const perStep = (Date.now() - this.started) / done;
    const eta = formatDuration(perStep * (this.total - m.step));
    const text = `step ${m.step}/${this.total} cross-entropy ${m.crossEntropy.toFixed(3)} total loss ${m.loss.toFixed(3)} ${Math.round(m.tokensPerSecond)} tok/s ETA ${eta}`;
    if (this.tty) {
      const width = 24;
      const filled = Math.round((width * m.step) / this.total);
      this.out.write(`\r[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${text}\x1b[K`);
    } else if (Date.now() - this.lastPlain > 5000 || m.step === this.total) {
      this.lastPlain = Date.now();
      this.out.write(text + '\n');
    }
  }

  line(text: string): void {
    this.out.write((this.tty ? '\r\x1b[K' : '') + text + '\n');
  }

  validation(v: ValidationMetrics): void {
    this.line(validationLine(v));
  }
}

export function validationLine(v: ValidationMetrics): string {
  return `step ${v.step}: validation cross-entropy ${v.crossEntropy.toFixed(3)} (total loss ${v.loss.toFixed(3)})`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
