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
      if (resolveArticle) {
        resolveArticle.value = result.body.title;
        document.getElementById("resolve-article-id").value = result.body.article;
      }
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

  // The article field of the resolve and flag forms: a combobox (ARIA 1.2, list
  // autocomplete). The ticket's suggested articles are offered at once; typing asks the
  // server for published articles whose titles match. Picking one shows its title and keeps
  // its id in the hidden field; typing again forgets the pick. Without this script the
  // field takes a title (the browser offers the suggested ones), an id or an address.
  function setupPicker(box) {
    var input = box.querySelector("input[type=text]");
    var hidden = box.querySelector("input[type=hidden]");
    var list = box.querySelector("[role=listbox]");
    var starters = document.getElementById("article-picks");
    if (!input || !hidden || !list) { return; }
    input.removeAttribute("list");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    var timer = null, active = -1, asked = 0;

    function options() { return list.querySelectorAll("[role=option]"); }

    function close() {
      asked++;  // an answer still on its way must not open the list again
      window.clearTimeout(timer);
      list.hidden = true;
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      var items = options();
      items.forEach(function (item, i) {
        item.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0 && items[index]) {
        input.setAttribute("aria-activedescendant", items[index].id);
        items[index].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function pick(item) {
      input.value = item.dataset.title;
      hidden.value = item.dataset.id;
      close();
      announce(item.dataset.title);
    }

    function show(articles) {
      list.textContent = "";
      articles.forEach(function (article, i) {
        var item = document.createElement("li");
        item.id = list.id + "-" + i;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.id = article.id;
        item.dataset.title = article.title;
        item.textContent = article.title;  // titles are text, never HTML
        if (article.lang) { item.lang = article.lang; }
        item.addEventListener("mousedown", function (event) {
          event.preventDefault();
          pick(item);
        });
        list.appendChild(item);
      });
      if (!articles.length) {
        var none = document.createElement("li");
        none.className = "hint";
        none.textContent = box.dataset.empty || "";
        list.appendChild(none);
      }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      active = -1;
    }

    function starting() {
      if (!starters) { return []; }
      return Array.prototype.map.call(starters.content.querySelectorAll("li"), function (li) {
        return { id: li.dataset.id, title: li.textContent };
      });
    }

    function ask() {
      var query = input.value.trim();
      if (!query) { show(starting()); return; }
      var ticket = ++asked;
      fetch(box.dataset.choicesUrl + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin", headers: { "Accept": "application/json" }
      }).then(function (response) { return response.json(); })
        .then(function (body) {
          if (ticket === asked && document.activeElement === input) {
            show(body.articles || []);
          }
        })
        .catch(function () { close(); });
    }

    input.addEventListener("focus", function () {
      if (!input.value.trim()) { show(starting()); }
    });
    input.addEventListener("input", function () {
      hidden.value = "";
      window.clearTimeout(timer);
      timer = window.setTimeout(ask, 200);
    });
    input.addEventListener("keydown", function (event) {
      var items = options();
      if (event.key === "ArrowDown") {
        event.preventDefault();
        if (list.hidden) { ask(); return; }
        if (items.length) { highlight((active + 1) % items.length); }
      } else if (event.key === "ArrowUp" && items.length && !list.hidden) {
        event.preventDefault();
        highlight(active <= 0 ? items.length - 1 : active - 1);
      } else if (event.key === "Enter" && !list.hidden && active >= 0 && items[active]) {
        event.preventDefault();
        pick(items[active]);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { window.setTimeout(close, 150); });
  }

  if (window.fetch) {
    document.querySelectorAll(".article-picker").forEach(setupPicker);
  }
})();
