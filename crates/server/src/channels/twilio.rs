//! Twilio webhooks: checking `X-Twilio-Signature` and writing TwiML answers.
//!
//! Twilio signs each request with HMAC-SHA1 keyed by the account's auth token
//! over the full URL it called followed by every POST parameter, sorted by
//! name, each name immediately followed by its value; the header carries the
//! base64 of the MAC.
//!
//! Outbound SMS go through the Messages resource of Twilio's REST API:
//! `POST {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, a form
//! with `To`, `From` and `Body`, HTTP Basic with the account SID and auth token.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::SendError;

type HmacSha1 = hmac::Hmac<sha1::Sha1>;

fn mac(auth_token: &[u8], url: &str, params: &[(String, String)]) -> HmacSha1 {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    // By name (byte order, case-sensitive), a repeated name's values in order;
    // an exact repeat counts once, as in Twilio's own validator.
    sorted.sort();
    sorted.dedup();
    let mut mac = HmacSha1::new_from_slice(auth_token).expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

/// The signature Twilio sends for a POST of `params` to `url`.
#[cfg(test)]
pub fn signature(auth_token: &[u8], url: &str, params: &[(String, String)]) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Whether `header` is Twilio's signature of this request (constant-time comparison).
pub fn verify(auth_token: &[u8], url: &str, params: &[(String, String)], header: &str) -> bool {
    let Ok(given) = STANDARD.decode(header.trim()) else {
        return false;
    };
    mac(auth_token, url, params).verify_slice(&given).is_ok()
}

/// The Message resource Twilio returns on 201 (the fields we use).
#[derive(Debug, Deserialize)]
struct MessageResource {
    sid: String,
}

/// Twilio's error body: `{"code", "message", "more_info", "status"}`.
#[derive(Debug, Deserialize)]
struct ErrorResource {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: String,
}

/// Sends one SMS; returns the message SID. 429 and 5xx are transient, any
/// other refusal (bad number, bad credentials…) is not.
pub async fn send_sms(
    client: &reqwest::Client,
    api_base: &str,
    account_sid: &str,
    auth_token: &SecretString,
    from: &str,
    to: &str,
    body: &str,
) -> Result<String, SendError> {
    let url = format!(
        "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
        api_base.trim_end_matches('/')
    );
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("To", to)
        .append_pair("From", from)
        .append_pair("Body", body)
        .finish();
    let response = client
        .post(url)
        .basic_auth(account_sid, Some(auth_token.expose_secret()))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(form)
        .send()
        .await
        .map_err(|e| SendError::Transient(e.without_url().to_string()))?;
    let status = response.status();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| SendError::Transient(e.without_url().to_string()))?;
    if status.is_success() {
        return serde_json::from_slice::<MessageResource>(&bytes)
            .map(|m| m.sid)
            .map_err(|e| SendError::Transient(format!("{status}, unreadable answer: {e}")));
    }
    let detail = match serde_json::from_slice::<ErrorResource>(&bytes) {
        Ok(e) => format!(
            "{status}, Twilio error {}: {}",
            e.code.map(|c| c.to_string()).unwrap_or_default(),
            e.message
        ),
        Err(_) => status.to_string(),
    };
    if status.is_server_error() || status.as_u16() == 429 {
        Err(SendError::Transient(detail))
    } else {
        Err(SendError::Refused(detail))
    }
}

/// One TwiML verb.
#[derive(Clone, Debug, PartialEq)]
pub enum Verb {
    /// Text-to-speech on a call.
    Say(String),
    /// An SMS reply.
    Message(String),
    /// Listens for speech, then POSTs `SpeechResult` to `action`.
    Gather {
        action: String,
        prompt: Vec<Verb>,
    },
    /// Connects the call to a phone number.
    Dial(String),
    Hangup,
}

/// A TwiML `<Response>` document; all text and attributes are XML-escaped.
pub fn response(verbs: &[Verb]) -> String {
    let mut w = Writer::new(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let _ = w.write_event(Event::Start(BytesStart::new("Response")));
    for verb in verbs {
        write_verb(&mut w, verb);
    }
    let _ = w.write_event(Event::End(BytesEnd::new("Response")));
    String::from_utf8(w.into_inner()).expect("TwiML is UTF-8")
}

fn write_verb(w: &mut Writer<Vec<u8>>, verb: &Verb) {
    let text = |w: &mut Writer<Vec<u8>>, name: &str, body: &str| {
        let _ = w.write_event(Event::Start(BytesStart::new(name)));
        let _ = w.write_event(Event::Text(BytesText::new(body)));
        let _ = w.write_event(Event::End(BytesEnd::new(name)));
    };
    match verb {
        Verb::Say(s) => text(w, "Say", s),
        Verb::Message(s) => text(w, "Message", s),
        Verb::Dial(number) => text(w, "Dial", number),
        Verb::Hangup => {
            let _ = w.write_event(Event::Empty(BytesStart::new("Hangup")));
        }
        Verb::Gather { action, prompt } => {
            let start = BytesStart::new("Gather").with_attributes([
                ("input", "speech"),
                ("action", action.as_str()),
                ("method", "POST"),
                ("speechTimeout", "auto"),
            ]);
            let _ = w.write_event(Event::Start(start));
            for v in prompt {
                write_verb(w, v);
            }
            let _ = w.write_event(Event::End(BytesEnd::new("Gather")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn matches_the_example_in_twilios_own_validator_tests() {
        // twilio-python tests/unit/test_request_validator.py.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let p = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]);
        assert_eq!(signature(b"12345", url, &p), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert!(verify(b"12345", url, &p, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        let mut tampered = p.clone();
        tampered[1].1 = "9999".into();
        assert!(!verify(
            b"12345",
            url,
            &tampered,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!verify(b"54321", url, &p, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
        assert!(!verify(
            b"12345",
            "https://mycompany.com/myapp.php",
            &p,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        assert!(!verify(b"12345", url, &p, "not base64!"));
    }

    #[test]
    fn twiml_escapes_text_and_attributes() {
        let xml = response(&[
            Verb::Gather {
                action: "https://x.example/v?a=1&b=2".into(),
                prompt: vec![Verb::Say("<b> & \"q\"".into())],
            },
            Verb::Hangup,
        ]);
        assert!(
            xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>"),
            "{xml}"
        );
        assert!(
            xml.contains("action=\"https://x.example/v?a=1&amp;b=2\""),
            "{xml}"
        );
        assert!(
            xml.contains("<Say>&lt;b&gt; &amp; &quot;q&quot;</Say></Gather><Hangup/></Response>"),
            "{xml}"
        );
    }
}
