//! A small W3C WebDriver client (enough for Parley's real-window tests) over reqwest, which
//! keeps connections alive (RECIPES.md: clients that send `Connection: close` fail at random).

use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A WebDriver session driving the Parley window. Ended (the app closed) on `quit` or drop,
/// so a failing test never leaves a session that blocks the next one.
pub struct Session {
    http: reqwest::Client,
    base: String,
    id: String,
    done: bool,
    /// The handle of the main window (the first one).
    main: String,
}

/// Waits (up to 15 s) until no earlier instance of `app` is still running. A launch right after
/// a `quit` would otherwise race the instance that is still exiting: the single-instance plugin
/// hands the new window's arguments over D-Bus to the old one, which is gone before it answers,
/// and the new window fails ("failed to forward arguments to the running instance") — seen
/// after relaunches on the same data folder and on another one.
async fn wait_for_the_last_instance(app: &Path) {
    let app = app.as_os_str().as_encoded_bytes();
    let running = || {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return false;
        };
        dir.flatten().any(|e| {
            std::fs::read(e.path().join("cmdline"))
                .is_ok_and(|cmd| cmd.split(|b| *b == 0).next() == Some(app))
        })
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while running() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A found element.
pub struct Element(String);

impl Session {
    /// Waits for the driver at `url`, then starts `app` with `args`.
    pub async fn start(url: &str, app: &Path, args: &[String]) -> Session {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{url}/status")).send().await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "WebDriver at {url} did not come up"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        wait_for_the_last_instance(app).await;
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": app, "args": args}
        }}});
        let v: Value = http
            .post(format!("{url}/session"))
            .json(&caps)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("new session json");
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_owned();
        let mut s = Session {
            http,
            base: format!("{url}/session/{id}"),
            id,
            done: false,
            main: String::new(),
        };
        s.main = s.current_window().await;
        s
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut rb = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let v: Value = rb
            .send()
            .await
            .expect("webdriver call")
            .json()
            .await
            .expect("json");
        v["value"].clone()
    }

    /// Makes the frame `e` the context of later calls.
    pub async fn enter_frame(&self, e: &Element) {
        let v = self
            .call(
                reqwest::Method::POST,
                "/frame",
                Some(json!({"id": {ELEMENT_KEY: e.0}})),
            )
            .await;
        assert!(v.is_null(), "switch to frame: {v}");
    }

    /// The handle of the window that is the context of later calls.
    pub async fn current_window(&self) -> String {
        let v = self.call(reqwest::Method::GET, "/window", None).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    /// The handles of every window the driver sees (the main window and, say, a card window).
    pub async fn window_handles(&self) -> Vec<String> {
        let v = self
            .call(reqwest::Method::GET, "/window/handles", None)
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Makes the window `handle` the context of later calls; false when it is gone.
    pub async fn switch_window(&self, handle: &str) -> bool {
        let v = self
            .call(
                reqwest::Method::POST,
                "/window",
                Some(json!({ "handle": handle })),
            )
            .await;
        v.is_null()
    }

    /// Back to the main window (also when the window that was the context closed meanwhile).
    pub async fn to_main(&self) {
        let main = self.main.clone();
        assert!(self.switch_window(&main).await, "the main window is gone");
    }

    /// The handle of the main window.
    pub fn main_window(&self) -> &str {
        &self.main
    }

    /// The current window's place and size (x, y, width, height).
    pub async fn window_rect(&self) -> (i64, i64, i64, i64) {
        let v = self.call(reqwest::Method::GET, "/window/rect", None).await;
        let n = |k: &str| v[k].as_f64().unwrap_or(-1.0).round() as i64;
        (n("x"), n("y"), n("width"), n("height"))
    }

    /// Back to the top-level page (also when the frame was removed meanwhile).
    pub async fn leave_frames(&self) {
        let _ = self
            .call(reqwest::Method::POST, "/frame", Some(json!({"id": null})))
            .await;
    }

    /// Finds elements by CSS selector.
    pub async fn find_all(&self, css: &str) -> Vec<Element> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str())
                    .map(|s| Element(s.to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits up to 10 s for an element.
    pub async fn wait_for(&self, css: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = self.find_all(css).await.into_iter().next() {
                return e;
            }
            assert!(Instant::now() < deadline, "no element matches {css}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// An element's visible text.
    pub async fn text(&self, e: &Element) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", e.0),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Runs a script in the page and returns its value (a promise is awaited).
    pub async fn script(&self, js: &str) -> Value {
        self.script_args(js, &[]).await
    }

    /// Runs a script with `arguments` and returns its value (a promise is awaited).
    pub async fn script_args(&self, js: &str, args: &[Value]) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": js, "args": args})),
        )
        .await
    }

    /// Runs asynchronous script: it ends by calling `arguments[0]` with its result.
    pub async fn script_async(&self, js: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": js, "args": []})),
        )
        .await
    }

    /// Clicks an element; a click WebDriver refuses (stale, hidden, covered) fails the test
    /// with WebDriver's reason instead of passing silently.
    pub async fn click(&self, e: &Element) {
        if let Err(err) = self.try_click(e).await {
            panic!("click refused: {err}");
        }
    }

    /// Clicks an element; WebDriver's error (`error: message`) when it refuses.
    pub async fn try_click(&self, e: &Element) -> Result<(), String> {
        let v = self
            .call(
                reqwest::Method::POST,
                &format!("/element/{}/click", e.0),
                Some(json!({})),
            )
            .await;
        match v.get("error").and_then(Value::as_str) {
            // A click that closes its own window (a card's button) is answered after the
            // window is gone: it was delivered.
            None | Some("no such window") => Ok(()),
            Some(kind) => Err(format!("{kind}: {}", v["message"].as_str().unwrap_or(""))),
        }
    }

    /// Waits for the first element matching `css` and clicks it. The window re-renders as
    /// events arrive, so an element found a moment ago can be replaced before the click lands:
    /// a stale element is found again (within 10 s), any other refusal fails the test.
    pub async fn click_css(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let e = self.wait_for(css).await;
            match self.try_click(&e).await {
                Ok(()) => return,
                Err(err) if err.starts_with("stale element") && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(err) => panic!("click on {css} refused: {err}"),
            }
        }
    }

    /// Waits (up to 5 s) until the first element matching `css` has stood still for two
    /// animation frames: a click lands where the element was measured, so a button in a
    /// transcript still following its newest rows (a status line growing, the view scrolling
    /// after it) is clicked only once it has stopped moving.
    pub async fn wait_still(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let js = format!(
            "return (async () => {{ const at = () => {{ const e = document.querySelector({css:?}); if (!e) return null; const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height].join(','); }}; const frame = () => new Promise((r) => requestAnimationFrame(() => r())); const a = at(); await frame(); await frame(); return a !== null && a === at(); }})()"
        );
        while self.script(&js).await != Value::Bool(true) {
            assert!(Instant::now() < deadline, "{css} never stood still");
        }
    }

    /// Types into an element (`\u{E007}` is Enter).
    pub async fn type_text(&self, e: &Element, text: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", e.0),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Clears an input.
    pub async fn clear(&self, e: &Element) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/clear", e.0),
            Some(json!({})),
        )
        .await;
    }

    /// The `textContent` of every element matching `css`, in document order.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let js = format!(
            "return [...document.querySelectorAll({})].map(e => e.textContent)",
            serde_json::to_string(css).unwrap_or_default()
        );
        match self.script(&js).await {
            Value::Array(items) => items
                .into_iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Waits up to `secs` for attribute `name` of the first element matching `css` to satisfy
    /// `ok`; returns its value.
    pub async fn wait_attr(
        &self,
        css: &str,
        name: &str,
        secs: u64,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let js = format!(
            "return document.querySelector({})?.getAttribute({}) ?? null",
            serde_json::to_string(css).unwrap_or_default(),
            serde_json::to_string(name).unwrap_or_default()
        );
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = None;
        loop {
            if let Value::String(v) = self.script(&js).await {
                if ok(&v) {
                    return v;
                }
                last = Some(v);
            }
            assert!(
                Instant::now() < deadline,
                "{css} [{name}]: never matched; last was {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits up to `secs` for the last element matching `css` to have text satisfying `ok`;
    /// returns that text.
    pub async fn wait_text(&self, css: &str, secs: u64, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut last = String::new();
        loop {
            if let Some(t) = self.texts(css).await.pop() {
                last = t.trim().to_owned();
                if ok(&last) {
                    return last;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{css}: text never matched; last was {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `css` matches exactly `n` elements.
    pub async fn wait_count(&self, css: &str, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let have = self.find_all(css).await.len();
            if have == n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css}: expected {n} elements, have {have}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Resizes the window.
    pub async fn set_size(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    /// The window's size (width, height).
    pub async fn window_size(&self) -> (u64, u64) {
        let v = self.call(reqwest::Method::GET, "/window/rect", None).await;
        (
            v["width"].as_u64().unwrap_or(0),
            v["height"].as_u64().unwrap_or(0),
        )
    }

    /// Saves a PNG screenshot of the window.
    pub async fn screenshot(&self, path: &Path) {
        // Let the last DOM change reach the screen first.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let b64 = v.as_str().expect("screenshot data");
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("shots dir");
        }
        std::fs::write(path, decode_base64(b64)).expect("write screenshot");
    }

    /// Ends the session (closes the app).
    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.base).send().await;
        self.done = true;
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Blocking, dependency-free DELETE: Drop cannot await.
        let Some(rest) = self.base.strip_prefix("http://") else {
            return;
        };
        let Some((host, _)) = rest.split_once('/') else {
            return;
        };
        if let Ok(mut sock) = std::net::TcpStream::connect(host) {
            use std::io::{Read, Write};
            let _ = sock.set_read_timeout(Some(Duration::from_secs(10)));
            let req = format!(
                "DELETE /session/{} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                self.id
            );
            let _ = sock.write_all(req.as_bytes());
            let mut buf = Vec::new();
            let _ = sock.read_to_end(&mut buf);
        }
    }
}

fn decode_base64(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => continue,
        };
        buf = (buf << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}
