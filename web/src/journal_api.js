// The journal's JSON API (docs/journal.md): schedule, lesson page, marks, assignments, diary.
// No DOM code. Requests go through api.js, so errors reject with the same ProtocolError.
import { http as request } from "./api.js";

const id = (value) => encodeURIComponent(String(value));
const weekQuery = (week) => (week ? `?week=${encodeURIComponent(week)}` : "");

export const journalApi = {
  /** The teacher's week: `{week, period, lessons}`; no week = the current one. */
  schedule(week) {
    return request("GET", `/api/schedule${weekQuery(week)}`);
  },
  /** `{lesson, attendance, marks, assignments, pupils, plan}` */
  lesson(lessonId) {
    return request("GET", `/api/lessons/${id(lessonId)}`);
  },
  /** `{pupil, class_name, lessons, poor_last_3}`: a pupil's connection over recent lessons */
  pupilConnections(pupilId) {
    return request("GET", `/api/pupils/${id(pupilId)}/connections`);
  },
  async createLesson(body) {
    return (await request("POST", "/api/lessons", body)).lesson;
  },
  async classes() {
    return (await request("GET", "/api/classes")).classes;
  },
  async subjects() {
    return (await request("GET", "/api/subjects")).subjects;
  },
  /** `{lesson, invite_url}` */
  start(lessonId) {
    return request("POST", `/api/lessons/${id(lessonId)}/start`, {});
  },
  async proposal(lessonId) {
    return (await request("GET", `/api/lessons/${id(lessonId)}/attendance`)).attendance;
  },
  /** keepOpenS: seconds the room stays open for questions after the lesson (0: closes now). */
  end(lessonId, corrections, keepOpenS = 0) {
    const body = keepOpenS > 0 ? { corrections, keep_open_s: keepOpenS } : { corrections };
    return request("POST", `/api/lessons/${id(lessonId)}/end`, body);
  },
  async setTopic(lessonId, body) {
    return (await request("PUT", `/api/lessons/${id(lessonId)}/topic`, body)).lesson;
  },
  async setMark(lessonId, pupilId, value, comment) {
    const body = { value, comment: comment || null };
    return (await request("PUT", `/api/lessons/${id(lessonId)}/marks/${id(pupilId)}`, body)).mark;
  },
  async deleteMark(lessonId, pupilId) {
    await request("DELETE", `/api/lessons/${id(lessonId)}/marks/${id(pupilId)}`);
  },
  async addAssignment(lessonId, assignment) {
    return (await request("POST", `/api/lessons/${id(lessonId)}/assignments`, assignment))
      .assignment;
  },
  async deleteAssignment(lessonId, assignmentId) {
    await request("DELETE", `/api/lessons/${id(lessonId)}/assignments/${id(assignmentId)}`);
  },
  /** The pupil's week: `{week, days: [{date, lessons}]}` */
  diary(week) {
    return request("GET", `/api/diary${weekQuery(week)}`);
  },
};
