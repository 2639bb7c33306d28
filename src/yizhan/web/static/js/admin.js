// Admin console behaviour (web/templates/admin). No inline script: the CSP allows scripts from /static only.
"use strict";

(function () {
  // Buttons with data-copy copy the text of the element their selector names (DNS records, a new password).
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
    if (!button) {
      return;
    }
    var source = document.querySelector(button.getAttribute("data-copy"));
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.classList.add("copied");
      }, function () { /* Without permission, the text stays selectable by hand. */ });
    }
  });
})();
