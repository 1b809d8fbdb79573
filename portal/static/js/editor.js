// The article editor's live preview: a pause in typing sends the form to the server, which
// renders it with the site's own pipeline (Markdown, then the HTML allow-list) and answers
// the sanitized page. Without JavaScript the "Preview" button does the same with a reload.
(function () {
  "use strict";

  var form = document.getElementById("editor-form");
  var target = document.getElementById("preview-body");
  var problems = document.getElementById("preview-problems");
  if (!form || !target || !problems || !window.fetch || !window.FormData) { return; }

  var timer = null;
  var sent = 0;

  function showProblems(list) {
    problems.textContent = "";
    if (!list.length) { return; }
    var items = document.createElement("ul");
    list.forEach(function (text) {
      var item = document.createElement("li");
      item.textContent = text;
      items.appendChild(item);
    });
    problems.appendChild(items);
  }

  function render() {
    var ticket = ++sent;
    fetch(form.dataset.previewUrl, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) { return response.json(); })
      .then(function (answer) {
        if (ticket !== sent) { return; }  // a newer preview is on its way
        showProblems(answer.problems || []);
        if (answer.html) {
          // Sanitized by the server exactly as the published page is.
          target.innerHTML = answer.html;
        } else if (!(answer.problems || []).length) {
          target.textContent = target.dataset.empty || "";
        }
      })
      .catch(function () { /* the preview button still works */ });
  }

  form.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(render, 400);
  });
  var button = form.querySelector(".preview-button");
  if (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      render();
    });
  }
  render();
})();
