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
      // Continuing spends the link: its token goes in the form's body instead of the address, and
      // this history entry loses it too.
      var token = new URLSearchParams(window.location.search).get("token");
      if (form.id === "continue" && main.dataset.cleanUrl && token && window.history.replaceState) {
        var field = document.createElement("input");
        field.type = "hidden";
        field.name = "token";
        field.value = token;
        form.appendChild(field);
        form.action = main.dataset.cleanUrl;
        window.history.replaceState(null, "", main.dataset.cleanUrl);
      }
    });
  });
}());
