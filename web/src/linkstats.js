// The rest of a connection reading, for the host's view: jitter, bitrate both ways, the picture
// received (its height: the layer a viewer gets) and whether expected video decodes at all.
// Pure functions on RTCStatsReports (no DOM), run by Node in tests/unit/test_linkstats_js.py;
// quality.js samples, this adds to its reading. Also the host's view's ordering and chart.

/**
 * The counters of one moment. `labels` name the connections as in quality.js's snapshot.
 * @param {Map<string, any>[]} reports
 * @param {string[]} [labels]
 */
export function linkSnapshot(reports, labels = reports.map((_, i) => String(i))) {
  const snap = {
    jitterMs: 0,
    /** @type {Record<string, number>} bytes per incoming stream */ inBytes: {},
    /** @type {Record<string, number>} bytes per outgoing stream */ outBytes: {},
    /** @type {Record<string, {frames: number, height: number}>} incoming video streams */
    video: {},
    /** @type {Record<string, {frames: number, seconds: number}>} outgoing video by "MID/RID" */
    encode: {},
  };
  reports.forEach((report, i) => {
    for (const s of report.values()) {
      const key = `${labels[i]}|${s.id}`;
      if (s.type === "inbound-rtp") {
        snap.inBytes[key] = s.bytesReceived || 0;
        if (typeof s.jitter === "number") snap.jitterMs = Math.max(snap.jitterMs, s.jitter * 1000);
        if (s.kind === "video") {
          snap.video[key] = { frames: s.framesDecoded || 0, height: s.frameHeight || 0 };
        }
      } else if (s.type === "outbound-rtp") {
        snap.outBytes[key] = s.bytesSent || 0;
        if (s.kind === "video" && s.mid && typeof s.totalEncodeTime === "number") {
          snap.encode[`${s.mid}/${s.rid || ""}`] = {
            frames: s.framesEncoded || 0,
            seconds: s.totalEncodeTime,
          };
        }
      }
    }
  });
  return snap;
}

/** Bytes sent over an interval by the streams present at both ends and counting forward. */
function grown(before, after) {
  let sum = 0;
  for (const [key, now] of Object.entries(after)) {
    const was = before[key];
    if (was !== undefined && now >= was) sum += now - was;
  }
  return sum;
}

/**
 * The host's view's figures between two snapshots `seconds` apart. `expectVideo`: the page
 * is shown video it has not turned off (a camera or a screen of someone else).
 * @param {ReturnType<typeof linkSnapshot>} before
 * @param {ReturnType<typeof linkSnapshot>} after
 * @param {number} seconds
 * @param {boolean} expectVideo
 */
export function linkDetails(before, after, seconds, expectVideo) {
  const kbps = (bytes) => (seconds > 0 ? Math.round((bytes * 8) / seconds / 1000) : 0);
  let decoded = 0;
  let height = 0;
  for (const [key, now] of Object.entries(after.video)) {
    const was = before.video[key];
    if (!was || now.frames <= was.frames) continue;
    decoded += now.frames - was.frames;
    height = Math.max(height, now.height);
  }
  let video = "none";
  if (expectVideo) video = decoded > 0 ? "ok" : "lost";
  const out = {
    jitter_ms: Math.round(after.jitterMs),
    kbps_in: kbps(grown(before.inBytes, after.inBytes)),
    kbps_out: kbps(grown(before.outBytes, after.outBytes)),
    video_height: height,
    video,
  };
  const encode = encodeTimes(before.encode || {}, after.encode || {});
  return Object.keys(encode).length ? { ...out, encode_ms: encode } : out;
}

/**
 * The mean encoding time per frame (ms, 0.1 ms steps) of each outgoing video encoding that
 * encoded frames between two snapshots, by "MID/RID": the server tells from it how early
 * the browser's capture stamps run (media/clock.py StampCheck).
 */
export function encodeTimes(before, after) {
  /** @type {Record<string, number>} */
  const out = {};
  for (const [key, now] of Object.entries(after)) {
    const was = before[key];
    if (!was || now.frames <= was.frames || now.seconds < was.seconds) continue;
    const ms = ((now.seconds - was.seconds) * 1000) / (now.frames - was.frames);
    out[key] = Math.round(ms * 10) / 10;
  }
  return out;
}

const LEVEL_RANK = { poor: 2, fair: 1, good: 0 };

/**
 * Participants' latest readings, worst first: lost video, then the level, then the delay, then
 * the loss. Those without a reading come last, in the order given.
 * @param {{id: string, reading?: any}[]} rows
 */
export function worstFirst(rows) {
  const score = (r) =>
    r.reading
      ? [r.reading.video === "lost" ? 1 : 0, LEVEL_RANK[r.reading.level] ?? 0, r.reading.delay_ms, r.reading.loss_pct]
      : [-1, 0, 0, 0];
  return rows
    .map((row, index) => ({ row, index, s: score(row) }))
    .sort((a, b) => {
      for (let i = 0; i < 4; i += 1) if (a.s[i] !== b.s[i]) return b.s[i] - a.s[i];
      return a.index - b.index;
    })
    .map((x) => x.row);
}

/** Delay at which the host is told (the 2 s: a lesson no longer works as a talk). */
export const NOTICE_DELAY_MS = 2000;

/**
 * What is news about one participant's connection, given what was already said and their
 * previous reading: crossing NOTICE_DELAY_MS upwards, and expected video that decoded nothing
 * in two readings in a row (one is the wait for a first keyframe after a track appears). Each
 * is said once until it clears.
 * @param {{delay: boolean, video: boolean}} said
 * @param {{delay_ms: number, video?: string}} reading
 * @param {{video?: string}|null} previous
 */
export function connectionNews(said, reading, previous) {
  const slow = reading.delay_ms >= NOTICE_DELAY_MS;
  const lost = reading.video === "lost" && !!previous && previous.video === "lost";
  const news = [];
  if (slow && !said.delay) news.push("delay");
  if (lost && !said.video) news.push("video");
  return { news, said: { delay: slow, video: lost } };
}

/** Seconds of history a participant's chart shows. */
export const CHART_SECONDS = 60;

/**
 * The polyline of a sparkline: points "x,y" of (at ms, value) samples over the last
 * CHART_SECONDS before `now`, in a width × height box; y grows downwards, the top is `top`
 * (at least the largest value). Samples older than the window are left out.
 * @param {{at: number, value: number}[]} samples
 */
export function sparkPoints(samples, now, width, height, top) {
  const from = now - CHART_SECONDS * 1000;
  const shown = samples.filter((s) => s.at >= from && s.at <= now);
  const max = Math.max(top, ...shown.map((s) => s.value));
  return shown
    .map((s) => {
      const x = ((s.at - from) / (CHART_SECONDS * 1000)) * width;
      const y = height - (max > 0 ? (s.value / max) * height : 0);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
}

/**
 * What to say of one video a viewer is forwarded (`participant_quality.received`, from the
 * server): i18n keys of the layer's name and of what holds it there, and the picture's height
 * (0: not known). Layers are lowest first; anything odd in the entry is clamped, not trusted.
 * @param {{layer?: number, layers?: number, height?: number, limit?: string, paused?: boolean}} r
 */
export function layerWords(r) {
  const layers = Math.max(1, Math.floor(Number(r.layers) || 1));
  const layer = Math.min(Math.max(0, Math.floor(Number(r.layer) || 0)), layers - 1);
  let name = "connections.layer_middle";
  if (layers === 1) name = "connections.layer_only";
  else if (layer === layers - 1) name = "connections.layer_high";
  else if (layer === 0) name = "connections.layer_low";
  let why = layers === 1 ? "connections.layer_single" : "connections.layer_best";
  if (r.paused) why = "connections.layer_paused";
  else if (r.limit === "line") why = "connections.layer_line";
  else if (r.limit === "sender") why = "connections.layer_sender";
  const height = Number.isInteger(r.height) && r.height > 0 ? r.height : 0;
  return { name, why, height, paused: !!r.paused, limited: !r.paused && r.limit === "line" };
}
