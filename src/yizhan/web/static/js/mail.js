// Yizhan webmail: the message list's behaviour (selection, toolbar, stars, drag and drop to folders, keyboard
// shortcuts, folder dialogs) and the new-mail notice fed by server-sent events (/mail/events).
// Writes go to /mail/actions with the session's CSRF token; a success fires "mail-changed" on <body>, which makes
// htmx reload the rows and the folder list (see templates/mail/index.html).
"use strict";

(function () {
  var root = document.getElementById("mail");
  if (!root) { return; }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }
  function status(text) {
    var box = document.getElementById("mail-status");
    if (box) { box.textContent = text || ""; }
  }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#mail-rows tr.msg")); }
  function checkedRefs() {
    return Array.prototype.map.call(document.querySelectorAll('#mail-rows input[name="ids"]:checked'),
      function (box) { return box.value; });
  }
  function changed(detail) {
    document.body.dispatchEvent(new CustomEvent("mail-changed", { detail: detail || {} }));
  }

  // One write to /mail/actions; refs are "folder_id:uid" strings.
  function act(action, refs, target) {
    if (!refs.length) { status(root.dataset.selectFirst || ""); return Promise.resolve(false); }
    var body = new URLSearchParams();
    body.append("action", action);
    refs.forEach(function (ref) { body.append("ids", ref); });
    if (target) { body.append("target", target); }
    return fetch("/mail/actions", {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": csrf(), "Content-Type": "application/x-www-form-urlencoded" }
    }).then(function (reply) {
      if (reply.status === 204) {
        var trigger = JSON.parse(reply.headers.get("HX-Trigger") || "{}")["mail-changed"] || {};
        status(trigger.message || "");
        changed(trigger);
        return true;
      }
      return reply.text().then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        var message = doc.querySelector(".error");
        status(message ? message.textContent : String(reply.status));
        return false;
      });
    }).catch(function () { status("…"); return false; });
  }

  // Toolbar buttons act on the checked rows (or the current row when none is checked).
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button.act");
    if (button) {
      var target = button.dataset.action === "move" ? document.getElementById("move-target").value : "";
      var refs = checkedRefs();
      if (!refs.length && current) { refs = [current.dataset.ref]; }
      act(button.dataset.action, refs, target);
      return;
    }
    var star = event.target.closest("button.star-toggle");
    if (star) {
      act(star.getAttribute("aria-pressed") === "true" ? "unflag" : "flag", [star.dataset.ref]);
      return;
    }
    var opener = event.target.closest("button.open-dialog");
    if (opener) {
      var dialog = document.getElementById(opener.dataset.dialog);
      if (dialog && dialog.showModal) { dialog.showModal(); }
      return;
    }
    var closer = event.target.closest("button.close-dialog");
    if (closer) { closer.closest("dialog").close(); return; }
    var notice = event.target.closest("#new-mail-notice");
    if (notice) { notice.hidden = true; newCount = 0; changed({}); return; }
    var confirmed = event.target.closest("[data-confirm]");
    if (confirmed && !window.confirm(confirmed.dataset.confirm)) { event.preventDefault(); }
  });

  document.addEventListener("change", function (event) {
    if (event.target.id === "select-all") {
      document.querySelectorAll('#mail-rows input[name="ids"]').forEach(function (box) {
        box.checked = event.target.checked;
      });
    }
  });

  // The current row (keyboard cursor), and opening a row into the reading pane.
  var current = null;
  function setCurrent(row) {
    if (current) { current.classList.remove("current"); }
    current = row;
    if (row) { row.classList.add("current"); row.scrollIntoView({ block: "nearest" }); }
  }
  function open(row) {
    var link = row && row.querySelector("a.open");
    if (link) { link.click(); }
  }
  var phone = window.matchMedia("(max-width: 48rem)");
  document.body.addEventListener("htmx:beforeRequest", function (event) {
    var link = event.detail.elt;
    if (link && link.matches && link.matches("a.open")) {
      var row = link.closest("tr.msg");
      if (phone.matches) { event.preventDefault(); window.location.href = link.getAttribute("href"); return; }
      setCurrent(row);
      row.classList.remove("unread");
      root.classList.add("reading");
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "mail-rows") {
      current = null;
      var all = document.getElementById("select-all");
      if (all) { all.checked = false; }
    }
  });

  // Drag rows onto a folder of the folder list to move them.
  document.addEventListener("dragstart", function (event) {
    var row = event.target.closest && event.target.closest("tr.msg");
    if (!row) { return; }
    var box = row.querySelector('input[name="ids"]');
    var refs = box && box.checked ? checkedRefs() : [row.dataset.ref];
    event.dataTransfer.setData("application/x-yizhan-refs", JSON.stringify(refs));
    event.dataTransfer.effectAllowed = "move";
  });
  document.addEventListener("dragover", function (event) {
    var folder = event.target.closest && event.target.closest("a.folder");
    if (folder && event.dataTransfer.types.indexOf("application/x-yizhan-refs") >= 0) {
      event.preventDefault();
      folder.classList.add("drop");
    }
  });
  document.addEventListener("dragleave", function (event) {
    var folder = event.target.closest && event.target.closest("a.folder");
    if (folder) { folder.classList.remove("drop"); }
  });
  document.addEventListener("drop", function (event) {
    var folder = event.target.closest && event.target.closest("a.folder");
    if (!folder) { return; }
    event.preventDefault();
    folder.classList.remove("drop");
    var refs = JSON.parse(event.dataTransfer.getData("application/x-yizhan-refs") || "[]");
    act("move", refs, folder.dataset.folderId);
  });

  // Keyboard shortcuts (not while typing in a field).
  document.addEventListener("keydown", function (event) {
    var field = event.target.closest && event.target.closest("input, textarea, select, [contenteditable]");
    if (field || event.ctrlKey || event.metaKey || event.altKey) {
      if (field && event.key === "Escape") { field.blur(); }
      return;
    }
    var list = rows();
    var index = current ? list.indexOf(current) : -1;
    var ref = current ? current.dataset.ref : null;
    switch (event.key) {
      case "j": setCurrent(list[Math.min(index + 1, list.length - 1)] || null); break;
      case "k": setCurrent(list[Math.max(index - 1, 0)] || null); break;
      case "o": case "Enter": open(current); break;
      case "x":
        if (current) { var box = current.querySelector('input[name="ids"]'); box.checked = !box.checked; }
        break;
      case "s": if (ref) { act(current.classList.contains("flagged") ? "unflag" : "flag", [ref]); } break;
      case "Delete": case "#":
        var refs = checkedRefs();
        if (!refs.length && ref) { refs = [ref]; }
        if (refs.length) { act("delete", refs); }
        break;
      case "/":
        var search = document.getElementById("search-input");
        if (search) { search.focus(); search.select(); }
        break;
      case "r": if (ref) { location.href = root.dataset.compose + "?reply=" + encodeURIComponent(ref); } break;
      case "a": if (ref) { location.href = root.dataset.compose + "?reply=" + encodeURIComponent(ref) + "&all=1"; } break;
      case "f": if (ref) { location.href = root.dataset.compose + "?forward=" + encodeURIComponent(ref); } break;
      default: return;
    }
    event.preventDefault();
  });

  // New mail: counts of every folder, and a notice when mail arrives in the folder shown.
  var newCount = 0;
  function updateCounts(folders) {
    Object.keys(folders).forEach(function (id) {
      var link = document.querySelector('a.folder[data-folder-id="' + id + '"]');
      if (!link) { return; }
      var unread = folders[id][0];
      link.querySelector(".count").textContent = unread ? String(unread) : "";
      link.classList.toggle("has-unread", unread > 0);
    });
    // The folder list also shows the total of unread messages, worded by the server: let htmx fetch it again.
    document.body.dispatchEvent(new CustomEvent("mail-counts"));
  }
  if (window.EventSource) {
    var source = new EventSource("/mail/events");
    source.addEventListener("counts", function (event) { updateCounts(JSON.parse(event.data).folders || {}); });
    source.addEventListener("new", function (event) {
      var here = (JSON.parse(event.data).folders || {})[root.dataset.folderId];
      if (!here) { return; }
      if (root.dataset.live === "yes" && window.scrollY === 0 && !checkedRefs().length) {
        changed({});
        return;
      }
      newCount += here;
      var notice = document.getElementById("new-mail-notice");
      notice.textContent = newCount === 1 ? notice.dataset.one : notice.dataset.many.replace("{count}", String(newCount));
      notice.hidden = false;
    });
    window.addEventListener("pagehide", function () { source.close(); });
  }
})();
