// sitegen search page (docs/protocol.md §9): queries the static index under
// search/ and the alias maps in the browser, fetching only the shards and
// chunks a query needs. Results are built with textContent only. Its words
// come from data-* attributes of #search-status, written by templates/search.html
// in the page's language (sitegen.site.strings, table [search]); the English
// here is the fallback.
(function () {
  "use strict";
  var L = window.sitegenLookup;
  var form = document.querySelector("form.search-form[data-base]");
  if (!form || !L) return;
  var base = form.getAttribute("data-base") || "/";
  var input = form.querySelector("input[name=q]");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  var more = document.getElementById("search-more");
  var PAGE = 10, WINDOW = 256, MAX_WORDS = 16;
  var current = null;  // the running query: {terms, rare, cursor, shown}
  var words = status.dataset, ENGLISH = {
    empty: "Type a title word, an author, an arXiv id, a DOI or a Pith Number.",
    searching: "Searching…",
    noIndex: "This mirror publishes no search index.",
    indexError: "The search index could not be read ({error}).",
    none: "No records found.",
    shown: "{n} records shown, newest first.",
    shownOne: "{n} record shown.",
    moreFollow: "More follow.",
    lookingUp: "Looking up {query}…",
    identified: "{n} records with this identifier.",
    identifiedOne: "{n} record with this identifier.",
    mapsError: "The alias maps could not be read ({error})."
  };

  // The words for `name` (data-<name> or English), {placeholders} filled from `values`.
  function text(name, values) {
    var template = words[name] || ENGLISH[name];
    return template.replace(/\{([A-Za-z_]+)\}/g, function (m, key) {
      return values && Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : m;
    });
  }
  function say(name, values) { status.textContent = text(name, values); }
  function count(name, n) { return text(n === 1 ? name + "One" : name, { n: n }); }

  function item(doc) {
    // doc: [suffix, title, authors, year, arxiv id with version, primary category]
    var li = document.createElement("li"), a = document.createElement("a");
    doc = doc.map(function (v) { return typeof v === "string" ? v : ""; });
    a.href = base + "pith/" + doc[0] + "/";
    a.className = "title";
    a.textContent = doc[1];
    li.appendChild(a);
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = ["pith:" + doc[0].slice(0, 8), doc[4] ? "arXiv:" + doc[4] : "", doc[3], doc[5]]
      .filter(Boolean).join(" · ");
    li.appendChild(document.createTextNode(" "));
    li.appendChild(meta);
    if (doc[2]) {
      var who = document.createElement("span");
      who.className = "authors-inline";
      who.textContent = doc[2];
      li.appendChild(who);
    }
    return li;
  }

  // A document row of the index (a file of the published tree, untrusted): its first field must
  // be a suffix, since it becomes the link.
  function usable(d) { return Array.isArray(d) && L.isSuffix(d[0]); }

  function termEntry(params, term) {
    var shard = L.shardOf(term, params.term_shard_digits) || "_";
    return L.fetchJSON(base + "search/t/" + shard + ".json").then(function (map) {
      if (!map || !Object.prototype.hasOwnProperty.call(map, term)) return null;
      var e = map[term];
      var inline = typeof e[1] === "string" ? L.decodeKeys(L.base64Bytes(e[1])) : null;
      if (inline && inline.length > params.inline_max) return null;  // not what sitegen writes: no answer
      return { term: term, df: e[0], shard: shard, inline: inline,
               hash: typeof e[1] === "string" ? null : e[1][0], firsts: typeof e[1] === "string" ? null : e[1][1] };
    });
  }

  // The chunk index holding key k (firsts ascending), or -1.
  function chunkOf(t, k) {
    var lo = 0, hi = t.firsts.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (t.firsts[mid] <= k) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    return found;
  }
  function chunk(t, i) {
    return L.fetchBytes(base + "search/p/" + t.shard + "/" + t.hash + "-" + i + ".bin").then(L.decodeKeys);
  }

  // Keys of term t that are in `keys` (descending list): fetch only the chunks covering them.
  function filter(t, keys) {
    if (t.inline) {
      t.set = t.set || new Set(t.inline);  // built once per query, not once per window
      return Promise.resolve(keys.filter(function (k) { return t.set.has(k); }));
    }
    var need = {};
    keys.forEach(function (k) { var c = chunkOf(t, k); if (c >= 0) need[c] = true; });
    return Promise.all(Object.keys(need).map(function (c) { return chunk(t, Number(c)); })).then(function (lists) {
      var set = new Set();
      lists.forEach(function (l) { l.forEach(function (k) { set.add(k); }); });
      return keys.filter(function (k) { return set.has(k); });
    });
  }

  // The next candidates (descending) of the rarest term, from q.cursor on.
  function candidates(q) {
    var t = q.rare;
    if (t.inline) {
      var all = t.reversed = t.reversed || t.inline.slice().reverse();  // once per query: linear, not quadratic
      var out = all.slice(q.cursor, q.cursor + WINDOW);
      q.cursor += out.length;
      q.done = q.cursor >= all.length;
      return Promise.resolve(out);
    }
    var index = t.firsts.length - 1 - q.cursor;  // one chunk at a time, newest first
    if (index < 0) { q.done = true; return Promise.resolve([]); }
    q.cursor += 1;
    q.done = index === 0;
    return chunk(t, index).then(function (keys) { return keys.slice().reverse(); });
  }

  function documents(params, keys) {
    var shards = {};
    keys.forEach(function (k) { shards[k % params.doc_shards] = true; });
    return Promise.all(Object.keys(shards).map(function (n) {
      return L.fetchJSON(base + "search/d/" + n + ".json");
    })).then(function (maps) {
      var docs = [];
      keys.forEach(function (k) {
        maps.forEach(function (m) {
          if (m && Array.isArray(m[k])) m[k].forEach(function (d) { if (usable(d)) docs.push(d); });
        });
      });
      return docs;
    });
  }

  // Keep candidates of the rarest term that every other term has, until a page is full.
  function fill(q) {
    if (q.buffer.length >= PAGE || q.done) return Promise.resolve();
    return candidates(q).then(function (keys) {
      return q.terms.reduce(function (p, t) {
        return p.then(function (ks) { return ks.length ? filter(t, ks) : ks; });
      }, Promise.resolve(keys));
    }).then(function (hits) {
      q.buffer = q.buffer.concat(hits);
      // Let the page breathe between windows: a long list must not freeze the tab.
      return new Promise(function (resolve) { setTimeout(resolve, 0); }).then(function () { return fill(q); });
    });
  }

  function next(q) {
    return fill(q).then(function () {
      return documents(q.params, q.buffer.splice(0, PAGE));
    }).then(function (docs) {
      if (q !== current) return;
      docs.forEach(function (d) { list.appendChild(item(d)); q.shown += 1; });
      var rest = !q.done || q.buffer.length > 0;
      more.hidden = !rest;
      if (!q.shown) { say("none"); return; }
      status.textContent = count("shown", q.shown) + (rest ? " " + text("moreFollow") : "");
    });
  }

  function searchText(query) {
    var tokens = Array.from(new Set(L.tokens(query))).slice(0, MAX_WORDS);  // a crafted ?q= fetches no more
    if (!tokens.length) { say("empty"); return; }
    say("searching");
    L.fetchJSON(base + "search/index.json").then(function (params) {
      if (!params) { say("noIndex"); return null; }
      return Promise.all(tokens.map(function (w) { return termEntry(params, w); })).then(function (terms) {
        if (terms.some(function (t) { return t === null; })) { say("none"); return; }
        terms.sort(function (a, b) { return a.df - b.df; });
        current = { params: params, rare: terms[0], terms: terms.slice(1), cursor: 0, shown: 0, done: false, buffer: [] };
        return next(current);
      });
    }).catch(function (e) { say("indexError", { error: e.message }); });
  }

  function run(query) {
    list.textContent = "";
    more.hidden = true;
    current = null;
    var ident = L.parseIdentifier(query);
    if (!ident) { searchText(query); return; }
    say("lookingUp", { query: query.trim() });
    L.resolve(base, ident).then(function (found) {
      if (!found.length) { searchText(query); return; }
      L.fetchJSON(base + "search/index.json").then(function (params) {
        if (!params) return found.map(function (f) { return [f.suffix, "pith:" + f.suffix, "", "", "", ""]; });
        return Promise.all(found.map(function (f) {
          return L.fetchJSON(base + "search/d/" + keyShard(params, f.suffix) + ".json").then(function (m) {
            var docs = [];
            Object.keys(m || {}).forEach(function (k) {
              if (Array.isArray(m[k])) m[k].forEach(function (d) { if (usable(d) && d[0] === f.suffix) docs.push(d); });
            });
            return docs.length ? docs[0] : [f.suffix, "pith:" + f.suffix, "", "", "", ""];
          });
        }));
      }).then(function (docs) {
        docs.forEach(function (d) { list.appendChild(item(d)); });
        status.textContent = count("identified", docs.length);
      });
    }).catch(function (e) { say("mapsError", { error: e.message }); });
  }

  // A document's shard needs its key, which needs its date: unknown here, so
  // every shard the suffix bits allow is the one (the key's low bits are the suffix's).
  function keyShard(params, suffix) {
    var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", bits = 0;
    for (var i = 0; i < 5; i++) bits = bits * 32 + alphabet.indexOf(suffix.charAt(i));
    return bits % params.doc_shards;
  }

  more.addEventListener("click", function () { if (current) next(current); });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var q = input.value;
    history.replaceState(null, "", base + "search/?q=" + encodeURIComponent(q));
    run(q);
  });
  var initial = new URLSearchParams(location.search).get("q");
  if (initial) { input.value = initial; run(initial); }
})();
