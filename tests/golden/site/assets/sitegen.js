// sitegen: progressive enhancement only — every page works with JavaScript off.
// Adds a "Copy" button to each element marked data-copy (Pith Number, LaTeX
// snippet, verify recipe). Loaded with `defer` from the site's own origin (CSP).
// Words come from <html data-copy-text data-copied-text data-copy-label>
// when the page's language is not English (sitegen.site.strings).
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  var ui = document.documentElement.dataset;
  var copy = ui.copyText || "Copy", copied = ui.copiedText || "Copied", label = ui.copyLabel || "Copy {what}";
  document.querySelectorAll("[data-copy]").forEach(function (el) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = copy;
    button.setAttribute("aria-label", label.replace("{what}", el.getAttribute("data-copy") || "text"));
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        button.textContent = copied;
        setTimeout(function () { button.textContent = copy; }, 1500);
      });
    });
    el.insertAdjacentElement("afterend", button);
  });
})();
