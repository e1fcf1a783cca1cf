/**
 * The two events the engine listens to on a downstream response (DownRes): 'close' once when the response is over,
 * and 'drain' when it may write again. Not node's EventEmitter: one listener slot for 'close' (the exchange's) and a
 * list for 'drain' made only when someone waits, so a response costs no emitter per request.
 */
export abstract class ResponseEvents {
  private closeEmitted = false;
  private closeListener: (() => void) | null = null;
  private drainListeners: (() => void)[] | null = null;

  on(event: 'close', listener: () => void): this {
    if (event === 'close') this.closeListener = listener;
    return this;
  }

  once(event: 'drain', listener: () => void): this {
    if (event === 'drain') (this.drainListeners ??= []).push(listener);
    return this;
  }

  /** Writing may go on: whoever waits is told, once. */
  drained(): void {
    const l = this.drainListeners;
    if (l === null) return;
    this.drainListeners = null;
    for (const f of l) f.call(this);
  }

  /** The response is over (written whole, or its connection or stream gone first): 'close', once. */
  closed(): void {
    if (this.closeEmitted) return;
    this.closeEmitted = true;
    const f = this.closeListener;
    if (f !== null) f.call(this);
  }
}
