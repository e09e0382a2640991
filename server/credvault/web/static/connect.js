// credvault Connect: optional improvements; every page works without this script.
"use strict";
(function () {
  var main = document.getElementById("main");
  if (!main) { return; }
  // Embedded in an allowed application's page: tell it the outcome (only an allowed origin receives it).
  if (main.dataset.result && window.parent !== window) {
    var result = JSON.parse(main.dataset.result);
    JSON.parse(main.dataset.origins || "[]").forEach(function (origin) {
      window.parent.postMessage(result, origin);
    });
  }
  // Back to the application after a moment on the success page (without JavaScript: its link).
  if (main.dataset.redirect) {
    window.setTimeout(function () { window.location.assign(main.dataset.redirect); }, 3000);
  }
  // A second press while the check runs would only count as another try.
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      // Continuing spends the link: take its token out of this history entry too.
      if (main.dataset.cleanUrl && window.history && window.history.replaceState) {
        window.history.replaceState(null, "", main.dataset.cleanUrl);
      }
    });
  });
}());
