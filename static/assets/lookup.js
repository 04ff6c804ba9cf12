// sitegen lookup files, the browser's half (docs/protocol.md §9): the same
// hash, tokenizer and integer decoding as sitegen/site/lookup.py, and a small
// JSON fetcher. Used by search.js and router.js; no dependencies, no eval.
(function (root) {
  "use strict";

  // cyrb53 over UTF-16 code units: an integer below 2**53 (exact in a Number).
  function cyrb53(str, seed) {
    var h1 = 0xdeadbeef ^ (seed || 0), h2 = 0x41c6ce57 ^ (seed || 0);
    for (var i = 0, ch; i < str.length; i++) {
      ch = str.charCodeAt(i);
      h1 = Math.imul(h1 ^ ch, 2654435761);
      h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
    h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
    h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return 4294967296 * (2097151 & h2) + (h1 >>> 0);
  }

  // The top 4*digits of the 53 bits, as lower-case hex ("" for one shard).
  function shardOf(text, digits) {
    if (!digits) return "";
    var n = Math.floor(cyrb53(text) / Math.pow(2, 53 - 4 * digits));
    var hex = n.toString(16);
    while (hex.length < digits) hex = "0" + hex;
    return hex;
  }

  // NFKD, combining marks removed, lower case, runs of letters and digits (1–32).
  function tokens(text) {
    var folded = text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase();
    return (folded.match(/[\p{L}\p{N}]+/gu) || []).filter(function (t) { return t.length <= 32; });
  }

  // Ascending integers from LEB128 varints of their deltas.
  function decodeKeys(bytes) {
    var keys = [], value = 0, scale = 1, last = 0;
    for (var i = 0; i < bytes.length; i++) {
      var b = bytes[i];
      value += (b & 0x7f) * scale;
      if (b & 0x80) { scale *= 128; continue; }
      last += value;
      keys.push(last);
      value = 0; scale = 1;
    }
    return keys;
  }

  function base64Bytes(text) {
    var bin = atob(text), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  var cache = {};
  function fetchJSON(url) {
    if (!cache[url]) {
      cache[url] = fetch(url).then(function (r) {
        if (r.status === 404) return null;
        if (!r.ok) throw new Error("HTTP " + r.status + " for " + url);
        return r.json();
      });
    }
    return cache[url];
  }
  function fetchBytes(url) {
    if (!cache[url]) {
      cache[url] = fetch(url).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status + " for " + url);
        return r.arrayBuffer();
      }).then(function (b) { return new Uint8Array(b); });
    }
    return cache[url];
  }

  var ARXIV = /^([a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?\/[0-9]{7}|[0-9]{4}\.[0-9]{4,5})(?:v([0-9]+))?$/;
  var SUFFIX = /^[A-Z2-7]{8,26}$/;

  // An identifier typed or linked: {kind: "arxiv", id, version} or {kind: "suffix", prefix}.
  function parseIdentifier(text) {
    var t = text.trim().replace(/^https?:\/\/(?:dx\.)?doi\.org\//i, "").replace(/^doi:\s*/i, "")
      .replace(/^arxiv:\s*/i, "").replace(/^https?:\/\/arxiv\.org\/(?:abs|pdf)\//i, "");
    var doi = t.match(/^10\.48550\/arxiv\.(.+)$/i);
    if (doi) t = doi[1];
    var m = t.match(ARXIV);
    if (m) return { kind: "arxiv", id: m[1], version: m[2] ? Number(m[2]) : null };
    var p = t.replace(/^pith:(?:[0-9]{4}:)?/i, "");
    if (SUFFIX.test(p.toUpperCase()) && (p.length === 26 || /^pith:/i.test(t) || /[0-9]/.test(p) && p === p.toUpperCase())) {
      return { kind: "suffix", prefix: p.toUpperCase() };
    }
    return null;
  }

  // A suffix as the maps must hold it: the maps are files of the published tree, untrusted
  // (a value such as "/../..//evil.example" would otherwise steer the browser to any path).
  var WHOLE_SUFFIX = /^[A-Z2-7]{26}$/;
  function isSuffix(s) { return typeof s === "string" && WHOLE_SUFFIX.test(s); }

  // Records (suffixes) an identifier names, through the alias maps: [{suffix, version}].
  function resolve(base, ident) {
    return fetchJSON(base + "api/aliases/index.json").then(function (params) {
      if (!params) return [];
      if (ident.kind === "arxiv") {
        var shard = shardOf(ident.id, params.arxiv_shard_digits) || "_";
        return fetchJSON(base + "api/aliases/arxiv/" + shard + ".json").then(function (map) {
          var versions = (map && Object.prototype.hasOwnProperty.call(map, ident.id)) ? map[ident.id] : [];
          if (!Array.isArray(versions)) return [];
          versions = versions.filter(function (v) {
            return Array.isArray(v) && Number.isInteger(v[0]) && v[0] > 0 && isSuffix(v[1]);
          });
          if (ident.version !== null) versions = versions.filter(function (v) { return v[0] === ident.version; });
          return versions.map(function (v) { return { suffix: v[1], version: v[0] }; });
        });
      }
      var prefix = ident.prefix.slice(0, params.suffix_shard_chars) || "_";
      return fetchJSON(base + "api/aliases/suffix/" + prefix + ".json").then(function (list) {
        return (Array.isArray(list) ? list : []).filter(function (s) { return isSuffix(s) && s.indexOf(ident.prefix) === 0; })
          .map(function (s) { return { suffix: s, version: null }; });
      });
    });
  }

  root.sitegenLookup = { cyrb53: cyrb53, shardOf: shardOf, tokens: tokens, decodeKeys: decodeKeys,
                         base64Bytes: base64Bytes, fetchJSON: fetchJSON, fetchBytes: fetchBytes,
                         parseIdentifier: parseIdentifier, resolve: resolve, isSuffix: isSuffix };
})(window);
