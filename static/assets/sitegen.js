// sitegen: progressive enhancement only — every page works with JavaScript off.
// Adds a "Copy" button to each element marked data-copy (Pith Number, LaTeX
// snippet, verify recipe). Loaded with `defer` from the site's own origin (CSP).
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  document.querySelectorAll("[data-copy]").forEach(function (el) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy " + (el.getAttribute("data-copy") || "text"));
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 1500);
      });
    });
    el.insertAdjacentElement("afterend", button);
  });
})();
