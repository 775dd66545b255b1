//! How WebKit draws on Linux, chosen before the window exists (`choose_rendering` in
//! `main.rs` reads the machine and applies the answer).
//!
//! Without a GPU render node (`/dev/dri/renderD*`) GL is software (Mesa's llvmpipe). WebKit's
//! compositing, built for a GPU, then runs its shaders on the CPU, and with compositing its
//! Skia paints the page's tiles through that same software GL. Measured on 2 cores under Xvfb
//! (docs/PERFORMANCE.md): without compositing, start to first paint 1.09–1.13× a bare window and
//! key → frame 4 ms; with it and GPU painting, 1.35–1.45× and key → frame p95 up to 77 ms while
//! an answer streams; with it and Skia's CPU painting, p95 17–30 ms.

/// WebKit's variable that turns compositing off ("1") or keeps it ("0").
pub const COMPOSITING: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
/// WebKit's variable that makes Skia paint on the CPU ("1") instead of through GL.
pub const CPU_PAINTING: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";

/// The variable to set, if any. `compositing_set` / `painting_set`: the user set WebKit's own
/// variable (theirs always wins); `keep_compositing`: the window tests asked for WebKit's
/// default mode; `render_node`: the machine has a GPU render node.
pub fn choice(
    compositing_set: bool,
    painting_set: bool,
    keep_compositing: bool,
    render_node: bool,
) -> Option<(&'static str, &'static str)> {
    if render_node || painting_set {
        return None;
    }
    if compositing_set || keep_compositing {
        // Compositing kept without a GPU: at least the painting stays off software GL.
        return Some((CPU_PAINTING, "1"));
    }
    Some((COMPOSITING, "1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_only_what_nobody_else_chose() {
        let off = Some((COMPOSITING, "1"));
        let cpu = Some((CPU_PAINTING, "1"));
        // (compositing set, painting set, keep compositing, render node) → choice
        let table = [
            ((false, false, false, false), off),
            ((false, false, true, false), cpu),
            ((true, false, false, false), cpu),
            ((true, false, true, false), cpu),
            ((false, true, false, false), None),
            ((true, true, false, false), None),
            ((false, true, true, false), None),
            ((true, true, true, false), None),
            ((false, false, false, true), None),
            ((false, false, true, true), None),
            ((true, false, false, true), None),
            ((false, true, false, true), None),
            ((true, true, true, true), None),
        ];
        for ((c, p, k, g), want) in table {
            assert_eq!(
                choice(c, p, k, g),
                want,
                "compositing set {c}, painting set {p}, keep {k}, render node {g}"
            );
        }
    }
}
