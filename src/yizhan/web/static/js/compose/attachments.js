// Yizhan compose: uploads. Files go to POST /compose/uploads with XMLHttpRequest (so the upload shows its
// progress), carrying the session's CSRF token; the list shows each file's name, size, progress and a remove
// button. Limits (per file, total, count) are checked here first for a quick message; the server enforces them.
"use strict";

(function () {
  var ns = (window.YizhanCompose = window.YizhanCompose || {});

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function size(bytes) {
    if (bytes >= 1024 * 1024) {
      return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    }
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function errorMessage(xhr, fallback) {
    try {
      var body = JSON.parse(xhr.responseText);
      if (body && body.error && body.error.message) {
        return body.error.message;
      }
    } catch (ignored) {
      // Not our error body.
    }
    return fallback;
  }

  // Upload one file; `onProgress(fraction)`; resolves with the server's description of the upload.
  function upload(file, inline, onProgress, messages) {
    return new Promise(function (resolve, reject) {
      var data = new FormData();
      data.append("file", file, file.name || "image.png");
      if (inline) {
        data.append("inline", "1");
      }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", "/compose/uploads");
      xhr.setRequestHeader("X-CSRF-Token", csrf());
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable && onProgress) {
          onProgress(event.loaded / event.total);
        }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status === 201) {
          resolve(JSON.parse(xhr.responseText));
        } else {
          reject(new Error(errorMessage(xhr, "HTTP " + xhr.status)));
        }
      });
      xhr.addEventListener("error", function () { reject(new Error(messages.network)); });
      xhr.send(data);
    });
  }

  function remove(id) {
    return fetch("/compose/uploads/" + encodeURIComponent(id), {
      method: "DELETE", credentials: "same-origin", headers: { "X-CSRF-Token": csrf() },
    });
  }

  function AttachmentList(list, error, state, onChange) {
    this.list = list;
    this.error = error;
    this.limits = state.limits;
    this.messages = state.messages;
    this.onChange = onChange;
    this.items = [];
    this.pending = 0;
    list.textContent = "";
    var self = this;
    (state.attachments || []).forEach(function (upload) { self.render(upload); });
  }

  AttachmentList.prototype.show = function (message) {
    this.error.textContent = message || "";
    this.error.hidden = !message;
  };

  AttachmentList.prototype.total = function () {
    return this.items.reduce(function (sum, item) { return sum + (item.upload ? item.upload.size : item.size); }, 0);
  };

  AttachmentList.prototype.ids = function () {
    return this.items.filter(function (item) { return item.upload; }).map(function (item) { return item.upload.id; });
  };

  AttachmentList.prototype.render = function (upload, file) {
    var item = { upload: upload || null, size: upload ? upload.size : file.size, node: document.createElement("li") };
    var name = document.createElement("span");
    name.className = "file-name";
    name.textContent = upload ? upload.filename : file.name;
    var bytes = document.createElement("span");
    bytes.className = "file-size";
    bytes.textContent = size(item.size);
    var progress = document.createElement("progress");
    progress.max = 1;
    progress.value = upload ? 1 : 0;
    progress.hidden = !!upload;
    progress.setAttribute("aria-label", this.messages.uploading.replace("{name}", name.textContent));
    var button = document.createElement("button");
    button.type = "button";
    button.className = "file-remove";
    button.textContent = "✕";
    button.setAttribute("aria-label", this.messages.remove + " " + name.textContent);
    button.setAttribute("data-testid", "attachment-remove");
    item.node.setAttribute("data-testid", "attachment");
    if (upload) {
      item.node.setAttribute("data-upload-id", upload.id);
    }
    item.node.appendChild(name);
    item.node.appendChild(bytes);
    item.node.appendChild(progress);
    item.node.appendChild(button);
    this.list.appendChild(item.node);
    this.items.push(item);
    var self = this;
    button.addEventListener("click", function () { self.drop(item); });
    item.progress = progress;
    return item;
  };

  AttachmentList.prototype.drop = function (item) {
    this.items = this.items.filter(function (other) { return other !== item; });
    item.node.remove();
    if (item.upload) {
      remove(item.upload.id);
    }
    if (item.request) {
      item.cancelled = true;
    }
    this.onChange();
  };

  // Check the limits for `files`; returns the message of the first one broken, or "".
  AttachmentList.prototype.refuse = function (files) {
    var m = this.messages;
    if (this.items.length + files.length > this.limits.max_count) {
      return m.too_many.replace("{count}", String(this.limits.max_count));
    }
    var total = this.total();
    for (var i = 0; i < files.length; i += 1) {
      if (files[i].size > this.limits.max_file_bytes) {
        return m.too_large.replace("{name}", files[i].name).replace("{size}", size(this.limits.max_file_bytes));
      }
      total += files[i].size;
    }
    if (total > this.limits.max_total_bytes) {
      return m.total_too_large.replace("{size}", size(this.limits.max_total_bytes));
    }
    return "";
  };

  AttachmentList.prototype.add = function (files) {
    files = Array.prototype.slice.call(files);
    var refused = this.refuse(files);
    this.show(refused);
    if (refused) {
      return;
    }
    var self = this;
    files.forEach(function (file) {
      var item = self.render(null, file);
      item.progress.hidden = false;
      self.pending += 1;
      item.request = upload(file, false, function (fraction) { item.progress.value = fraction; }, self.messages)
        .then(function (done) {
          item.request = null;
          if (item.cancelled) {
            remove(done.id);
            return;
          }
          item.upload = done;
          item.node.setAttribute("data-upload-id", done.id);
          item.progress.value = 1;
          item.progress.hidden = true;
          self.onChange();
        })
        .catch(function (error) {
          self.drop(item);
          self.show(self.messages.upload_failed.replace("{name}", file.name).replace("{reason}", error.message));
        })
        .then(function () { self.pending -= 1; });
    });
  };

  ns.upload = upload;
  ns.formatSize = size;
  ns.csrf = csrf;
  ns.AttachmentList = AttachmentList;
})();
