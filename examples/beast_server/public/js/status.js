// How long the page took to load, and whether the stylesheet came from the browser's cache:
// reload the page and the tagged assets are not requested again.
export function describeLoad(performance) {
  const resources = performance.getEntriesByType("resource");
  const css = resources.find((entry) => entry.name.endsWith(".css"));
  const fromCache = css && css.transferSize === 0;
  return (
    `Loaded in ${Math.round(performance.now())} ms; ` +
    `stylesheet ${fromCache ? "served from the browser cache" : "fetched from the server"}.`
  );
}
