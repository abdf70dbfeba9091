// The delay of what this page shows, measured on the frames themselves: for each video from
// the server, requestVideoFrameCallback tells when a frame will be on the screen
// (expectedDisplayTime) and when the publisher captured it (captureTime, in this page's clock:
// the browser maps the RTP time through the server's sender reports and the round trip). Their
// difference is glass to glass: capture, encoding, both network hops, the server, the jitter
// buffer, decoding and rendering. The older figure (half the round trip plus the jitter
// buffer) left out everything but the last hop and the buffer: a quarter of the truth.

/** Frames kept per video: about the last two seconds at 30 fps. */
const KEEP = 60;
/** Sender reports whose clock correction is kept: Chromium's own offset filter is a median. */
const KEEP_REPORTS = 20;

/** The median of a list of numbers, null if empty. */
export function median(values) {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * One frame's delay in ms from requestVideoFrameCallback's metadata, null when the browser
 * does not know the capture time (no sender report yet) or the figure is not plausible.
 * @param {{expectedDisplayTime: number, captureTime?: number}} meta
 */
export function frameDelay(meta) {
  if (typeof meta.captureTime !== "number" || !(meta.captureTime > 0)) return null;
  const ms = meta.expectedDisplayTime - meta.captureTime;
  return ms >= 0 && ms < 60_000 ? ms : null;
}

/**
 * How many ms too long a frame's delay reads from Chromium's captureTime, from the sender
 * reports it received (remote-outbound-rtp): it places the sender's clock at each
 * report's arrival minus half the round trip, and on a short path that half is mostly the two
 * ends' own processing, not flight (measured: round trips of 2-25 ms on loopback, where the
 * flight is well under 1 ms; the delay read 4-20 ms too long). When both clocks agree (one
 * host, or NTP-synchronised machines: what the server assumes of the publisher too, clock.py)
 * the report's arrival minus its send time is the real one-way time, and Chromium's error is
 * half the round trip minus it. A report that arrived before it was sent or after a whole
 * round trip means the clocks disagree by more than that: it is not used. The median of the
 * kept reports, 0 without any.
 * @param {{rttMs: number, oneWayMs: number}[]} reports
 */
export function clockCorrection(reports) {
  const usable = reports.filter((r) => r.rttMs > 0 && r.oneWayMs >= 0 && r.oneWayMs <= r.rttMs);
  const ms = median(usable.map((r) => r.rttMs / 2 - r.oneWayMs));
  return ms === null ? 0 : ms;
}

/**
 * The sender report of each incoming video stream in one statistics report, as the one-way
 * time (its arrival minus its send time) and the round trip at that time.
 * @param {Iterable<any>} stats the values of an RTCStatsReport
 * @returns {Map<string, {sent: number, rttMs: number, oneWayMs: number}>} by stream id
 */
export function senderReports(stats) {
  const out = new Map();
  for (const s of stats) {
    if (s.type !== "remote-outbound-rtp" || s.kind !== "video") continue;
    if (typeof s.remoteTimestamp !== "number" || typeof s.roundTripTime !== "number") continue;
    out.set(s.id, {
      sent: s.remoteTimestamp,
      rttMs: s.roundTripTime * 1000,
      oneWayMs: s.timestamp - s.remoteTimestamp,
    });
  }
  return out;
}

/** Watches the page's remote videos; `take()` gives the median delay of recent frames. */
export class FrameDelays {
  /** @param {(track: MediaStreamTrack) => boolean} isRemote */
  constructor(isRemote) {
    this.isRemote = isRemote;
    /** @type {WeakSet<HTMLVideoElement>} */ this.watched = new WeakSet();
    /** @type {number[]} */ this.recent = [];
    /** @type {{rttMs: number, oneWayMs: number}[]} */ this.reports = [];
    /** @type {Map<string, number>} stream → send time of the last report taken */
    this.lastReport = new Map();
  }

  /** Take the sender reports of one statistics report (new ones only). */
  readReports(stats) {
    for (const [id, r] of senderReports(stats)) {
      if (this.lastReport.get(id) === r.sent) continue;
      this.lastReport.set(id, r.sent);
      this.reports.push({ rttMs: r.rttMs, oneWayMs: r.oneWayMs });
      if (this.reports.length > KEEP_REPORTS) this.reports.shift();
    }
  }

  /** Start reading videos that appeared since the last call. */
  scan() {
    for (const video of document.querySelectorAll("video")) {
      if (this.watched.has(video) || !("requestVideoFrameCallback" in video)) continue;
      const stream = video.srcObject;
      const track = stream instanceof MediaStream ? stream.getVideoTracks()[0] : null;
      if (!track || !this.isRemote(track)) continue;
      this.watched.add(video);
      const onFrame = (_now, meta) => {
        if (!video.isConnected) return; // the tile went: stop asking
        const ms = frameDelay(meta);
        if (ms !== null) {
          this.recent.push(ms);
          if (this.recent.length > KEEP) this.recent.shift();
        }
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }
  }

  /** The median delay (ms) of the frames shown since the last call, corrected for the
   * browser's clock placement (clockCorrection), null if none. */
  take() {
    this.scan();
    const ms = median(this.recent);
    this.recent = [];
    return ms === null ? null : Math.max(0, Math.round(ms - clockCorrection(this.reports)));
  }
}
