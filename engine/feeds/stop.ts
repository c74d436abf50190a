// What the long-running feed loops of the command line (record, relay send
// and recv) share: where their text goes, and when they end.

/** Text out of a loop: `out` for its results (stdout), `err` for progress and status (stderr). Each call is whole lines. */
export interface TextOut {
  out(text: string): void;
  err(text: string): void;
}

/** Resolves with the reason when SIGINT/SIGTERM arrives, the duration passes, or stop() is called. */
export class StopSignal {
  private resolveStop!: (why: string) => void;
  readonly promise = new Promise<string>((r) => (this.resolveStop = r));
  stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly onSignal = (sig: NodeJS.Signals) => this.stop(sig);

  constructor(durationS: number | undefined) {
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
    if (durationS !== undefined) this.timer = setTimeout(() => this.stop('duration'), durationS * 1000);
  }

  stop(why: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.dispose();
    this.resolveStop(why);
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    if (this.timer) clearTimeout(this.timer);
  }
}
