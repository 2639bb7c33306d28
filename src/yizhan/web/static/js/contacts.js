// Yizhan web: the address book pages (no inline script: the CSP allows scripts from /static only).
"use strict";

(function () {
  // "Add an address" / "Add a phone number": another empty row like the last one.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) {
      return;
    }
    var fieldset = button.closest("fieldset");
    var rows = fieldset.querySelectorAll(".row");
    if (!rows.length || rows.length >= 20) {
      return;
    }
    var copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    fieldset.insertBefore(copy, button);
    copy.querySelector("input").focus();
  });

  // Forms that delete or revoke something ask first (htmx forms too: this runs before htmx sends them). Each
  // area's script may be on a page with another's, so only the first one installs this.
  if (!window.yizhanConfirmInstalled) {
    window.yizhanConfirmInstalled = true;
    document.addEventListener("submit", function (event) {
      var question = event.target.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    }, true);
  }

  // A refused htmx form (400, 409) still shows its fragment: it carries the message saying what to fix.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
