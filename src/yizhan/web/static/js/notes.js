// Yizhan web: the small rich-text editor (notes and signatures) and the autosave of notes.
// No inline script anywhere (CSP script-src 'self'). Whatever the editor holds is sanitised again by the server
// before it is stored and before it is shown.
"use strict";

(function () {
  var SAFE_LINK = /^(https?:\/\/|mailto:)/i;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  // Plain text to rich text: one paragraph per line.
  function textToHtml(text) {
    if (!text) {
      return "";
    }
    return text.split("\n").map(function (line) {
      return "<p>" + (line ? escapeHtml(line) : "<br>") + "</p>";
    }).join("");
  }

  function formatOf(form) {
    var checked = form.querySelector('input[name="format"]:checked');
    if (checked) {
      return checked.value;
    }
    var fixed = form.querySelector('input[name="format"]');
    return fixed ? fixed.value : "plain";
  }

  function setupEditor(form) {
    var rich = form.querySelector(".rich[contenteditable]");
    var textarea = form.querySelector('textarea[name="body"]');
    var toolbar = form.querySelector(".toolbar");
    if (!rich || !textarea) {
      return null;
    }
    var current = formatOf(form);

    function show(mode) {
      var isRich = mode === "html";
      rich.hidden = !isRich;
      if (toolbar) {
        toolbar.hidden = !isRich;
      }
      textarea.hidden = isRich;
    }

    function sync() {
      if (formatOf(form) === "html") {
        textarea.value = rich.innerHTML;
      }
    }

    form.addEventListener("change", function (event) {
      if (event.target.name !== "format") {
        return;
      }
      var next = formatOf(form);
      if (next === current) {
        return;
      }
      if (next === "html") {
        rich.innerHTML = textToHtml(textarea.value);
      } else {
        textarea.value = rich.innerText.replace(/\n{3,}/g, "\n\n").trim();
      }
      current = next;
      show(next);
      sync();
    });

    rich.addEventListener("input", sync);
    // Pasting keeps the text only: formatting comes from the toolbar.
    rich.addEventListener("paste", function (event) {
      var text = event.clipboardData ? event.clipboardData.getData("text/plain") : "";
      event.preventDefault();
      document.execCommand("insertText", false, text);
    });

    if (toolbar) {
      toolbar.addEventListener("mousedown", function (event) {
        // Keep the selection in the editor while a button is pressed.
        if (event.target.closest("button")) {
          event.preventDefault();
        }
      });
      toolbar.addEventListener("click", function (event) {
        var button = event.target.closest("button[data-command]");
        if (!button) {
          return;
        }
        var command = button.getAttribute("data-command");
        var value = null;
        if (command === "createLink") {
          value = window.prompt(button.getAttribute("data-prompt") || "URL", "https://");
          if (!value || !SAFE_LINK.test(value.trim())) {
            return;
          }
          value = value.trim();
        }
        rich.focus();
        document.execCommand(command, false, value);
        sync();
        rich.dispatchEvent(new Event("input", { bubbles: true }));
      });
    }

    form.addEventListener("submit", sync);
    show(current);
    return sync;
  }

  function setupAutosave(form, sync) {
    var status = form.querySelector(".status");
    var timer = null;
    var saving = false;
    var again = false;

    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }

    function save() {
      timer = null;
      if (saving) {
        again = true;
        return;
      }
      if (sync) {
        sync();
      }
      saving = true;
      fetch(form.getAttribute("action"), {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfToken(), "X-Autosave": "1", "Accept": "application/json" }
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) {
            var message = body && body.error ? body.error.message : String(response.status);
            say((status ? status.getAttribute("data-failed-text") : "") + " " + message);
            return;
          }
          if (body.created) {
            form.setAttribute("action", body.url);
            history.replaceState(null, "", body.url);
          }
          say(body.saved || (status ? status.getAttribute("data-saved-text") : ""));
        });
      }).catch(function () {
        say((status ? status.getAttribute("data-failed-text") : "") + " …");
      }).then(function () {
        saving = false;
        if (again) {
          again = false;
          schedule();
        }
      });
    }

    function schedule() {
      if (timer) {
        clearTimeout(timer);
      }
      timer = setTimeout(save, 1500);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    form.addEventListener("submit", function () {
      if (timer) {
        clearTimeout(timer);
        timer = null;
      }
    });
  }

  function init() {
    document.querySelectorAll("form").forEach(function (form) {
      var sync = setupEditor(form);
      if (form.getAttribute("data-autosave") === "true") {
        setupAutosave(form, sync);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
