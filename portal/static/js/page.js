// Small things every page does: wide tables reachable by keyboard, the staff menu on narrow
// screens, error messages that go
// away once their field is fixed, and the copy button of a status link. Every page works
// the same without this script (the menu's links wrap, the server checks every field).
(function () {
  "use strict";

  function staffMenu() {
    var toggle = document.querySelector(".menu-toggle");
    var nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!nav) return;
    toggle.hidden = false;
    nav.classList.add("collapsed");
    toggle.addEventListener("click", function () {
      var open = nav.classList.toggle("collapsed") === false;
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // A field marked wrong by the server: once the visitor changes it, the message under it
  // is out of date. It goes; the server still checks everything when the form is sent.
  function clearFixedErrors() {
    document.querySelectorAll(".field.has-error, fieldset.has-error").forEach(function (box) {
      function fixed() {
        box.classList.remove("has-error");
        box.querySelectorAll(".field-error").forEach(function (message) { message.remove(); });
        box.querySelectorAll("[aria-invalid]").forEach(function (control) {
          control.removeAttribute("aria-invalid");
          var described = (control.getAttribute("aria-describedby") || "").split(" ")
            .filter(function (id) { return id && !/-error$/.test(id); });
          if (described.length) control.setAttribute("aria-describedby", described.join(" "));
          else control.removeAttribute("aria-describedby");
        });
        box.removeEventListener("input", fixed);
        box.removeEventListener("change", fixed);
      }
      box.addEventListener("input", fixed);
      box.addEventListener("change", fixed);
    });
  }

  // Without this script the control is a plain link to the status page (it can be opened,
  // bookmarked or copied from the browser's menu); with it, it copies the link.
  function copyButtons() {
    document.querySelectorAll("a[data-copy-label]").forEach(function (control) {
      var done = document.getElementById(control.getAttribute("data-copy-status"));
      if (!navigator.clipboard || !window.isSecureContext) return;
      control.textContent = control.getAttribute("data-copy-label");
      control.setAttribute("role", "button");
      control.addEventListener("keydown", function (event) {
        if (event.key === " ") { event.preventDefault(); control.click(); }
      });
      control.addEventListener("click", function (event) {
        event.preventDefault();
        navigator.clipboard.writeText(control.href).then(function () {
          if (done) done.textContent = control.getAttribute("data-copied");
        }, function () {
          if (done) done.textContent = control.getAttribute("data-copy-failed");
        });
      });
    });
  }

  // A table wider than the screen scrolls inside its own box; keyboard users reach that
  // box with Tab and scroll it with the arrow keys.
  function scrollableTables() {
    document.querySelectorAll(".article-body table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth) table.setAttribute("tabindex", "0");
      else table.removeAttribute("tabindex");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    scrollableTables();
    window.addEventListener("resize", scrollableTables);
    staffMenu();
    clearFixedErrors();
    copyButtons();
  });
}());
