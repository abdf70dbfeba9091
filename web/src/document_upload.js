// A document's upload to its room: the raw file as the body, with the room's ticket. XHR rather
// than fetch because only XHR reports how much of the body has been sent (the progress bar).
import { ProtocolError } from "./api.js";

/**
 * Uploads `file`; `onProgress(percent)` while its bytes go. Resolves with the RoomDocument once
 * the server has checked and converted it, or rejects with the server's refusal (its code and
 * sentence: too large, Flash, damaged …).
 * @returns {Promise<object>}
 */
export function uploadDocument(roomId, access, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const name = encodeURIComponent(file.name);
    xhr.open("POST", `/api/rooms/${encodeURIComponent(roomId)}/documents?name=${name}`);
    xhr.setRequestHeader("X-Sabaq-Access", access);
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(Math.floor((100 * e.loaded) / e.total));
    });
    xhr.upload.addEventListener("load", () => onProgress(100));
    xhr.addEventListener("load", () => {
      const body = xhr.response;
      if (xhr.status === 201 && body && body.document) {
        resolve(body.document);
        return;
      }
      const err = body && body.error ? body.error : {};
      reject(new ProtocolError(err.code || "unknown_error", err.message || `HTTP ${xhr.status}`));
    });
    xhr.addEventListener("error", () =>
      reject(new ProtocolError("network_error", "The server cannot be reached.")),
    );
    xhr.send(file);
  });
}
