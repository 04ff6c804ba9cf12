// sitegen alias router, run by 404.html (docs/protocol.md §9). The mirror has
// no file per alias: /arxiv/<id>/, /arxiv/<id>v<N>/, /doi/10.48550/arxiv.<id>/
// and /paper/<short Pith Number>/ land here, and this script looks the alias up
// in the static alias maps and sends the browser to the record page. Text is
// set with textContent only. Without JavaScript the page links to the maps.
// Its words come from data-* attributes of #alias-status, written by
// templates/404.html in the page's language (sitegen.site.strings, table
// [not_found]); the English here is the fallback.
(function () {
  "use strict";
  var box = document.getElementById("alias-router");
  var L = window.sitegenLookup;
  if (!box || !L) return;
  var base = box.getAttribute("data-base") || "/";
  var path = location.pathname;
  try { path = decodeURIComponent(path); } catch (e) { return; }
  if (path.indexOf(base) !== 0) return;
  var rel = path.slice(base.length), slashed = false;
  while (rel.charAt(rel.length - 1) === "/") { rel = rel.slice(0, -1); slashed = true; }  // linear, unlike /\/+$/
  var ident = null, m;
  if ((m = rel.match(/^arxiv\/(.+)$/))) ident = L.parseIdentifier(m[1]);
  else if ((m = rel.match(/^doi\/(10\.48550\/arxiv\..+)$/i))) ident = L.parseIdentifier(m[1]);
  else if ((m = rel.match(/^paper\/([A-Za-z2-7]{8,26})$/))) ident = { kind: "suffix", prefix: m[1].toUpperCase() };
  else if ((m = rel.match(/^pith\/([A-Z2-7]{26})$/))) {
    // pith/<S> without its slash, on a host that does not add it: the record page is at pith/<S>/.
    // With the slash this page is the answer for pith/<S>/ itself — a record this mirror lacks —
    // and sending the browser there again would reload it forever.
    if (!slashed) location.replace(base + "pith/" + m[1] + "/");
    return;
  }
  if (!ident || (rel.indexOf("paper/") === 0 && ident.kind !== "suffix")) return;

  var status = document.getElementById("alias-status");
  var words = status ? status.dataset : {}, ENGLISH = {
    lookingUp: "Looking up {alias}…",
    noRecord: "No record on this mirror has the alias {alias}.",
    several: "{alias} names {n} records:",
    mapsError: "The alias maps could not be read ({error})."
  };
  // The words for `name` (data-<name> or English) with {alias} and `values` filled in.
  function say(name, values) {
    if (!status) return;
    values = values || {};
    values.alias = rel;
    status.textContent = (words[name] || ENGLISH[name]).replace(/\{([A-Za-z_]+)\}/g, function (m, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : m;
    });
  }
  say("lookingUp");
  L.resolve(base, ident).then(function (found) {
    if (found.length === 1 || (ident.kind === "arxiv" && found.length > 1 && ident.version === null)) {
      var target = base + "pith/" + found[0].suffix + "/";  // an unversioned id: the newest version
      if (target !== location.pathname) { location.replace(target); return; }
      found = [];  // never back to this very page (a map naming a record whose page is missing)
    }
    if (!found.length) { say("noRecord"); return; }
    say("several", { n: found.length });
    var list = document.createElement("ul");
    found.forEach(function (f) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = base + "pith/" + f.suffix + "/";
      a.textContent = "pith:" + f.suffix + (f.version ? " (v" + f.version + ")" : "");
      li.appendChild(a);
      list.appendChild(li);
    });
    box.appendChild(list);
  }).catch(function (e) { say("mapsError", { error: e.message }); });
})();
