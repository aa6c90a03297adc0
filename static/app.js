// Dashboard behaviour that htmx attributes cannot express. Plain script files only: the CSP
// allows no inline script.
(function () {
  "use strict";

  // Every live fragment re-fetches when the stream says `ready` (its subscription is live, also
  // after a reconnect). `data-live` on <body> then says the page is live: tests wait for it.
  document.addEventListener("htmx:sseMessage", function (event) {
    if (event.detail && event.detail.type === "ready") {
      setTimeout(function () {
        document.body.setAttribute("data-live", "");
      }, 0);
    }
  });

  // After in-app navigation, move the focus to the new content (keyboard and screen readers).
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "main") {
      target.focus({ preventScroll: true });
    }
  });

  // File inputs with data-max-bytes say at once when a file is too large (the server refuses it
  // too, but only after the whole upload).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input instanceof HTMLInputElement && input.type === "file" && input.hasAttribute("data-max-bytes")) {
      var max = Number(input.getAttribute("data-max-bytes"));
      var file = input.files && input.files[0];
      var tooLarge = file && file.size > max;
      input.setCustomValidity(tooLarge ? "This file is larger than " + Math.round(max / 1e6) + " MB; split it into smaller files." : "");
      if (tooLarge) {
        input.reportValidity();
      }
    }
  });

  // "Select all" checkboxes: data-select-all="<selector of the boxes it controls>".
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box instanceof HTMLInputElement && box.hasAttribute("data-select-all")) {
      document.querySelectorAll(box.getAttribute("data-select-all")).forEach(function (other) {
        other.checked = box.checked;
      });
    }
  });
})();
