// Reading page (web/templates/read): keyboard shortcuts. Everything else works without script (forms, links,
// htmx attributes). Loaded with "defer" from the page; no inline script anywhere (CSP script-src 'self').
"use strict";

(function () {
  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var name = target.tagName.toLowerCase();
    return name === "input" || name === "textarea" || name === "select" || target.isContentEditable;
  }

  // r: reply, a: reply all, f: forward, Delete: delete the message shown (the last one in a conversation).
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var messages = document.querySelectorAll("article.read");
    if (!messages.length) {
      return;
    }
    var message = messages[messages.length - 1];
    var key = event.key === "Delete" ? "Delete" : event.key.toLowerCase();
    var control = message.querySelector('[data-shortcut="' + key + '"]');
    if (!control) {
      return;
    }
    event.preventDefault();
    control.click();
  });
})();
