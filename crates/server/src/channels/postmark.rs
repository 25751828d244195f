//! Postmark: the inbound email webhook's JSON, turning an email into the
//! customer's message, and sending the reply through Postmark's email API
//! (`POST {api_base}/email`; the outbox retries it).

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::SendError;

/// A mail header as Postmark carries it (inbound and outbound).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// A named address.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Address {
    #[serde(default)]
    pub email: String,
}

/// The fields of Postmark's inbound webhook we use; the many others are ignored.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Inbound {
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub from_full: Option<Address>,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub text_body: String,
    /// The new text of a reply, without the quoted thread (Postmark's parse).
    #[serde(default)]
    pub stripped_text_reply: String,
    /// Postmark's id of the inbound message (not the RFC 5322 Message-ID).
    #[serde(rename = "MessageID", default)]
    pub message_id: String,
    #[serde(default)]
    pub headers: Vec<Header>,
    #[serde(default)]
    pub to: String,
    #[serde(default)]
    pub to_full: Vec<Address>,
    /// The address the mail was sent to before any forwarding.
    #[serde(default)]
    pub original_recipient: String,
}

impl Inbound {
    /// The addresses the mail was sent to (lowercased, each once): the
    /// original recipient first, then `ToFull`, then the raw `To` list.
    pub fn recipients(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |a: &str| {
            let a = a.trim().trim_start_matches('<').trim_end_matches('>');
            let a = match (a.rfind('<'), a.ends_with('>')) {
                (Some(i), _) => a[i + 1..].trim_end_matches('>'),
                _ => a,
            };
            let a = a.trim().to_lowercase();
            if hc_domain::channels::is_email(&a) && !out.contains(&a) {
                out.push(a);
            }
        };
        push(&self.original_recipient);
        for a in &self.to_full {
            push(&a.email);
        }
        for a in self.to.split(',') {
            push(a);
        }
        out
    }

    /// The sender's address, lowercased, if it looks like one.
    pub fn sender(&self) -> Option<String> {
        let raw = self
            .from_full
            .as_ref()
            .map(|a| a.email.trim())
            .filter(|e| !e.is_empty())
            .unwrap_or(self.from.trim());
        let (local, domain) = raw.split_once('@')?;
        let plausible = !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && raw.len() <= 254
            && !raw.contains(|c: char| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c));
        plausible.then(|| raw.to_lowercase())
    }

    /// The value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.trim())
            .filter(|v| !v.is_empty())
    }

    /// Whether the mail was sent by a machine (auto-reply, bounce): never answered, or two
    /// auto-responders would write to each other forever.
    pub fn is_automatic(&self) -> bool {
        let auto = self
            .header("Auto-Submitted")
            .is_some_and(|v| !v.eq_ignore_ascii_case("no"));
        let bulk = self.header("Precedence").is_some_and(|v| {
            ["bulk", "junk", "list", "auto_reply"]
                .iter()
                .any(|p| v.eq_ignore_ascii_case(p))
        });
        let daemon = self
            .sender()
            .is_some_and(|s| s.starts_with("mailer-daemon@") || s.starts_with("postmaster@"));
        auto || bulk || daemon
    }

    /// What the customer wrote: Postmark's stripped reply when it has one, else
    /// the text body without quoted lines, the "On … wrote:" line and the
    /// signature; at most `max_bytes` (cut on a character boundary).
    pub fn customer_text(&self, max_bytes: usize) -> String {
        let text = if self.stripped_text_reply.trim().is_empty() {
            strip_quotes_and_signature(&self.text_body)
        } else {
            self.stripped_text_reply.trim().to_string()
        };
        truncate(&text, max_bytes).to_string()
    }

    /// `Re: <subject>`, without stacking `Re:`.
    pub fn reply_subject(&self) -> String {
        let s = self.subject.trim();
        if s.is_empty() {
            "Re: your message".into()
        } else if s.len() >= 3 && s[..3].eq_ignore_ascii_case("re:") {
            s.to_string()
        } else {
            format!("Re: {s}")
        }
    }

    /// `In-Reply-To` and `References` for the reply, from the mail's own
    /// `Message-ID` header (Postmark's `MessageID` is its internal id and is not
    /// used); none when the mail had no Message-ID.
    pub fn threading_headers(&self) -> Vec<Header> {
        let Some(id) = self.header("Message-ID") else {
            return vec![];
        };
        let references = match self.header("References") {
            Some(r) => format!("{r} {id}"),
            None => id.to_string(),
        };
        vec![
            Header {
                name: "In-Reply-To".into(),
                value: id.to_string(),
            },
            Header {
                name: "References".into(),
                value: references,
            },
        ]
    }
}

/// Drops quoted lines (`>`), the attribution line before them and everything
/// from the signature delimiter (`-- `) on.
pub fn strip_quotes_and_signature(body: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    for line in body.lines() {
        let bare = line.trim_end();
        if bare == "--" || bare == "-- " || line == "-- " {
            break;
        }
        if line.trim_start().starts_with('>') {
            continue;
        }
        kept.push(line);
    }
    while kept.last().is_some_and(|l| l.trim().is_empty()) {
        kept.pop();
    }
    if kept
        .last()
        .is_some_and(|l| l.trim_end().ends_with("wrote:"))
    {
        kept.pop();
    }
    kept.join("\n").trim().to_string()
}

fn truncate(s: &str, max_bytes: usize) -> &str {
    if s.len() <= max_bytes {
        return s;
    }
    let mut end = max_bytes;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// An email as Postmark's `POST /email` takes it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OutboundEmail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text_body: String,
    pub headers: Vec<Header>,
    pub message_stream: String,
}

/// Postmark's answer to `POST /email`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendResponse {
    #[serde(default)]
    error_code: i64,
    #[serde(default)]
    message: String,
    #[serde(rename = "MessageID", default)]
    message_id: String,
}

/// Postmark's email API for one server token.
#[derive(Clone)]
pub struct Postmark {
    client: reqwest::Client,
    api_base: String,
    token: SecretString,
}

impl Postmark {
    pub fn new(client: reqwest::Client, api_base: &str, token: SecretString) -> Self {
        Self {
            client,
            api_base: api_base.trim_end_matches('/').to_string(),
            token,
        }
    }

    /// Sends one email; returns Postmark's message id.
    pub async fn send(&self, email: &OutboundEmail) -> Result<String, SendError> {
        let response = self
            .client
            .post(format!("{}/email", self.api_base))
            .header("Accept", "application/json")
            .header("X-Postmark-Server-Token", self.token.expose_secret())
            .json(email)
            .send()
            .await
            .map_err(|e| SendError::Transient(e.without_url().to_string()))?;
        let status = response.status();
        let body: Option<SendResponse> = response.json().await.ok();
        let detail = body
            .as_ref()
            .map(|b| format!("{status}, ErrorCode {}: {}", b.error_code, b.message))
            .unwrap_or_else(|| status.to_string());
        if status.is_server_error() || status.as_u16() == 429 {
            return Err(SendError::Transient(detail));
        }
        match body {
            Some(b) if status.is_success() && b.error_code == 0 => Ok(b.message_id),
            _ => Err(SendError::Refused(detail)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inbound(json: serde_json::Value) -> Inbound {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn quoted_text_attribution_and_signature_are_dropped() {
        let body = "Where is my order?\nThanks\n\nOn Mon, 1 Jan 2024, Shop <help@shop.example> wrote:\n> Hi! How can I help?\n> bye\n";
        assert_eq!(
            strip_quotes_and_signature(body),
            "Where is my order?\nThanks"
        );
        let body = "Cancel it please\n-- \nZoe Muller\nCEO, Example Inc";
        assert_eq!(strip_quotes_and_signature(body), "Cancel it please");
    }

    #[test]
    fn the_stripped_reply_wins_and_text_is_capped_on_a_char_boundary() {
        let m = inbound(serde_json::json!({
            "TextBody": "long\n> quoted", "StrippedTextReply": "  short  "
        }));
        assert_eq!(m.customer_text(100), "short");
        let m = inbound(serde_json::json!({"TextBody": "ééé"}));
        assert_eq!(m.customer_text(5), "éé");
    }

    #[test]
    fn sender_subject_and_threading() {
        let m = inbound(serde_json::json!({
            "From": "Zoe <zoe@example.com>",
            "FromFull": {"Email": "Zoe@Example.com", "Name": "Zoe"},
            "Subject": "RE: my order",
            "Headers": [{"Name": "Message-ID", "Value": "<a@mail>"}, {"Name": "References", "Value": "<z@mail>"}]
        }));
        assert_eq!(m.sender().as_deref(), Some("zoe@example.com"));
        assert_eq!(m.reply_subject(), "RE: my order");
        assert_eq!(
            m.threading_headers(),
            vec![
                Header {
                    name: "In-Reply-To".into(),
                    value: "<a@mail>".into()
                },
                Header {
                    name: "References".into(),
                    value: "<z@mail> <a@mail>".into()
                },
            ]
        );
        assert!(
            inbound(serde_json::json!({"From": "not an address"}))
                .sender()
                .is_none()
        );
        assert!(
            inbound(serde_json::json!({"From": "a b@c.d"}))
                .sender()
                .is_none()
        );
        let auto = inbound(serde_json::json!({
            "From": "x@y.example", "Headers": [{"Name": "Auto-Submitted", "Value": "auto-replied"}]
        }));
        assert!(auto.is_automatic());
    }
}
