//! What a server asks the person (elicitation): a form to fill in, or an address to open. A
//! server asks in either era — as a request of its own (the handshake era) or inside an
//! `input_required` result (the stateless one; rmcp echoes its `requestState` byte-exact) — and
//! both arrive here. A request waits for the person's answer where one can be given: the
//! desktop serves it on the card's separate origin (script in the main page can neither read
//! nor answer it), the CLI asks on its terminal. Where nobody can answer (a script, a pipe),
//! it is declined at once; unanswered, it is cancelled after ASK_TIMEOUT; a call stopped
//! meanwhile takes its question away.

use super::form::{self, Field};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{broadcast, oneshot};

/// How long a question waits for its answer.
pub const ASK_TIMEOUT: Duration = Duration::from_secs(600);

/// What a server asks.
#[derive(Debug, Clone, PartialEq)]
pub enum AskKind {
    /// Fill in a form.
    Form { fields: Vec<Field> },
    /// Open an address (in the person's browser, on their click only).
    Url { url: String },
    /// Let `model` (provider, model) answer the server's request.
    Sampling {
        model: (String, String),
        request: super::sampling::Request,
    },
}

/// A question waiting for the person.
#[derive(Debug, Clone, PartialEq)]
pub struct Ask {
    pub id: String,
    /// The server's name, as configured.
    pub server: String,
    /// The server's message, as it sent it (shown escaped, hidden characters marked).
    pub message: String,
    pub kind: AskKind,
}

/// The person's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The form's content (checked), or for an address: it was opened.
    Accept(Map<String, Value>),
    /// Not answered, the call goes on without.
    Decline,
    /// The call should stop.
    Cancel,
}

struct Waiting {
    ask: Ask,
    reply: oneshot::Sender<Answer>,
}

/// The questions waiting, and who can answer them.
pub struct Asks {
    waiting: Mutex<HashMap<String, Waiting>>,
    news: broadcast::Sender<String>,
    /// How many answerers are attached (a window, a terminal).
    answerers: AtomicUsize,
}

impl Default for Asks {
    fn default() -> Self {
        Asks {
            waiting: Mutex::default(),
            news: broadcast::channel(64).0,
            answerers: AtomicUsize::new(0),
        }
    }
}

/// An attached answerer: it hears of every new question (its id) while it is held.
pub struct Answerer {
    asks: Arc<Asks>,
    pub news: broadcast::Receiver<String>,
}

impl Drop for Answerer {
    fn drop(&mut self) {
        self.asks.answerers.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Takes a question out of the waiting list when its asker goes (answered, timed out, or the
/// call stopped).
struct Leave<'a>(&'a Asks, String);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        crate::util::lock(&self.0.waiting).remove(&self.1);
    }
}

impl Asks {
    /// Attaches an answerer (the window, a terminal): from now on questions wait for it.
    pub fn attach(self: &Arc<Self>) -> Answerer {
        self.answerers.fetch_add(1, Ordering::SeqCst);
        Answerer {
            asks: self.clone(),
            news: self.news.subscribe(),
        }
    }

    /// Asks the person, and waits for the answer: declined at once when nobody can answer,
    /// cancelled when nobody did within ASK_TIMEOUT.
    pub async fn ask(&self, server: &str, message: &str, kind: AskKind) -> Answer {
        if self.answerers.load(Ordering::SeqCst) == 0 {
            return Answer::Decline;
        }
        let id = uuid::Uuid::now_v7().simple().to_string();
        let (reply, answer) = oneshot::channel();
        let ask = Ask {
            id: id.clone(),
            server: server.to_owned(),
            message: message.chars().take(form::LABEL_MAX * 4).collect(),
            kind,
        };
        crate::util::lock(&self.waiting).insert(id.clone(), Waiting { ask, reply });
        let _leave = Leave(self, id.clone());
        let _ = self.news.send(id);
        match tokio::time::timeout(ASK_TIMEOUT, answer).await {
            Ok(Ok(a)) => a,
            _ => Answer::Cancel,
        }
    }

    /// The question `id`, while it waits.
    pub fn get(&self, id: &str) -> Option<Ask> {
        crate::util::lock(&self.waiting)
            .get(id)
            .map(|w| w.ask.clone())
    }

    /// Every question waiting.
    pub fn all(&self) -> Vec<Ask> {
        crate::util::lock(&self.waiting)
            .values()
            .map(|w| w.ask.clone())
            .collect()
    }

    /// Answers question `id`. A form's content is checked against its fields first: a wrong
    /// answer is refused (the question still waits) with what is wrong.
    pub fn answer(&self, id: &str, answer: Answer) -> Result<(), String> {
        let mut waiting = crate::util::lock(&self.waiting);
        let Some(w) = waiting.get(id) else {
            return Err("This question was already answered, stopped or timed out.".into());
        };
        let answer = match (answer, &w.ask.kind) {
            (Answer::Accept(content), AskKind::Form { fields }) => {
                Answer::Accept(form::check(fields, &content)?)
            }
            (Answer::Accept(_), AskKind::Url { .. } | AskKind::Sampling { .. }) => {
                Answer::Accept(Map::new())
            }
            (other, _) => other,
        };
        if let Some(w) = waiting.remove(id) {
            let _ = w.reply.send(answer);
        }
        Ok(())
    }
}

/// Whether `url` may be opened for the person: http or https only, with a host.
pub fn openable(url: &str) -> bool {
    url::Url::parse(url)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> AskKind {
        let schema = json!({"properties": {"n": {"type": "integer"}}, "required": ["n"]});
        AskKind::Form {
            fields: form::fields(&schema).unwrap(),
        }
    }

    #[tokio::test]
    async fn nobody_to_answer_declines_at_once() {
        let asks = Arc::new(Asks::default());
        assert_eq!(asks.ask("s", "m", form()).await, Answer::Decline);
        let a = asks.attach();
        drop(a);
        assert_eq!(asks.ask("s", "m", form()).await, Answer::Decline);
        assert!(asks.all().is_empty());
    }

    #[tokio::test]
    async fn an_answer_is_checked_then_delivered_once() {
        let asks = Arc::new(Asks::default());
        let mut who = asks.attach();
        let asking = {
            let asks = asks.clone();
            tokio::spawn(async move { asks.ask("srv", "How many?", form()).await })
        };
        let id = who.news.recv().await.unwrap();
        let ask = asks.get(&id).unwrap();
        assert_eq!(
            (ask.server.as_str(), ask.message.as_str()),
            ("srv", "How many?")
        );
        let wrong = json!({"n": "many"}).as_object().unwrap().clone();
        assert!(asks.answer(&id, Answer::Accept(wrong)).is_err());
        assert!(
            asks.get(&id).is_some(),
            "a wrong answer leaves the question waiting"
        );
        let right = json!({"n": "3"}).as_object().unwrap().clone();
        asks.answer(&id, Answer::Accept(right)).unwrap();
        assert!(asks.answer(&id, Answer::Decline).is_err(), "answered once");
        let got = asking.await.unwrap();
        assert_eq!(
            got,
            Answer::Accept(json!({"n": 3}).as_object().unwrap().clone())
        );
        assert!(asks.all().is_empty());
    }

    #[tokio::test]
    async fn a_stopped_call_takes_its_question_away() {
        let asks = Arc::new(Asks::default());
        let mut who = asks.attach();
        let asking = {
            let asks = asks.clone();
            tokio::spawn(async move { asks.ask("srv", "m", form()).await })
        };
        let id = who.news.recv().await.unwrap();
        asking.abort();
        let _ = asking.await;
        assert!(asks.get(&id).is_none());
        assert!(asks.answer(&id, Answer::Cancel).is_err());
    }

    #[test]
    fn only_web_addresses_are_opened() {
        assert!(openable("https://example.com/auth?x=1"));
        assert!(openable("http://127.0.0.1:8080/"));
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "data:text/html,hi",
            "parley-approve://localhost/card",
            "ftp://x.example/",
            "https://",
            "not a url",
            "",
        ] {
            assert!(!openable(bad), "{bad}");
        }
    }
}
