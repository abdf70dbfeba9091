// A read of the browser's statistics every few hundred milliseconds: the connection reading
// (quality.js) and who is speaking (speaking.js) share the timing.

/** Calls the subclass's async sample() every `ms`, never two at once (getStats() can be slow). */
export class PeriodicSampler {
  /** @param {number} ms */
  constructor(ms) {
    this.ms = ms;
    this.timer = 0;
    this.busy = false;
  }

  start() {
    if (!this.timer) this.timer = window.setInterval(() => this.tick(), this.ms);
  }

  stop() {
    window.clearInterval(this.timer);
    this.timer = 0;
  }

  /** False once stopped: a sample still in flight then shows nothing. */
  get running() {
    return this.timer !== 0;
  }

  async tick() {
    if (this.busy) return;
    this.busy = true;
    try {
      await this.sample();
    } finally {
      this.busy = false;
    }
  }

  /** @abstract */
  async sample() {}
}
