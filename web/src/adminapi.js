// The administrator's JSON API of docs/journal.md: school settings, years, subjects, teaching,
// CSV import (with upload progress) and the outbox's dead letters. No DOM code.
import { ProtocolError, toProtocolError } from "./api.js";

/** An error answer as a ProtocolError, keeping the `field` the server names (if any). */
function failure(body) {
  const err = toProtocolError(body);
  const inner = body && typeof body === "object" && typeof body.error === "object" ? body.error : body;
  if (inner && typeof inner.field === "string") err.field = inner.field;
  return err;
}

function parse(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

/**
 * One request. `json` is sent as JSON, `csv` as text/csv; `onUpload(sent, total)` reports the
 * upload (XMLHttpRequest: fetch cannot tell how much of a body has gone out).
 * @returns {Promise<any>} the answer's JSON ({} for 204)
 */
export function request(method, path, { json, csv, onUpload } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    let body = null;
    if (json !== undefined) {
      xhr.setRequestHeader("Content-Type", "application/json");
      body = JSON.stringify(json);
    } else if (csv !== undefined) {
      xhr.setRequestHeader("Content-Type", "text/csv; charset=utf-8");
      body = csv;
    }
    if (onUpload) {
      xhr.upload.addEventListener("progress", (e) => onUpload(e.loaded, e.lengthComputable ? e.total : 0));
    }
    xhr.addEventListener("load", () => {
      const data = parse(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(data || {});
      else reject(failure(data));
    });
    xhr.addEventListener("error", () =>
      reject(new ProtocolError("network_error", "The server cannot be reached.")),
    );
    xhr.addEventListener("timeout", () => reject(new ProtocolError("timeout", "The server took too long.")));
    xhr.send(body);
  });
}

const id = (value) => encodeURIComponent(String(value));

/** The administrator's endpoints. */
export const adminApi = {
  /** School settings; the object itself or wrapped as {school}. */
  async school() {
    const data = await request("GET", "/api/admin/school");
    return data.school || data;
  },
  async saveSchool(settings) {
    const data = await request("PUT", "/api/admin/school", { json: settings });
    return data.school || data;
  },
  async years() {
    return (await request("GET", "/api/years")).years || [];
  },
  async createYear(year) {
    return (await request("POST", "/api/admin/years", { json: year })).year;
  },
  async subjects() {
    return (await request("GET", "/api/subjects")).subjects || [];
  },
  async createSubject(name) {
    return (await request("POST", "/api/admin/subjects", { json: { name } })).subject;
  },
  /** What a teaching assignment is chosen from, and the assignments made so far. */
  async teaching() {
    return request("GET", "/api/admin/teaching");
  },
  async teach(teacherId, classId, subjectId) {
    return request("POST", "/api/admin/teaching", {
      json: { teacher_id: teacherId, class_id: classId, subject_id: subjectId },
    });
  },
  /**
   * The CSV import; dry run first. `newClasses`: create classes the file names that do not exist.
   * Answers {ok, dry_run, lines: [{line, error}], created: {pupils, classes}, passwords}.
   */
  async importCsv(text, { dryRun, newClasses, onUpload, people = "pupils" }) {
    const query = new URLSearchParams({
      dry_run: dryRun ? "1" : "0",
      new_classes: newClasses ? "1" : "0",
      people,
    });
    return request("POST", `/api/admin/import?${query}`, { csv: text, onUpload });
  },
  async deadLetters() {
    return (await request("GET", "/api/admin/outbox?state=dead")).records || [];
  },
  async retry(recordId) {
    return request("POST", `/api/admin/outbox/${id(recordId)}/retry`);
  },
  /** Accounts (all, or of one kind: "teacher" | "admin" | "pupil"). */
  async users(kind) {
    const query = kind ? `?${new URLSearchParams({ kind })}` : "";
    return (await request("GET", `/api/admin/users${query}`)).users || [];
  },
  /** A new teacher or administrator: {user, password} (the one-time password, shown once). */
  async addUser(login, displayName, kind) {
    return request("POST", "/api/admin/users", { json: { login, display_name: displayName, kind } });
  },
  /** Changes {display_name?, kind?, disabled?, class_id?}; answers the account. */
  async editUser(userId, patch) {
    return (await request("PATCH", `/api/admin/users/${id(userId)}`, { json: patch })).user;
  },
  /** A new one-time password: {user, password}. */
  async resetPassword(userId) {
    return request("POST", `/api/admin/users/${id(userId)}/password`);
  },
  async sessions(userId) {
    return (await request("GET", `/api/admin/users/${id(userId)}/sessions`)).sessions || [];
  },
  async endSession(userId, sessionId) {
    return request("DELETE", `/api/admin/users/${id(userId)}/sessions/${id(sessionId)}`);
  },
  async endSessions(userId) {
    return request("DELETE", `/api/admin/users/${id(userId)}/sessions`);
  },
  async audit() {
    return (await request("GET", "/api/admin/audit")).entries || [];
  },
};
