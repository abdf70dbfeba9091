// The delay of what this page shows, measured on the frames themselves: for each video from
// the server, requestVideoFrameCallback tells when a frame will be on the screen
// (expectedDisplayTime) and when the publisher captured it (captureTime, in this page's clock:
// the browser maps the RTP time through the server's sender reports and the round trip). Their
// difference is glass to glass: capture, encoding, both network hops, the server, the jitter
// buffer, decoding and rendering. The older figure (half the round trip plus the jitter
// buffer) left out everything but the last hop and the buffer: a quarter of the truth.

/** Frames kept per video: about the last two seconds at 30 fps. */
const KEEP = 60;

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

/** Watches the page's remote videos; `take()` gives the median delay of recent frames. */
export class FrameDelays {
  /** @param {(track: MediaStreamTrack) => boolean} isRemote */
  constructor(isRemote) {
    this.isRemote = isRemote;
    /** @type {WeakSet<HTMLVideoElement>} */ this.watched = new WeakSet();
    /** @type {number[]} */ this.recent = [];
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

  /** The median delay (ms) of the frames shown since the last call, null if none. */
  take() {
    this.scan();
    const ms = median(this.recent);
    this.recent = [];
    return ms === null ? null : Math.round(ms);
  }
}
