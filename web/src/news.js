// What changed for the person at this page, as short notices: a right granted or taken back, a
// timed right running out, the host changing the layout or the chat. Pure (no DOM, no i18n
// import) so Node runs it in tests/unit/test_news_js.py; notices.js and knocks.js show it.

/** The rights a Participant object gives: mic and camera by role or grant, share by role. */
export function rightsOf(p) {
  return {
    mic: !!p && !!p.mic,
    camera: !!p && !!p.camera,
    share: !!p && (p.role === "host" || p.role === "presenter"),
  };
}

/**
 * Notices for the change of your own Participant object from `before` to `after`, at `now`
 * (Unix seconds). Each is {key, action?, params?}: `key` a locale key, `action` the control
 * to offer ("mic", "camera" or "share": what you may turn on now).
 */
export function changeNotices(before, after, now) {
  if (!before || !after) return [];
  const out = [];
  const was = rightsOf(before);
  const is = rightsOf(after);
  if (before.role !== after.role) {
    // A presenter (or host) holds mic, camera and share by role: one notice says it all.
    if (is.share && !was.share) out.push({ key: "notice.presenter", action: "mic" });
    else out.push({ key: "notice.role", params: { role: after.role } });
  } else {
    const mic = is.mic && !was.mic;
    const camera = is.camera && !was.camera;
    if (mic && camera) out.push({ key: "notice.mic_camera", action: "mic" });
    else if (mic) out.push({ key: "notice.mic", action: "mic" });
    else if (camera) out.push({ key: "notice.camera", action: "camera" });
    const lostMic = was.mic && !is.mic;
    const lostCamera = was.camera && !is.camera;
    if ((lostMic || lostCamera) && !mic && !camera) {
      // A timed right that ran out is no surprise; one the host took back is said plainly.
      const ranOut = typeof before.granted_until === "number" && before.granted_until <= now + 1;
      const what = lostMic && lostCamera ? "rights" : lostMic ? "mic" : "camera";
      out.push({ key: ranOut ? "notice.time_up" : `notice.${what}_taken` });
    }
  }
  if (!before.chat_muted && after.chat_muted) out.push({ key: "notice.chat_muted" });
  if (before.chat_muted && !after.chat_muted) out.push({ key: "notice.chat_unmuted" });
  return out;
}

/** The notice for a layout the host chose (`layout` is a Layout of the protocol). */
export function layoutNotice(layout) {
  return { key: "notice.layout", params: { layout } };
}

/** The notice for the host locking or unlocking the public chat. */
export function chatLockNotice(locked) {
  return { key: locked ? "notice.chat_locked" : "notice.chat_unlocked" };
}

/**
 * Seconds left of a timed right, or null when there is no deadline or it has passed.
 * @param {number|null|undefined} until Unix seconds
 */
export function secondsLeft(until, now) {
  if (typeof until !== "number") return null;
  const left = Math.ceil(until - now);
  return left > 0 ? left : null;
}

/** "m:ss" for a number of seconds ("4:05", "0:09"). */
export function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

// When a countdown is read out (seconds left): screen readers hear the start and these, not
// every tick.
export const SPOKEN_MARKS = [60, 30, 10];

/** The mark crossed between two readings of seconds left (`was` > mark ≥ `left`), or null. */
export function crossedMark(was, left) {
  if (was === null || left === null) return null;
  return SPOKEN_MARKS.find((mark) => was > mark && left <= mark) ?? null;
}

/** Knockers new in `after` compared with `before` (lists of Knock objects), in queue order. */
export function freshKnocks(before, after) {
  const known = new Set(before.map((k) => k.id));
  return after.filter((k) => !known.has(k.id));
}

/**
 * What the knock banner shows for a lobby: the first `rows` knockers with their own buttons,
 * how many more wait, and whether to offer Admit all / Deny all (two or more waiting).
 */
export function knockView(lobby, rows) {
  const shown = lobby.slice(0, rows);
  return { count: lobby.length, shown, more: lobby.length - shown.length, all: lobby.length > 1 };
}

/**
 * The sentence of a notice, through the translation function `t` (i18n.js's t, or a fake).
 * Role and layout names are translated too.
 */
export function noticeText(notice, t) {
  const params = { ...(notice.params || {}) };
  if (typeof params.role === "string") params.role = t(`role.${params.role}`);
  if (typeof params.layout === "string") params.layout = t(`layout.${params.layout}`);
  return t(notice.key, params);
}
