// sitegen search page: queries the static Pagefind index in the browser.
// Results are built with textContent only (never innerHTML). Loaded with
// `defer`; without JavaScript the page explains how to browse instead.
(function () {
  "use strict";
  var form = document.querySelector("form[data-pagefind]");
  if (!form) return;
  var input = form.querySelector("input[name=q]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var bundle = form.getAttribute("data-pagefind");
  var engine = null;

  // One bundle ("" ) or one per year ("2026/ 2025/ …"), merged into the first.
  var indexes = (form.getAttribute("data-indexes") || "").split(" ");

  function load() {
    if (!engine) {
      engine = import(bundle + indexes[0] + "pagefind.js").then(function (pagefind) {
        return pagefind.options({ baseUrl: form.getAttribute("data-base") || "/" }).then(function () {
          return Promise.all(indexes.slice(1).map(function (dir) { return pagefind.mergeIndex(bundle + dir); }));
        }).then(function () { return pagefind; });
      });
    }
    return engine;
  }

  function show(results, query) {
    list.textContent = "";
    results.forEach(function (data) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      // Stubs are indexed as <SUFFIX>.html; the record page is pith/<SUFFIX>/.
      var m = typeof data.url === "string" ? /([A-Z2-7]{26})\.html$/.exec(data.url) : null;
      if (m) a.href = (form.getAttribute("data-base") || "/") + "pith/" + m[1] + "/";
      a.textContent = data.meta.title || data.url;
      a.className = "title";
      li.appendChild(a);
      var meta = document.createElement("span");
      meta.className = "meta";
      meta.textContent = [data.meta.pith, data.meta.arxiv, data.meta.date].filter(Boolean).join(" · ");
      li.appendChild(meta);
      if (data.meta.authors) {
        var authors = document.createElement("span");
        authors.className = "authors-inline";
        authors.textContent = data.meta.authors;
        li.appendChild(authors);
      }
      list.appendChild(li);
    });
    status.textContent = results.length ? results.length + " result" + (results.length === 1 ? "" : "s") +
      " for “" + query + "”" : "No records match “" + query + "”.";
  }

  function run(query) {
    query = query.trim();
    if (!query) return;
    status.textContent = "Searching…";
    load().then(function (pagefind) { return pagefind.search(query); })
      .then(function (search) {
        return Promise.all(search.results.slice(0, 25).map(function (r) { return r.data(); }));
      })
      .then(function (results) { show(results, query); })
      .catch(function (err) { status.textContent = "Search failed: " + err; });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
    run(input.value);
  });
  status.textContent = "Type a title word, an author, an arXiv id, a DOI or a Pith Number.";
  var initial = new URLSearchParams(location.search).get("q");
  if (initial) { input.value = initial; run(initial); }
})();
