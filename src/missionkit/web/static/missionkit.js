/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";
  // Load page fragments named by data-fragment (e.g. the portfolio findings) after the
  // page is shown, so a slow analysis never holds up the cockpit.
  document.querySelectorAll("[data-fragment]").forEach(function (box) {
    fetch(box.getAttribute("data-fragment"), { headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        box.innerHTML = html;
        box.setAttribute("aria-busy", "false");
      })
      .catch(function (error) {
        box.setAttribute("aria-busy", "false");
        var note = box.querySelector("[data-loading]");
        if (note) { note.textContent = "The findings could not be loaded (" + error.message + "). Open the full report instead."; }
      });
  });
  // Mission map: expand or collapse every branch.
  document.querySelectorAll("[data-toggle-all]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = button.getAttribute("data-toggle-all") === "open";
      document.querySelectorAll("details.node").forEach(function (d) { d.open = open; });
    });
  });
})();
