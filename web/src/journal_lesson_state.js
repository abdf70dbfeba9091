// The lesson page's data (GET /api/lessons/{id} plus the live proposal), shared by its parts:
// lesson.js (facts, topic, room), journal_attendance.js, journal_marks.js, journal_assignments.js.

export const lessonId = (/^\/journal\/lessons\/(\d+)\/?$/.exec(window.location.pathname) || [])[1];

/** The page's data, as GET /api/lessons/{id} answers it (plus the live proposal). */
export const data = {
  /** @type {any} */ lesson: null,
  /** @type {object[]} final attendance records */ attendance: [],
  /** @type {Map<number, object>} */ marks: new Map(),
  /** @type {object[]} */ assignments: [],
  /** @type {{id: number, name: string}[]} */ pupils: [],
  /** @type {object[]} */ plan: [],
  /** @type {object[]} the guest log: visitors who are not pupils of the class */ guests: [],
  /** @type {object[]} documents shared in the lesson's room (docs/documents.md) */ documents: [],
  /** @type {object[]} each pupil's connection over the lesson (journal_connections.js) */
  connections: [],
  /** @type {object[]|null} the live proposal while the room is open */ proposal: null,
  scale: { min: 1, max: 5 },
};

export function pupilName(id) {
  const pupil = data.pupils.find((p) => p.id === id);
  return pupil ? pupil.name : String(id);
}

/** The school's mark scale, wherever the server puts it (default 1–5). */
export function readScale(answer) {
  const source = answer.mark_scale || answer.scale || answer.school || answer;
  const min = Number(source.mark_min ?? source.min);
  const max = Number(source.mark_max ?? source.max);
  return Number.isInteger(min) && Number.isInteger(max) && min <= max ? { min, max } : data.scale;
}
