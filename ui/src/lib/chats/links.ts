// What a link in model output really opens, shown before it opens (issue 12): the full
// destination with hidden characters marked, its host as the browser will resolve it (IDN in
// punycode, so look-alike letters show), and a warning when the visible text names another
// address than the one the link goes to.
import { visible } from "../approvals/visible";

export type LinkCheck = {
  /** The whole destination, hidden characters marked. */
  shown: string;
  /** The host the browser will contact (punycode for international names), or "" (mailto). */
  host: string;
  /** Why the link text is misleading, when it is. */
  mismatch: string | null;
};

/** The host of `text` when it reads like an address (with or without a scheme), else null. */
export function textHost(text: string): string | null {
  const t = text.trim();
  if (!t || /\s/.test(t)) return null;
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(t) ? t : /^(www\.)?[\p{L}\p{N}-]+(\.[\p{L}\p{N}-]+)+([/:?#].*)?$/u.test(t) ? `https://${t}` : null;
  if (!withScheme) return null;
  try {
    return new URL(withScheme).hostname.toLowerCase();
  } catch {
    return null;
  }
}

export function checkLink(href: string, text: string): LinkCheck {
  let host = "";
  try {
    const u = new URL(href);
    host = u.hostname.toLowerCase();
  } catch {
    host = "";
  }
  const named = textHost(text);
  const bare = (h: string) => h.replace(/^www\./, "");
  const mismatch =
    named !== null && host !== "" && bare(named) !== bare(host)
      ? `The link text shows ${visible(named)}, but it goes to ${visible(host)}.`
      : null;
  return { shown: visible(href), host, mismatch };
}
