// Calendar: drag a one-off scheduled post onto another day to move it there (same local time).
// The drop fills the hidden #move-form and submits it; htmx posts it (with the CSRF header) and
// swaps in the refreshed grid. The server refuses to move anything already published.
(function () {
  "use strict";
  var dragged = null;

  function dayOf(event) {
    return event.target instanceof Element ? event.target.closest("[data-drop-date]") : null;
  }

  function clearTargets() {
    document.querySelectorAll(".drop-target").forEach(function (el) {
      el.classList.remove("drop-target");
    });
  }

  document.addEventListener("dragstart", function (event) {
    var entry = event.target instanceof Element ? event.target.closest("[data-move-post]") : null;
    if (!entry) return;
    dragged = entry.getAttribute("data-move-post");
    event.dataTransfer.setData("text/plain", dragged);
    event.dataTransfer.effectAllowed = "move";
  });

  document.addEventListener("dragover", function (event) {
    var day = dragged && dayOf(event);
    if (!day) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearTargets();
    day.classList.add("drop-target");
  });

  document.addEventListener("drop", function (event) {
    var day = dragged && dayOf(event);
    if (!day) return;
    event.preventDefault();
    var form = document.getElementById("move-form");
    if (!form) return;
    form.elements.namedItem("post_id").value = dragged;
    form.elements.namedItem("date").value = day.getAttribute("data-drop-date");
    dragged = null;
    clearTargets();
    form.requestSubmit();
  });

  document.addEventListener("dragend", function () {
    dragged = null;
    clearTargets();
  });
})();
