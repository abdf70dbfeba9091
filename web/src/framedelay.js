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
/** Sender reports kept for the clock offset (clockOffset): about a minute of them. */
const KEEP_CLOCK = 40;
/** Video RTP clock: 90 kHz for every video codec. */
const VIDEO_CLOCK_RATE = 90_000;

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

/** a − b for 32-bit RTP timestamps, signed (they wrap). */
export function tsDiff(a, b) {
  const d = (((a - b) % 2 ** 32) + 2 ** 32) % 2 ** 32;
  return d >= 2 ** 31 ? d - 2 ** 32 : d;
}

/**
 * This page's clock minus the server's, in ms, from the server's sender reports (the
 * remote-outbound-rtp of senderReports): each arrived `oneWayMs` after the server says it sent
 * it, which is the offset plus that report's one-way time. One-way times and round trips carry
 * both ends' processing (measured: round trips of 2-25 ms on loopback, where the flight is well
 * under 1 ms), and that only ever adds: so the *smallest* arrival-minus-send is the offset plus
 * the quickest one-way time, and that quickest one-way time is taken as half the quickest
 * round trip — the one thing no clock exchange can measure (NTP assumes the same), and the
 * only error left: half the quickest round trip at most. Chromium instead takes the median
 * over its last 100 reports of arrival − send − rtt/2 with each report's own round trip, so
 * every millisecond of processing in a round trip moves it by half a millisecond.
 * null without a report with a round trip.
 * @param {{rttMs: number, oneWayMs: number}[]} reports
 */
export function clockOffset(reports) {
  const usable = reports.filter((r) => r.rttMs >= 0 && Number.isFinite(r.oneWayMs));
  if (!usable.length) return null;
  const oneWay = Math.min(...usable.map((r) => r.oneWayMs));
  return oneWay - Math.min(...usable.map((r) => r.rttMs)) / 2;
}

/**
 * A frame's delay in ms from its RTP timestamp: `line` is a point of the stream's capture-time
 * line that the server gives (`media_clock`'s answer: an RTP timestamp as this page gets it
 * and its capture time in Unix ms, the server's clock, docs/media.md), `shownMs` when the frame
 * is on the glass (Unix ms, this page's clock: performance.timeOrigin + expectedDisplayTime),
 * `offsetMs` this page's clock minus the server's (clockOffset). null if not plausible.
 * @param {number} shownMs @param {number} rtpTimestamp
 * @param {{rtp: number, ms: number}} line @param {number} offsetMs
 */
export function lineDelay(shownMs, rtpTimestamp, line, offsetMs) {
  const capture = line.ms + (tsDiff(rtpTimestamp, line.rtp) * 1000) / VIDEO_CLOCK_RATE;
  const ms = shownMs - offsetMs - capture;
  return ms >= 0 && ms < 60_000 ? ms : null;
}

/**
 * The capture-time lines of `media_clock`'s answer ({mid: [rtp, ms]}) as a Map, leaving
 * out anything malformed (an older server sends none).
 * @param {unknown} capture
 * @returns {Map<string, {rtp: number, ms: number}>}
 */
export function captureLines(capture) {
  const out = new Map();
  if (!capture || typeof capture !== "object") return out;
  for (const [mid, point] of Object.entries(capture)) {
    if (!Array.isArray(point) || point.length !== 2) continue;
    const [rtp, ms] = point;
    if (Number.isInteger(rtp) && rtp >= 0 && rtp < 2 ** 32 && Number.isFinite(ms) && ms > 0) {
      out.set(mid, { rtp, ms });
    }
  }
  return out;
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
  /** @param {(track: MediaStreamTrack) => string|boolean|null} midOf the MID a remote video
   * comes on (true: remote, MID unknown), null/false for the page's own previews */
  constructor(midOf) {
    this.midOf = midOf;
    /** @type {WeakSet<HTMLVideoElement>} */ this.watched = new WeakSet();
    /** @type {{chromium: number|null, mid: string|null, rtp: number|null, shown: number}[]} */
    this.recent = [];
    /** @type {{rttMs: number, oneWayMs: number}[]} */ this.reports = [];
    /** @type {{rttMs: number, oneWayMs: number}[]} the longer list clockOffset reads */
    this.clock = [];
    /** @type {Map<string, number>} stream → send time of the last report taken */
    this.lastReport = new Map();
    /** @type {Map<string, {rtp: number, ms: number}>} MID → capture-time line */
    this.lines = new Map();
  }

  /** Take the sender reports of one statistics report (new ones only). */
  readReports(stats) {
    for (const [id, r] of senderReports(stats)) {
      if (this.lastReport.get(id) === r.sent) continue;
      this.lastReport.set(id, r.sent);
      const report = { rttMs: r.rttMs, oneWayMs: r.oneWayMs };
      this.reports.push(report);
      if (this.reports.length > KEEP_REPORTS) this.reports.shift();
      this.clock.push(report);
      if (this.clock.length > KEEP_CLOCK) this.clock.shift();
    }
  }

  /** The server's capture-time lines (`capture` of media_clock's answer); they hold until
   * the next answer (straight lines, but for the check of the publisher's stamps that moves
   * them, and a layer switch). */
  setLines(capture) {
    this.lines = captureLines(capture);
  }

  /** One frame shown: what take() needs of its metadata. */
  note(mid, meta) {
    this.recent.push({
      chromium: frameDelay(meta),
      mid,
      rtp: typeof meta.rtpTimestamp === "number" ? meta.rtpTimestamp : null,
      shown: performance.timeOrigin + meta.expectedDisplayTime,
    });
    if (this.recent.length > KEEP) this.recent.shift();
  }

  /** Start reading videos that appeared since the last call. */
  scan() {
    for (const video of document.querySelectorAll("video")) {
      if (this.watched.has(video) || !("requestVideoFrameCallback" in video)) continue;
      const stream = video.srcObject;
      const track = stream instanceof MediaStream ? stream.getVideoTracks()[0] : null;
      const mid = track ? this.midOf(track) : null;
      if (!mid) continue;
      this.watched.add(video);
      const onFrame = (_now, meta) => {
        if (!video.isConnected) return; // the tile went: stop asking
        this.note(typeof mid === "string" ? mid : null, meta);
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    }
  }

  /** The median delay (ms) of the frames shown since the last call, null if none. Dated by
   * the server's capture-time line and this page's clock offset where both are known
   * (lineDelay); else Chromium's captureTime corrected for its clock placement
   * (clockCorrection). */
  take() {
    this.scan();
    const offset = clockOffset(this.clock);
    const correction = clockCorrection(this.reports);
    const values = [];
    for (const f of this.recent) {
      const line = f.mid === null ? undefined : this.lines.get(f.mid);
      const own =
        line && offset !== null && f.rtp !== null ? lineDelay(f.shown, f.rtp, line, offset) : null;
      if (own !== null) values.push(own);
      else if (f.chromium !== null) values.push(f.chromium - correction);
    }
    this.recent = [];
    const ms = median(values);
    return ms === null ? null : Math.max(0, Math.round(ms));
  }
}
