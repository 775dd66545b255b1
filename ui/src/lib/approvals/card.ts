// Where Rust serves the approval and change cards: their own origin, which script in this page
// cannot read, script or fetch (src-tauri/src/card). WebView2 on Windows reaches custom schemes
// as http://<scheme>.localhost.
export const CARD_ORIGIN = navigator.userAgent.includes("Windows")
  ? "http://parley-approve.localhost"
  : "parley-approve://localhost";

/// The address of a card page with its query.
export function cardUrl(path: "/card" | "/change", query: Record<string, string>): string {
  const theme = document.documentElement.dataset.theme ?? "";
  return `${CARD_ORIGIN}${path}?${new URLSearchParams({ ...query, theme })}`;
}
