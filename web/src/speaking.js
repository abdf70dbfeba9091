// Who is speaking: each incoming sound track's level, read from the subscribe connection's
// statistics four times a second, marks its sender's tiles. A pupil who cannot hear well sees who
// talks; so does a teacher looking for the open microphone. (With incoming sound muted Chromium
// reads every level as 0, from getStats() and the players alike; the senders' audio-level
// headers in getSynchronizationSources() survive muting but read a quiet microphone's speech
// barely above room noise, so they are not used.)
import { PeriodicSampler } from "./sampler.js";

/** How often levels are read. */
export const SPEAKING_SAMPLE_MS = 250;
// inbound-rtp audioLevel is linear, 0..1 (1 = 0 dBov); 0.03 is about -30 dBov, above room
// noise through a browser's noise suppression and below quiet speech.
const SPEAKING_LEVEL = 0.03;
// A speaker stays marked through this many quiet samples: the pauses between words.
const HOLD_SAMPLES = 4;

/**
 * Track ids whose level is above the speaking threshold in one statistics report.
 * @param {Iterable<any>} stats the values of an RTCStatsReport
 */
export function loudTracks(stats) {
  const out = new Set();
  for (const s of stats) {
    if (s.type === "inbound-rtp" && s.kind === "audio" && (s.audioLevel || 0) >= SPEAKING_LEVEL) {
      out.add(s.trackIdentifier);
    }
  }
  return out;
}

/**
 * Speaking participants, with a hold: update(loud participant ids) returns the set of those
 * heard within the last HOLD_SAMPLES samples.
 */
export class SpeakingHold {
  constructor() {
    /** @type {Map<string, number>} participant → quiet samples left */ this.left = new Map();
  }

  /** @param {Set<string>} loud */
  update(loud) {
    for (const id of loud) this.left.set(id, HOLD_SAMPLES);
    for (const [id, n] of this.left) {
      if (loud.has(id)) continue;
      if (n <= 1) this.left.delete(id);
      else this.left.set(id, n - 1);
    }
    return new Set(this.left.keys());
  }
}

/**
 * Reads a MediaSession's subscribe connection every SPEAKING_SAMPLE_MS and calls
 * onChange(set of speaking participant ids) when the set changes.
 */
export class SpeakingWatcher extends PeriodicSampler {
  /**
   * @param {{down: RTCPeerConnection|null}} session
   * @param {() => {participantId: string, kind: string, track: MediaStreamTrack}[]} tiles the
   *   tiles last shown
   * @param {(speaking: Set<string>) => void} onChange
   */
  constructor(session, tiles, onChange) {
    super(SPEAKING_SAMPLE_MS);
    this.session = session;
    this.tiles = tiles;
    this.onChange = onChange;
    this.hold = new SpeakingHold();
    this.shown = "";
  }

  async sample() {
    const pc = this.session.down;
    if (!pc || pc.connectionState !== "connected") {
      // No connection: nobody is heard (a mark must not outlive it).
      if (this.shown) {
        this.hold = new SpeakingHold();
        this.shown = "";
        this.onChange(new Set());
      }
      return;
    }
    const loud = loudTracks((await pc.getStats()).values());
    const owner = new Map(
      this.tiles()
        .filter((t) => t.kind === "audio")
        .map((t) => [t.track.id, t.participantId]),
    );
    const speaking = this.hold.update(
      new Set([...loud].filter((id) => owner.has(id)).map((id) => owner.get(id))),
    );
    const key = [...speaking].sort().join(" ");
    if (this.running && key !== this.shown) {
      this.shown = key;
      this.onChange(speaking);
    }
  }
}
