// While the subject is typed, show articles that may already answer it. The form works
// the same without this script (the page lists articles for the pre-filled subject).
(function () {
  "use strict";

  function setup(box) {
    var input = document.getElementById("subject");
    var list = box.querySelector("ul");
    var url = box.getAttribute("data-suggest-url");
    if (!input || !list || !url || !window.fetch) return;
    var timer = null;
    var controller = null;
    // What the page listed articles for: the subject it was served with. Text typed before
    // this script ran (a slow page) is looked up at once below.
    var last = input.defaultValue.trim();

    function show(articles) {
      list.textContent = "";
      articles.forEach(function (a) {
        var li = document.createElement("li");
        var link = document.createElement("a");
        link.href = a.url;
        link.target = "_blank";
        link.rel = "noopener";
        link.textContent = a.title;  // text, never HTML
        li.appendChild(link);
        list.appendChild(li);
      });
      box.hidden = articles.length === 0;
    }

    function lookUp() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 3) { show([]); return; }
      if (controller) controller.abort();
      controller = window.AbortController ? new AbortController() : null;
      fetch(url + "?q=" + encodeURIComponent(q), {
        headers: { "Accept": "application/json" }, credentials: "same-origin",
        signal: controller ? controller.signal : undefined
      })
        .then(function (r) { return r.ok ? r.json() : { articles: [] }; })
        .then(function (body) { show(body.articles || []); })
        .catch(function () { /* aborted or offline: keep what is shown */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookUp, 300);
    });
    lookUp();
  }

  // Back after sending may show this page from the browser's memory, filled in as it was
  // sent (the page says no-store, but browsers may keep it anyway): ask the server again,
  // which answers with a fresh form and a link to the ticket just sent.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && document.querySelector("form.ticket-form")) window.location.reload();
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".ticket-suggestions[data-suggest-url]").forEach(setup);
    document.querySelectorAll("form.ticket-form").forEach(function (form) {
      form.addEventListener("submit", function () {
        var button = form.querySelector("[type=submit]");
        // One click, one request: a second click while sending would make a duplicate.
        if (button) setTimeout(function () { button.disabled = true; }, 0);
      });
    });
    document.querySelectorAll("input.status-link").forEach(function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  });
}());
