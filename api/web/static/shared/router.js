// A fragment router (#/goods/12?from=search) shared by the H5 app and the admin console.
// Each route names a page module that is loaded on first use; a page is
// `export default async function render(view, ctx)` and may return a cleanup function
// (sockets, timers, observers) that runs when the user leaves it.

function compile(pattern) {
  const names = [];
  const source = pattern.replace(/:(\w+)/g, (_, name) => {
    names.push(name);
    return "([^/]+)";
  });
  return { regex: new RegExp(`^${source}/?$`), names };
}

export function currentLocation() {
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, search = ""] = raw.split("?");
  return { path, query: Object.fromEntries(new URLSearchParams(search)), search: new URLSearchParams(search) };
}

export function navigate(path, { replace = false } = {}) {
  const target = `#${path}`;
  if (replace) history.replaceState(null, "", target);
  else if (location.hash !== target) location.hash = target;
  else window.dispatchEvent(new HashChangeEvent("hashchange"));
  if (replace) window.dispatchEvent(new HashChangeEvent("hashchange"));
}

/**
 * Start routing. `routes` is a list of {path, page, ...extra}; `load(page)` imports a page
 * module; `render(route, ctx)` lets the shell draw its chrome before the page draws.
 */
export function startRouter({ routes, load, view, beforeRender, notFound }) {
  const compiled = routes.map((route) => ({ ...route, ...compile(route.path) }));
  let cleanup = null;
  let generation = 0;

  async function show() {
    const here = currentLocation();
    const mine = ++generation;
    if (typeof cleanup === "function") {
      try {
        cleanup();
      } catch (error) {
        console.error(error);
      }
    }
    cleanup = null;
    let match = null;
    let params = {};
    for (const route of compiled) {
      const found = route.regex.exec(here.path);
      if (found) {
        match = route;
        params = Object.fromEntries(route.names.map((name, index) => [name, decodeURIComponent(found[index + 1])]));
        break;
      }
    }
    const ctx = { params, query: here.query, search: here.search, path: here.path, route: match, navigate, isCurrent: () => mine === generation };
    if (!match) {
      notFound(view, ctx);
      return;
    }
    if (beforeRender && (await beforeRender(match, ctx)) === false) return;
    const module = await load(match.page);
    if (mine !== generation) return;
    view.replaceChildren();
    window.scrollTo(0, 0);
    const result = await module.default(view, ctx);
    if (mine !== generation) {
      if (typeof result === "function") result();
      return;
    }
    cleanup = result;
    document.dispatchEvent(new CustomEvent("page:rendered", { detail: { page: match.page } }));
  }

  window.addEventListener("hashchange", () => show().catch((error) => console.error(error)));
  return show();
}
