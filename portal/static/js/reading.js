// Tells the site how long an article was in front of the reader: the time the tab was
// visible, sent whenever the page is hidden or left. Nothing else is sent.
(function () {
  "use strict";
  var article = document.querySelector("article[data-view]");
  if (!article || !navigator.sendBeacon || !window.FormData) return;
  var url = article.getAttribute("data-read-url");
  var view = article.getAttribute("data-view");
  var visibleMs = 0;
  var since = document.visibilityState === "visible" ? Date.now() : null;

  function report() {
    if (since !== null) { visibleMs += Date.now() - since; since = null; }
    var data = new FormData();
    data.append("view", view);
    data.append("ms", String(Math.round(visibleMs)));
    navigator.sendBeacon(url, data);
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") report();
    else since = Date.now();
  });
  window.addEventListener("pagehide", function () { if (since !== null) report(); });
}());
