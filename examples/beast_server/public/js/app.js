// Shows how long the page took to load and whether the stylesheet came from the cache:
// reload the page and the tagged assets are not requested again.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const status = document.getElementById("status");
  if (!status) return;
  const css = performance
    .getEntriesByType("resource")
    .find((entry) => entry.name.endsWith(".css"));
  const fromCache = css && css.transferSize === 0;
  status.textContent =
    `Loaded in ${Math.round(performance.now())} ms; ` +
    `stylesheet ${fromCache ? "served from the browser cache" : "fetched from the server"}.`;
});
