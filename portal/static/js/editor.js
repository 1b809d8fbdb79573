// The article editor's live preview: a pause in typing sends the form to the server, which
// renders it with the site's own pipeline (Markdown, then the HTML allow-list) and answers
// the sanitized page. Without JavaScript the "Preview" button does the same with a reload.
// The preview follows the cursor: the caret's line is placed between the headings around it
// and the preview scrolls to the same place between the same headings.
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
        follow();
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

  // --- The preview follows the cursor ---------------------------------------------------

  var area = document.getElementById("body");
  var pane = target.closest(".editor-preview");

  function sourceHeadings(lines) {
    var found = [], fence = null;
    lines.forEach(function (line, number) {
      var opening = /^ {0,3}(```+|~~~+)/.exec(line);
      if (fence) {
        if (opening && opening[1].charAt(0) === fence.charAt(0) &&
            opening[1].length >= fence.length) { fence = null; }
        return;
      }
      if (opening) { fence = opening[1]; return; }
      if (/^ {0,3}#{1,6}(\s|$)/.test(line)) { found.push(number); }
    });
    return found;
  }

  function offsetIn(container, element) {
    return element.getBoundingClientRect().top - container.getBoundingClientRect().top +
      container.scrollTop;
  }

  function follow() {
    if (!area || !pane || pane.scrollHeight <= pane.clientHeight) { return; }
    var lines = area.value.split("\n");
    var caret = area.value.slice(0, area.selectionStart).split("\n").length - 1;
    var marks = sourceHeadings(lines);
    var shown = target.querySelectorAll("h1, h2, h3, h4, h5, h6");
    var top = offsetIn(pane, target), bottom = pane.scrollHeight;
    var y;
    if (marks.length && marks.length === shown.length) {
      var k = -1;
      while (k + 1 < marks.length && marks[k + 1] <= caret) { k++; }
      var fromLine = k >= 0 ? marks[k] : 0;
      var toLine = k + 1 < marks.length ? marks[k + 1] : lines.length;
      var fromY = k >= 0 ? offsetIn(pane, shown[k]) : top;
      var toY = k + 1 < shown.length ? offsetIn(pane, shown[k + 1]) : bottom;
      y = fromY + (toY - fromY) * (caret - fromLine) / Math.max(1, toLine - fromLine);
    } else {
      // Headings that do not pair up (some in raw HTML): follow by proportion.
      y = top + (bottom - top) * caret / Math.max(1, lines.length);
    }
    pane.scrollTop = Math.max(0, y - pane.clientHeight / 3);
  }

  if (area) {
    ["keyup", "click", "focus", "select"].forEach(function (name) {
      area.addEventListener(name, follow);
    });
    area.addEventListener("input", follow);
  }

  // --- The toolbar ------------------------------------------------------------------------

  var toolbar = form.querySelector(".editor-toolbar");
  var status = document.getElementById("editor-status");
  if (!area || !toolbar) { return; }

  function say(text, failed) {
    if (!status) { return; }
    status.textContent = text;
    status.classList.toggle("form-error", !!failed);
  }

  // Replace the selection with `text` (kept in the browser's undo history where it can be)
  // and select the part of it from `selectFrom` to `selectTo`.
  function replaceSelection(text, selectFrom, selectTo) {
    var start = area.selectionStart;
    area.focus();
    var done = false;
    try { done = document.execCommand("insertText", false, text); } catch (e) { done = false; }
    if (!done) {
      area.setRangeText(text, start, area.selectionEnd, "end");
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
    if (selectFrom !== undefined) {
      area.setSelectionRange(start + selectFrom, start + (selectTo === undefined ? selectFrom : selectTo));
    }
    follow();
  }

  function selected() { return area.value.slice(area.selectionStart, area.selectionEnd); }

  // Select whole lines around the selection, so that line prefixes can be added.
  function selectLines() {
    var value = area.value;
    var start = value.lastIndexOf("\n", area.selectionStart - 1) + 1;
    var end = value.indexOf("\n", area.selectionEnd);
    if (end < 0 || (area.selectionEnd > area.selectionStart && value.charAt(area.selectionEnd - 1) === "\n")) {
      end = end < 0 ? value.length : area.selectionEnd - 1;
    }
    area.setSelectionRange(start, end);
  }

  // A block of its own: blank lines around it unless already there.
  function asBlock(text) {
    var before = area.value.slice(0, area.selectionStart);
    var after = area.value.slice(area.selectionEnd);
    var lead = !before ? "" : /\n\n$/.test(before) ? "" : /\n$/.test(before) ? "\n" : "\n\n";
    var tail = !after ? "\n" : /^\n\n/.test(after) ? "" : /^\n/.test(after) ? "\n" : "\n\n";
    return { text: lead + text + tail, offset: lead.length };
  }

  var placeholder = toolbar.dataset.placeholder || "text";
  var actions = {
    heading: function () {
      selectLines();
      var line = selected();
      var bare = line.replace(/^ {0,3}#{1,6}\s*/, "");
      var text = "## " + (bare || placeholder);
      replaceSelection(text, 3, text.length);
    },
    bold: function () {
      var text = selected() || placeholder;
      replaceSelection("**" + text + "**", 2, 2 + text.length);
    },
    list: function () {
      selectLines();
      var lines = selected().split("\n").map(function (line) {
        return /^\s*([-*+]|\d+\.)\s/.test(line) ? line : "- " + line;
      });
      var text = lines.join("\n");
      replaceSelection(text, text.length);
    },
    link: function () {
      var words = selected() || toolbar.dataset.linkPlaceholder || placeholder;
      var text = "[" + words + "](https://)";
      replaceSelection(text, words.length + 3, words.length + 11);
    },
    code: function () {
      var text = selected();
      if (text && text.indexOf("\n") < 0) {
        replaceSelection("`" + text + "`", 1, 1 + text.length);
        return;
      }
      var block = asBlock("```text\n" + (text || placeholder) + "\n```");
      replaceSelection(block.text, block.offset + 8, block.offset + 8 + (text || placeholder).length);
    },
    table: function () {
      var heads = (toolbar.dataset.table || "Column|Value").split("|");
      var block = asBlock("| " + heads[0] + " | " + heads[1] + " |\n|---|---|\n|  |  |");
      replaceSelection(block.text, block.offset + 2, block.offset + 2 + heads[0].length);
    },
    image: function () { toolbar.querySelector(".image-input").click(); }
  };

  // Between the field's label (and hint) and the text it edits, in reading order too.
  area.parentNode.insertBefore(toolbar, area);
  toolbar.hidden = false;
  var tools = Array.prototype.slice.call(toolbar.querySelectorAll("button.tool"));
  tools.forEach(function (tool, i) {
    tool.tabIndex = i === 0 ? 0 : -1;
    tool.addEventListener("click", function () { actions[tool.dataset.action](); });
  });
  // One stop in the tab order; the arrow keys move along the toolbar (ARIA toolbar pattern).
  toolbar.addEventListener("keydown", function (event) {
    var at = tools.indexOf(document.activeElement);
    if (at < 0) { return; }
    var next = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tools.length - 1 }[event.key];
    if (next === undefined) { return; }
    event.preventDefault();
    next = (next + tools.length) % tools.length;
    tools[at].tabIndex = -1;
    tools[next].tabIndex = 0;
    tools[next].focus();
  });
  area.addEventListener("keydown", function (event) {
    if (!(event.ctrlKey || event.metaKey)) { return; }
    var key = event.key.toLowerCase();
    if (key === "b" && !event.altKey) { event.preventDefault(); actions.bold(); }
    else if (key === "k" && !event.altKey) { event.preventDefault(); actions.link(); }
    else if (key === "2" && event.altKey) { event.preventDefault(); actions.heading(); }
  });

  // --- Images: pasted, dropped or chosen --------------------------------------------------

  function field(name) {
    var input = form.querySelector("[name=" + name + "]");
    return input ? input.value : "";
  }

  function upload(file) {
    var data = new FormData();
    data.append("csrf_token", field("csrf_token"));
    ["article_id", "category", "slug", "title"].forEach(function (name) {
      data.append(name, field(name));
    });
    data.append("image", file, file.name || "image.png");
    say(toolbar.dataset.uploading || "");
    return fetch(toolbar.dataset.uploadUrl, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) {
        say(result.body.message || toolbar.dataset.failed || "", true);
        return;
      }
      var slug = form.querySelector("[name=slug]");
      if (slug && !slug.value && !field("article_id") && result.body.article_id) {
        // The image lives beside the article's future file: keep the article there.
        slug.value = result.body.article_id.split("/").pop();
      }
      var block = asBlock(result.body.markdown);
      replaceSelection(block.text, block.offset + 2, block.offset + 2 + result.body.alt.length);
      say(toolbar.dataset.uploaded || "");
    }).catch(function () { say(toolbar.dataset.failed || "", true); });
  }

  function imagesOf(list) {
    return Array.prototype.filter.call(list || [], function (file) {
      return file && /^image\//.test(file.type || "");
    });
  }

  area.addEventListener("paste", function (event) {
    var files = imagesOf(event.clipboardData && event.clipboardData.files);
    if (!files.length) { return; }
    event.preventDefault();
    files.reduce(function (chain, file) {
      return chain.then(function () { return upload(file); });
    }, Promise.resolve());
  });
  area.addEventListener("dragover", function (event) {
    if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0) {
      event.preventDefault();
    }
  });
  area.addEventListener("drop", function (event) {
    var files = event.dataTransfer ? Array.prototype.slice.call(event.dataTransfer.files) : [];
    if (!files.length) { return; }
    event.preventDefault();
    files.reduce(function (chain, file) {
      return chain.then(function () { return upload(file); });
    }, Promise.resolve());
  });
  var chooser = toolbar.querySelector(".image-input");
  chooser.addEventListener("change", function () {
    var files = Array.prototype.slice.call(chooser.files || []);
    chooser.value = "";
    files.reduce(function (chain, file) {
      return chain.then(function () { return upload(file); });
    }, Promise.resolve());
  });
})();
