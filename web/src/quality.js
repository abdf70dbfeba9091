// Connection quality from the browser's own WebRTC statistics: the round trip to the server,
// packet loss both ways and how long the jitter buffer holds incoming media. The schools' old
// tool hid a 0.5–2 s delay; here each participant sees theirs live, and hosts see everyone's
// (the reading goes to the server as `media_quality` and on to staff as `participant_quality`).
//
// Only the browser sees both directions: the loss the server reports back about what we send
// (RTCP receiver reports → remote-inbound-rtp) and what we lose and buffer ourselves.
import { linkDetails, linkSnapshot } from "./linkstats.js";
import { FrameDelays } from "./framedelay.js";
import { PeriodicSampler } from "./sampler.js";

/** How often the statistics are read; each reading goes to the server (the host's view charts
 * it, the lesson's history keeps its median and p95). About 250 bytes every 2 s. */
export const SAMPLE_MS = 2000;

// Levels. One-way delay under ~150 ms keeps a conversation natural and ~400 ms is the limit for
// it (ITU-T G.114); with retransmission, video copes with a few percent of loss, audio shows
// it from a few percent on.
const FAIR = { delayMs: 200, lossPct: 3 };
const POOR = { delayMs: 450, lossPct: 10 };

/**
 * The counters of one moment, per incoming stream, from the RTCStatsReports of one's peer
 * connections. `labels` name the connections (a new connection gets a new label), so a stream
 * is only ever compared with itself.
 * @param {Map<string, any>[]} reports
 * @param {string[]} [labels]
 */
export function snapshot(reports, labels = reports.map((_, i) => String(i))) {
  const snap = {
    rttMs: /** @type {number|null} */ (null),
    upLossPct: 0,
    /** @type {Record<string, {kind: string, received: number, lost: number, delay: number,
     *   count: number}>} per stream (audio counts samples in `count`) */
    streams: {},
  };
  reports.forEach((report, i) => {
    for (const s of report.values()) {
      if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
        if (typeof s.currentRoundTripTime === "number") {
          snap.rttMs = Math.max(snap.rttMs ?? 0, s.currentRoundTripTime * 1000);
        }
      } else if (s.type === "inbound-rtp") {
        snap.streams[`${labels[i]}|${s.id}`] = {
          kind: s.kind,
          received: s.packetsReceived || 0,
          lost: Math.max(0, s.packetsLost || 0),
          delay: s.jitterBufferDelay || 0,
          count: s.jitterBufferEmittedCount || 0,
        };
      } else if (s.type === "remote-inbound-rtp" && typeof s.fractionLost === "number") {
        snap.upLossPct = Math.max(snap.upLossPct, s.fractionLost * 100);
      }
    }
  });
  return snap;
}

/** "good" | "fair" | "poor" for a delay and a loss. */
export function level(delayMs, lossPct) {
  if (delayMs >= POOR.delayMs || lossPct >= POOR.lossPct) return "poor";
  if (delayMs >= FAIR.delayMs || lossPct >= FAIR.lossPct) return "fair";
  return "good";
}

/**
 * The reading between two snapshots, as sent in `media_quality`; null while no connection is
 * up (no round trip measured yet).
 * delay_ms: half the round trip (server → you) plus the jitter buffer's average hold; the
 * monitor replaces it with the delay measured on the frames shown when there are any
 * (framedelay.js).
 * @param {ReturnType<typeof snapshot>} before
 * @param {ReturnType<typeof snapshot>} after
 */
export function reading(before, after) {
  if (after.rttMs === null) return null;
  // Only streams in both moments, and only if their counters went forward: a stream that went
  // away or started over says nothing about this interval.
  let received = 0;
  let lost = 0;
  /** @type {Record<string, {delay: number, count: number}>} */
  const held = {};
  for (const [key, now] of Object.entries(after.streams)) {
    const was = before.streams[key];
    if (!was || now.received < was.received || now.lost < was.lost) continue;
    received += now.received - was.received;
    lost += now.lost - was.lost;
    const b = (held[now.kind] ||= { delay: 0, count: 0 });
    b.delay += now.delay - was.delay;
    b.count += now.count - was.count;
  }
  const downLossPct = received + lost > 0 ? (100 * lost) / (received + lost) : 0;
  let bufferMs = 0;
  for (const b of Object.values(held)) {
    if (b.count > 0) bufferMs = Math.max(bufferMs, (b.delay / b.count) * 1000);
  }
  const rttMs = Math.round(after.rttMs);
  const delayMs = Math.round(after.rttMs / 2 + bufferMs);
  const lossPct = Math.min(100, Math.round(Math.max(downLossPct, after.upLossPct) * 10) / 10);
  return { level: level(delayMs, lossPct), delay_ms: delayMs, rtt_ms: rttMs, loss_pct: lossPct };
}

/**
 * A level that changes only when two readings in a row agree: a link near a threshold would
 * otherwise flip every two seconds (and be announced each time).
 */
export class LevelHold {
  constructor() {
    this.level = "";
    this.pending = "";
  }

  /** @param {string} level the latest reading's; returns the level to show */
  update(level) {
    if (!this.level || level === this.level) {
      this.level = level;
      this.pending = "";
    } else if (level === this.pending) {
      this.level = level;
      this.pending = "";
    } else {
      this.pending = level;
    }
    return this.level;
  }
}

/** A stable label per peer connection (a rebuilt connection is another). */
const labels = new WeakMap();
let labelled = 0;
function label(pc) {
  if (!labels.has(pc)) labels.set(pc, `pc${(labelled += 1)}`);
  return labels.get(pc);
}

/**
 * Reads a MediaSession's connections every SAMPLE_MS; calls onReading(reading|null) and, with
 * the host's view's figures added (linkstats.js), report(reading) each time.
 */
export class QualityMonitor extends PeriodicSampler {
  /**
   * @param {{up: RTCPeerConnection|null, down: RTCPeerConnection|null}} session
   * @param {(r: ReturnType<typeof reading>) => void} onReading
   * @param {(r: object) => void} report
   * @param {() => boolean} [expectVideo] whether the page is shown video it has not turned off
   * @param {() => Promise<unknown>} [clock] the server's capture-time lines of the videos
   *   received (`media_clock`), asked right before the frames shown are dated
   */
  constructor(session, onReading, report, expectVideo = () => false, clock = null) {
    super(SAMPLE_MS);
    this.session = session;
    this.onReading = onReading;
    this.report = report;
    this.expectVideo = expectVideo;
    this.clock = clock;
    /** @type {ReturnType<typeof snapshot>|null} */ this.previous = null;
    // Remote videos are the ones the subscribe connection receives (not our own previews),
    // known by their MID: the server's capture-time lines are per MID.
    this.frames = new FrameDelays((track) => {
      const down = session.down;
      const t = down && down.getTransceivers().find((x) => x.receiver.track === track);
      return t ? t.mid || true : null;
    });
    /** @type {{at: number, snap: ReturnType<typeof linkSnapshot>}|null} */ this.link = null;
    this.hold = new LevelHold();
  }

  async sample() {
    const pcs = [this.session.up, this.session.down].filter(
      (pc) => pc && pc.connectionState === "connected",
    );
    const reports = await Promise.all(pcs.map((pc) => pc.getStats()));
    const now = pcs.length ? snapshot(reports, pcs.map(label)) : null;
    let measured = now && this.previous ? reading(this.previous, now) : null;
    this.previous = now;
    // Measured on the frames shown (framedelay.js) whenever there are any: the truth, where
    // the connection's figures are only the last hop and the buffer.
    if (this.session.down && this.session.down.connectionState === "connected") {
      this.frames.readReports(reports[pcs.indexOf(this.session.down)].values());
    }
    if (this.clock && this.frames.recent.length) {
      // Fresh: the lines carry the server's check of the publisher's stamps, which moves
      // when the publisher's machine is loaded (docs/media.md "The estimate").
      try {
        this.frames.setLines(await this.clock());
      } catch {
        // No answer: the last lines (straight lines, still right but for that check).
      }
    }
    const shown = this.frames.take();
    if (measured && shown !== null) {
      measured = { ...measured, delay_ms: shown, level: level(shown, measured.loss_pct) };
    }
    const r = measured && { ...measured, level: this.hold.update(measured.level) };
    const at = performance.now();
    const link = now ? { at, snap: linkSnapshot(reports, pcs.map(label)) } : null;
    const was = this.link;
    this.link = link;
    if (!this.running) return;
    this.onReading(r);
    if (r && link && was) {
      const seconds = (link.at - was.at) / 1000;
      this.report({ ...r, ...linkDetails(was.snap, link.snap, seconds, this.expectVideo()) });
    }
  }
}
