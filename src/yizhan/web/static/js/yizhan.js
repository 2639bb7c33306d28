// Yizhan web: behaviour shared by every page. No inline script anywhere: the CSP allows scripts from /static only.
"use strict";

(function () {
  // Every htmx request carries the session's CSRF token (writes without it are refused with 403).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
    }
  });

  // Forms marked data-confirm (removals, revocations, resets) ask first; in the capture phase, so an htmx form is
  // stopped before htmx sends it. One handler for every page (the areas' scripts used to carry copies).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form instanceof HTMLFormElement ? form.getAttribute("data-confirm") : null;
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Dates are shown in the browser's time zone: tell the server which one it is, in a cookie.
  try {
    // IANA names (Asia/Shanghai, America/Argentina/Buenos_Aires) are safe in a cookie value as they are.
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    var current = document.cookie.split("; ").find(function (item) { return item.indexOf("yizhan_tz=") === 0; });
    if (zone && (!current || current.slice(10) !== zone)) {
      var secure = location.protocol === "https:" ? "; Secure" : "";
      document.cookie = "yizhan_tz=" + zone + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
    }
  } catch (ignored) {
    // Without Intl the server's default zone is used.
  }
})();
