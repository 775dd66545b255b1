//! Asking the person on the terminal: a line of input, and the approval of a tool call (its
//! whole arguments shown, page by page, before the choices).

use crate::{review, term};
use parley_protocol::{ApprovalDecision, ToolRisk};

/// A line from standard input, or None at its end (an empty line is `Some("")`).
pub(crate) async fn read_raw_line(prompt: &str) -> Option<String> {
    term::err(prompt);
    tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        match std::io::stdin().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_owned()),
        }
    })
    .await
    .ok()
    .flatten()
}

/// A line from standard input; None at its end or when it is empty.
pub(crate) async fn read_line(prompt: &str) -> Option<String> {
    read_raw_line(prompt).await.filter(|l| !l.trim().is_empty())
}

/// What a risk is called at the prompt.
fn risk_label(risk: ToolRisk) -> &'static str {
    match risk {
        ToolRisk::ReadOnly => "reads files",
        ToolRisk::Mutating => "changes files",
        ToolRisk::Network => "uses the network",
        ToolRisk::Destructive => "can delete or run anything",
        ToolRisk::RunsCode => "runs code: allow once or deny",
    }
}

pub(crate) async fn prompt_approval(
    name: &str,
    arguments: &str,
    risk: ToolRisk,
    reason: &str,
    can_grant: bool,
) -> ApprovalDecision {
    let can_grant = can_grant && risk != ToolRisk::RunsCode;
    errln!(
        "\nThe model wants to run {name} ({}): {reason}",
        risk_label(risk)
    );
    // The whole value, paged: the choices to allow come after its last line.
    let lines = review::decision_lines(arguments);
    let pages: Vec<&[String]> = lines.chunks(review::PAGE_LINES).collect();
    let mut seen = 0;
    for (i, page) in pages.iter().enumerate() {
        for line in *page {
            errln!("{line}");
        }
        seen += page.len();
        if i + 1 < pages.len() {
            let more = read_raw_line(&format!(
                "-- {seen} of {} lines shown. Enter: the next page  n: deny --",
                lines.len()
            ))
            .await;
            match more.as_deref().map(str::trim) {
                None => return ApprovalDecision::Deny { note: None },
                Some("n") | Some("N") => {
                    let note = read_line("A note for the model (optional): ").await;
                    return ApprovalDecision::Deny { note };
                }
                _ => {}
            }
        }
    }
    let choices = if can_grant {
        "[y] allow once  [s] allow for this chat  [a] always allow  [n] deny"
    } else {
        "[y] allow once  [n] deny"
    };
    loop {
        let answer = read_line(&format!("{choices} > ")).await;
        match answer.as_deref().map(str::trim) {
            Some("y") | Some("Y") => return ApprovalDecision::AllowOnce,
            Some("s") | Some("S") if can_grant => return ApprovalDecision::AllowSession,
            Some("a") | Some("A") if can_grant => return ApprovalDecision::AllowAlways,
            Some("n") | Some("N") | None => {
                let note = read_line("A note for the model (optional): ").await;
                return ApprovalDecision::Deny { note };
            }
            _ => errln!("Please type one of the letters shown."),
        }
    }
}
