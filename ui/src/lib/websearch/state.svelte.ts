// Whether web search is on (a search service is set), for what the window says about a chat's
// tools. Loaded once; Settings → Web search updates it after each change.
import { api } from "../api";

export const webSearch = $state<{ on: boolean }>({ on: false });

let loaded = false;

/** Reads it once (later calls do nothing until `setWebSearchOn`). */
export function loadWebSearch() {
  if (loaded) return;
  loaded = true;
  api.getSearchBackend().then(
    (b) => (webSearch.on = !!b),
    () => {},
  );
}

export function setWebSearchOn(on: boolean) {
  loaded = true;
  webSearch.on = on;
}
