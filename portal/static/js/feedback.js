// "Did this help?" without a page reload. The form works the same without this script.
(function () {
  "use strict";

  function setup(form) {
    var status = form.querySelector(".feedback-status");
    var reasons = form.querySelector(".reasons");
    var buttons = form.querySelectorAll(".vote-buttons [type=submit]");

    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.FormData) return;  // the plain form post still works
      event.preventDefault();
      var data = new FormData(form);
      var submitter = event.submitter;
      if (submitter && submitter.name) data.append(submitter.name, submitter.value);
      fetch(form.action, { method: "POST", body: data, headers: { "Accept": "application/json" },
                           credentials: "same-origin" })
        .then(function (response) { return response.json().then(function (body) {
          return { ok: response.ok, body: body }; }); })
        .then(function (result) {
          var errors = form.querySelector(".form-errors");
          if (errors) errors.remove();
          if (!result.ok) {
            status.textContent = (result.body.errors || []).join(" ");
            return;
          }
          status.textContent = result.body.message;  // text, never HTML
          buttons.forEach(function (b) {
            var pressed = (b.name === "yes") === result.body.helpful;
            b.setAttribute("aria-pressed", pressed ? "true" : "false");
          });
          reasons.hidden = result.body.helpful || !result.body.ask_reason;
          if (!reasons.hidden) {
            var first = reasons.querySelector("input");
            if (first) first.focus();
          }
        })
        .catch(function () { form.submit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("form[data-feedback]").forEach(setup);
  });
})();
