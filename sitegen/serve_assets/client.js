/* sitegen serve: live reload and the build-error overlay. Served by `sitegen serve` at
   /__sitegen/client.js and injected into every HTML page it serves (never written to disk).
   Polls /__sitegen/status: reloads when a new build has landed or the server was restarted
   (moving to a changed base path), and shows the problems of a failed rebuild over the last good
   build. Problem text quotes untrusted documents: it is only ever set through textContent. */
(function () {
  "use strict";
  var script = document.currentScript;
  var build = script ? script.getAttribute("data-build") : null;
  var basePath = script ? script.getAttribute("data-base-path") : null;
  var host = null;
  var shown = null;
  var hidden = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function remove() {
    if (host) { host.remove(); host = null; }
    shown = null;
  }

  function render(status) {
    var key = JSON.stringify([status.summary, status.problems, status.more]);
    if (key === shown || key === hidden) { return; }
    remove();
    shown = key;
    host = document.createElement("sitegen-error-overlay");
    var root = host.attachShadow({mode: "open"});
    var css = el("link");
    css.rel = "stylesheet";
    css.href = "/__sitegen/overlay.css";
    root.appendChild(css);
    var panel = el("section", "panel");
    panel.setAttribute("role", "alertdialog");
    panel.setAttribute("aria-labelledby", "sitegen-overlay-title");
    var head = el("div", "head");
    var title = el("h2", "title", status.title);
    title.id = "sitegen-overlay-title";
    var close = el("button", "close", "Hide");
    close.type = "button";
    close.title = "Hide until the problems change (Esc)";
    close.addEventListener("click", function () { hidden = shown; remove(); });
    head.appendChild(title);
    head.appendChild(close);
    panel.appendChild(head);
    panel.appendChild(el("p", "summary", status.summary));
    var list = el("ol", "problems");
    status.problems.forEach(function (problem) { list.appendChild(el("li", "problem", problem)); });
    panel.appendChild(list);
    if (status.more > 0) {
      panel.appendChild(el("p", "more", "… and " + status.more + " more (the terminal running sitegen serve lists them all)"));
    }
    panel.appendChild(el("p", "hint", "Fix the files and save: the page reloads at the next good build."));
    root.appendChild(panel);
    (document.body || document.documentElement).appendChild(host);
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && host) { hidden = shown; remove(); }
  });

  function landed(status) {
    if (basePath !== null && status.base_path !== basePath && location.pathname.indexOf(basePath) === 0) {
      // The rest of the path without leading slashes or backslashes: never //host (an off-site address).
      var rest = location.pathname.slice(basePath.length).replace(/^[\/\\]+/, "");
      location.assign(status.base_path + rest + location.search + location.hash);  // base_path ends in "/"
    } else {
      location.reload();
    }
  }

  function poll() {
    fetch("/__sitegen/status", {cache: "no-store"})
      .then(function (response) { return response.json(); })
      .then(function (status) {
        if (build === null) { build = status.build; }
        if (status.build !== build) { landed(status); return; }
        if (status.failed) { render(status); } else { remove(); hidden = null; }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 500); });
  }
  poll();
})();
