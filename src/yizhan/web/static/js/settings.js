// Yizhan web: the settings pages (no inline script: the CSP allows scripts from /static only).
"use strict";

(function () {
  // A refused htmx form (400) still shows its fragment: it carries the message saying what to fix.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // "Copy" next to a new token's secret.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button || !navigator.clipboard) {
      return;
    }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (!source) {
      return;
    }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = button.getAttribute("data-copied-text") || button.textContent;
    });
  });
})();
