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

  // A refused htmx form (400, 409) still shows its fragment: it carries the message saying what to fix.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
})();
