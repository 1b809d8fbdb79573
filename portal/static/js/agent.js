// The agent's ticket page: "Insert link" puts the article's title and tracked link into
// the reply at the cursor (the server records who linked what), and the knowledge-base
// search box answers in place, so a reply being written is never lost to a page load.
(function () {
  "use strict";

  function insertAtCursor(area, text) {
    var start = area.selectionStart, end = area.selectionEnd, value = area.value;
    var before = value.slice(0, start), after = value.slice(end);
    if (before && !/\s$/.test(before)) { text = " " + text; }
    if (after && !/^\s/.test(after)) { text = text + " "; }
    area.value = before + text + after;
    var cursor = before.length + text.length;
    area.focus();
    area.setSelectionRange(cursor, cursor);
  }

  function announce(message) {
    var box = document.getElementById("agent-status");
    if (box) { box.textContent = message; }
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("link-form")) { return; }
    var area = document.getElementById("reply-body");
    if (!area || !window.fetch) { return; }  // without them the form posts as usual
    event.preventDefault();
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) { announce(result.body.message || result.body.error || ""); return; }
      insertAtCursor(area, result.body.title + ": " + result.body.url);
      var resolveArticle = document.getElementById("resolve-article");
      if (resolveArticle) { resolveArticle.value = result.body.article; }
      announce(area.dataset.linked || "");
    }).catch(function () { form.submit(); });
  });

  function showHits(list, hits) {
    var template = document.getElementById("kb-hit-template");
    list.textContent = "";
    hits.forEach(function (hit) {
      var item = template.content.firstElementChild.cloneNode(true);
      var link = item.querySelector("a");
      link.href = hit.url;
      link.textContent = hit.title;
      item.querySelector(".snippet").textContent = hit.section || "";
      item.querySelector("input[name=article]").value = hit.id;
      if (hit.internal) {
        item.querySelector(".internal-badge").hidden = false;
        item.querySelector("form").remove();
      }
      list.appendChild(item);
    });
    if (!hits.length) {
      var empty = document.createElement("li");
      empty.textContent = list.dataset.empty || "";
      list.appendChild(empty);
    }
  }

  var search = document.querySelector(".kb-search");
  if (search && window.fetch) {
    search.addEventListener("submit", function (event) {
      event.preventDefault();
      var query = search.querySelector("input[name=kb]").value;
      var list = document.getElementById("kb-results");
      fetch(search.dataset.kbUrl + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) { return response.json(); })
        .then(function (body) { showHits(list, body.hits || []); })
        .catch(function () { search.submit(); });
    });
  }
})();
