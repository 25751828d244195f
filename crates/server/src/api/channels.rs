//! Channel webhooks: SMS and voice from Twilio, email from Postmark. They
//! live outside `/v1` (no API key): each provider authenticates with its own
//! mechanism — Twilio's `X-Twilio-Signature`, HTTP Basic credentials in
//! Postmark's webhook URL — checked with the tenant's own account when its
//! settings name one, else the server's `[server.channels]`. The tenant comes
//! from the path (`/channels/twilio/{tenant}/sms`) or, on the shared paths
//! (`/channels/twilio/sms`), from the number or address the customer wrote
//! to. A message continues the sender's live conversation on that channel
//! (keyed by phone number, `CallSid` or sender address) or opens one, runs a
//! turn through the agent, records where replies go (the conversation's
//! contact) and answers in the provider's format. A channel with no account
//! is off: 404 `channel_disabled`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use hc_agent::TurnResult;
use hc_agent::engine::MAX_MESSAGE_BYTES;
use hc_domain::{Channel, Conversation, ConversationStatus, TenantId, TenantSettings};
use secrecy::ExposeSecret;
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::channels::postmark::{Inbound, OutboundEmail};
use crate::channels::twilio::{self, Verb};
use crate::channels::{PostmarkAccount, TwilioAccount};
use crate::error::{ApiError, ApiResult};
use crate::outbox::{self, Contact};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/channels/twilio/{tenant}/sms", post(receive_sms))
        .route("/channels/twilio/{tenant}/voice", post(receive_voice))
        .route("/channels/postmark/{tenant}/inbound", post(receive_email))
        .route("/channels/twilio/sms", post(receive_sms_shared))
        .route("/channels/twilio/voice", post(receive_voice_shared))
        .route("/channels/postmark/inbound", post(receive_email_shared))
}

fn disabled(what: &str, missing: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "channel_disabled",
        format!(
            "the {what} channel is off: set the tenant's channels settings or {missing} in [server.channels]"
        ),
    )
}

/// The tenant that receives on `address` (the shared webhook paths).
async fn tenant_for_address(state: &AppState, addresses: &[String]) -> ApiResult<TenantId> {
    for a in addresses {
        if let Some(t) = state.platform.tenant_for_address(a).await? {
            return Ok(t);
        }
    }
    Err(ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no tenant receives on this number or address",
    ))
}

/// Records where replies to `c` go. A failure is logged, not fatal: the turn is stored.
async fn remember_contact(state: &AppState, c: &Conversation, contact: &Contact) {
    let doc = serde_json::to_value(contact).unwrap_or_default();
    if let Err(e) = state.platform.set_contact(&c.tenant_id, &c.id, &doc).await {
        tracing::warn!(conversation = %c.id, error = %e, "cannot record the reply contact");
    }
}

fn invalid_payload(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_payload", message)
}

/// The tenant in the path, which must exist.
async fn tenant(state: &AppState, raw: &str) -> ApiResult<TenantId> {
    let id = TenantId::parse(raw).map_err(|_| ApiError::not_found("tenant"))?;
    match state.platform.tenant(&id).await? {
        Some(_) => Ok(id),
        None => Err(ApiError::not_found("tenant")),
    }
}

/// Runs one customer message on the live conversation for `key` (or a new one).
/// `text` sees the conversation first (e.g. to add the sender's identity). A
/// conversation that closed between lookup and turn is replaced once.
async fn converse(
    state: &AppState,
    tenant: &TenantId,
    channel: Channel,
    key: &str,
    text: impl Fn(&Conversation) -> String,
    deliver: Option<&hc_agent::Deliver>,
) -> ApiResult<(Conversation, TurnResult)> {
    let mut retried = false;
    loop {
        let (c, _) = state.agent.continue_or_start(tenant, channel, key).await?;
        let handled = match deliver {
            Some(d) => {
                state
                    .agent
                    .handle_delivering(tenant, &c.id, &text(&c), d)
                    .await
            }
            None => state.agent.handle(tenant, &c.id, &text(&c)).await,
        };
        match handled {
            Ok(turn) => return Ok((c, turn)),
            Err(hc_agent::Error::ConversationClosed(..)) if !retried => retried = true,
            Err(e) => return Err(e.into()),
        }
    }
}

// ---------------------------------------------------------------- Twilio

/// A Twilio request whose signature checked out.
struct TwilioRequest {
    tenant: TenantId,
    settings: std::sync::Arc<TenantSettings>,
    params: Vec<(String, String)>,
    /// The public URL Twilio called (what it signed).
    url: String,
}

impl TwilioRequest {
    fn param(&self, name: &str) -> Option<&str> {
        param(&self.params, name)
    }

    fn required(&self, name: &str) -> ApiResult<&str> {
        self.param(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid_payload(format!("the {name} parameter is required")))
    }
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
}

/// Checks the body is a form, finds the tenant (from the path, else from the
/// number called, `To`), and checks `X-Twilio-Signature` with that tenant's
/// auth token (else the server's): 403 before anything is stored.
async fn twilio_request(
    state: &AppState,
    what: &str,
    raw_tenant: Option<&str>,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> ApiResult<TwilioRequest> {
    let base = state
        .config
        .channels
        .public_base_url
        .as_deref()
        .ok_or_else(|| disabled(what, "public_base_url"))?;
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Twilio webhooks are application/x-www-form-urlencoded",
        ));
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let tenant = match raw_tenant {
        Some(raw) => tenant(state, raw).await?,
        None => {
            let to = param(&params, "To")
                .filter(|v| !v.is_empty())
                .ok_or_else(|| invalid_payload("the To parameter is required"))?;
            tenant_for_address(state, &[to.to_string()]).await?
        }
    };
    let settings = state.settings.effective(&tenant).await?;
    let account = TwilioAccount::resolve(&state.config.channels, &settings)
        .ok_or_else(|| disabled(what, "twilio_auth_token"))?;
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let signed = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|sig| {
            twilio::verify(
                account.auth_token.expose_secret().as_bytes(),
                &url,
                &params,
                sig,
            )
        });
    if !signed {
        tracing::warn!(%url, %tenant, "Twilio webhook with a missing or wrong signature");
        return Err(ApiError::forbidden(
            "X-Twilio-Signature is missing or does not match this request",
        ));
    }
    Ok(TwilioRequest {
        tenant,
        settings,
        params,
        url,
    })
}

fn twiml(verbs: &[Verb]) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        twilio::response(verbs),
    )
        .into_response()
}

/// Cuts text to the engine's limit on a character boundary.
fn cap(text: &str) -> &str {
    let mut end = text.len().min(MAX_MESSAGE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// An SMS from a customer (Twilio Programmable Messaging webhook). The sender's
/// number keys the conversation; the reply comes back as TwiML `<Message>`.
#[utoipa::path(post, path = "/channels/twilio/{tenant}/sms", tag = "channels",
    params(("tenant" = String, Path), ("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's messaging parameters: `From`, `To`, `Body`, `MessageSid`, `AccountSid`, …"),
    responses((status = 200, description = "TwiML `<Response><Message>reply</Message></Response>`", content_type = "application/xml", body = String),
              (status = 403, description = "forbidden: bad signature, nothing stored", body = crate::openapi::ErrorBody),
              (status = 404, description = "channel_disabled or unknown tenant", body = crate::openapi::ErrorBody),
              (status = 415, body = crate::openapi::ErrorBody),
              (status = 422, description = "invalid_payload: no `From` or `Body`", body = crate::openapi::ErrorBody)))]
pub async fn receive_sms(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let req = twilio_request(&state, "SMS", Some(&tenant), &uri, &headers, &body).await?;
    sms_turn(&state, req).await
}

/// An SMS to any tenant's number: the tenant is the one whose settings list
/// the number called (`To`); then as `/channels/twilio/{tenant}/sms`.
#[utoipa::path(post, path = "/channels/twilio/sms", tag = "channels",
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's request signature, with the tenant's auth token")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's messaging parameters; `To` selects the tenant"),
    responses((status = 200, description = "TwiML `<Message>`", content_type = "application/xml", body = String),
              (status = 403, description = "forbidden: bad signature for that tenant, nothing stored", body = crate::openapi::ErrorBody),
              (status = 404, description = "no tenant receives on `To`, or channel_disabled", body = crate::openapi::ErrorBody),
              (status = 422, description = "invalid_payload", body = crate::openapi::ErrorBody)))]
pub async fn receive_sms_shared(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let req = twilio_request(&state, "SMS", None, &uri, &headers, &body).await?;
    sms_turn(&state, req).await
}

async fn sms_turn(state: &AppState, req: TwilioRequest) -> ApiResult<Response> {
    let from = req.required("From")?;
    let text = req
        .param("Body")
        .ok_or_else(|| invalid_payload("the Body parameter is required"))?;
    let text = cap(text).to_string();
    if text.is_empty() {
        // A picture-only MMS: nothing to answer, nothing stored.
        return Ok(twiml(&[Verb::Message(
            "Sorry, I can only read text. Please send your question as a message.".into(),
        )]));
    }
    let (c, turn) = converse(
        state,
        &req.tenant,
        Channel::Sms,
        from,
        |_| text.clone(),
        None,
    )
    .await?;
    let contact = Contact {
        customer: from.to_string(),
        ours: req
            .param("To")
            .filter(|t| !t.is_empty())
            .map(str::to_string),
        ..Contact::default()
    };
    remember_contact(state, &c, &contact).await;
    Ok(twiml(&[Verb::Message(turn.reply.text)]))
}

/// What ends a call when the conversation went to a human: a transfer to the
/// tenant's handoff number, else an apology and a text-message follow-up (or
/// a call back when no SMS can be sent).
fn handoff(state: &AppState, req: &TwilioRequest, reply: String) -> Vec<Verb> {
    if let Some(number) = crate::channels::handoff_number(&state.config.channels, &req.settings) {
        return vec![
            Verb::Say(reply),
            Verb::Say("Connecting you to a member of our team now.".into()),
            Verb::Dial(number),
        ];
    }
    let can_text = req.param("From").is_some_and(|f| !f.is_empty())
        && TwilioAccount::resolve(&state.config.channels, &req.settings)
            .is_some_and(|a| a.can_send());
    let follow_up = if can_text {
        "I'm sorry, I can't transfer this call to a person right now. A member of our team will follow up by text message at this number, so you don't need to stay on the line. Goodbye."
    } else {
        "I'm sorry, I can't transfer this call to a person right now. A member of our team will call you back on this number. Goodbye."
    };
    vec![Verb::Say(reply), Verb::Say(follow_up.into()), Verb::Hangup]
}

/// Listens for the caller's next words; silence ends the call politely.
fn listen(url: &str, say: String) -> Vec<Verb> {
    vec![
        Verb::Gather {
            action: url.to_string(),
            prompt: vec![Verb::Say(say)],
        },
        Verb::Say("I didn't hear anything, so I'll hang up now. Goodbye.".into()),
        Verb::Hangup,
    ]
}

/// A phone call (Twilio Programmable Voice webhook), keyed by `CallSid`. A
/// call without `SpeechResult` is greeted inside a speech `<Gather>` that posts
/// back here; with one, it runs a turn and says the reply in a new `<Gather>`.
/// On escalation the call is `<Dial>`ed to the tenant's handoff number (else
/// the server's); with none, the caller is told a human will follow up by
/// text message, and a human's reply from the inbox is sent to them by SMS.
#[utoipa::path(post, path = "/channels/twilio/{tenant}/voice", tag = "channels",
    params(("tenant" = String, Path), ("X-Twilio-Signature" = String, Header, description = "Twilio's request signature")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's voice parameters: `CallSid`, `From`, `To`, and `SpeechResult` after a `<Gather>`"),
    responses((status = 200, description = "TwiML: `<Gather input=\"speech\">` with `<Say>`, or `<Dial>`/`<Hangup/>` on handoff", content_type = "application/xml", body = String),
              (status = 403, description = "forbidden: bad signature, nothing stored", body = crate::openapi::ErrorBody),
              (status = 404, description = "channel_disabled or unknown tenant", body = crate::openapi::ErrorBody),
              (status = 422, description = "invalid_payload: no `CallSid`", body = crate::openapi::ErrorBody)))]
pub async fn receive_voice(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let req = twilio_request(&state, "voice", Some(&tenant), &uri, &headers, &body).await?;
    voice_turn(&state, req).await
}

/// A call to any tenant's number: the tenant is the one whose settings list
/// the number called (`To`); then as `/channels/twilio/{tenant}/voice`.
#[utoipa::path(post, path = "/channels/twilio/voice", tag = "channels",
    params(("X-Twilio-Signature" = String, Header, description = "Twilio's request signature, with the tenant's auth token")),
    request_body(content = String, content_type = "application/x-www-form-urlencoded",
        description = "Twilio's voice parameters; `To` selects the tenant"),
    responses((status = 200, description = "TwiML", content_type = "application/xml", body = String),
              (status = 403, description = "forbidden: bad signature for that tenant, nothing stored", body = crate::openapi::ErrorBody),
              (status = 404, description = "no tenant receives on `To`, or channel_disabled", body = crate::openapi::ErrorBody),
              (status = 422, description = "invalid_payload", body = crate::openapi::ErrorBody)))]
pub async fn receive_voice_shared(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let req = twilio_request(&state, "voice", None, &uri, &headers, &body).await?;
    voice_turn(&state, req).await
}

async fn voice_turn(state: &AppState, req: TwilioRequest) -> ApiResult<Response> {
    let call = req.required("CallSid")?;
    let contact = req
        .param("From")
        .filter(|f| !f.is_empty())
        .map(|from| Contact {
            customer: from.to_string(),
            ours: req
                .param("To")
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            ..Contact::default()
        });
    let speech = req.param("SpeechResult").filter(|s| !s.is_empty());
    let Some(speech) = speech else {
        let (c, new) = state
            .agent
            .continue_or_start(&req.tenant, Channel::Voice, call)
            .await?;
        if let (true, Some(contact)) = (new, &contact) {
            remember_contact(state, &c, contact).await;
        }
        if c.status == ConversationStatus::Escalated {
            return Ok(twiml(&handoff(
                state,
                &req,
                "You're waiting for a member of our team.".into(),
            )));
        }
        return Ok(twiml(&listen(
            &req.url,
            state.agent.greeting_for(&req.tenant).await,
        )));
    };
    let speech = cap(speech).to_string();
    let (c, turn) = converse(
        state,
        &req.tenant,
        Channel::Voice,
        call,
        |_| speech.clone(),
        None,
    )
    .await?;
    if let Some(contact) = &contact {
        remember_contact(state, &c, contact).await;
    }
    let verbs = match turn.status {
        ConversationStatus::Escalated => handoff(state, &req, turn.reply.text),
        ConversationStatus::Open => listen(&req.url, turn.reply.text),
        ConversationStatus::Resolved | ConversationStatus::Abandoned => {
            vec![Verb::Say(turn.reply.text), Verb::Hangup]
        }
    };
    Ok(twiml(&verbs))
}

// ---------------------------------------------------------------- Postmark

/// What the email webhook answers Postmark.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailReceived {
    /// The conversation the email went to; absent when it was ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    /// `replied` (stored; the reply is being sent) or `ignored` (an automatic email).
    pub outcome: &'static str,
}

/// SHA-256 of both sides, so the comparison takes the same time whatever matches.
fn same_secret(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}

fn check_basic(headers: &HeaderMap, user: &str, password: &str) -> ApiResult<()> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    let ok = given
        .as_deref()
        .and_then(|g| g.split_once(':'))
        .is_some_and(|(u, p)| same_secret(u, user) & same_secret(p, password));
    if ok {
        Ok(())
    } else {
        Err(ApiError::unauthorized(
            "the inbound webhook's HTTP Basic credentials are missing or wrong",
        ))
    }
}

/// An email from a customer (Postmark inbound webhook), keyed by the sender's
/// address. While the conversation has no identified customer, the text is
/// prefixed with "My email is <sender>." — the sender states their address,
/// exactly as typing it in chat would. Answers 200 once the customer message
/// and the reply are stored and the reply is in the outbox, which sends it
/// through Postmark's email API (retried with backoff, across restarts).
/// Automatic mail (auto-replies, bounces) is acknowledged and ignored.
#[utoipa::path(post, path = "/channels/postmark/{tenant}/inbound", tag = "channels",
    params(("tenant" = String, Path)),
    request_body(content = serde_json::Value, description = "Postmark's inbound JSON: `From`, `FromFull{Email,Name}`, `To`, `ToFull`, `OriginalRecipient`, `Subject`, `TextBody`, `StrippedTextReply`, `MessageID`, `Headers[{Name,Value}]`, …"),
    responses((status = 200, body = EmailReceived),
              (status = 400, description = "invalid_json", body = crate::openapi::ErrorBody),
              (status = 401, description = "unauthorized: wrong HTTP Basic credentials", body = crate::openapi::ErrorBody),
              (status = 404, description = "channel_disabled or unknown tenant", body = crate::openapi::ErrorBody),
              (status = 422, description = "invalid_payload: no usable sender or no text", body = crate::openapi::ErrorBody)),
    security(("postmark_basic" = [])))]
pub async fn receive_email(
    State(state): State<AppState>,
    Path(tenant_raw): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<EmailReceived>> {
    let tenant = tenant(&state, &tenant_raw).await?;
    let account = postmark_account(&state, &tenant, &headers).await?;
    let mail = parse_mail(&body)?;
    email_turn(&state, tenant, account, mail).await
}

/// An email to any tenant's address: the tenant is the one whose settings
/// list a recipient (`OriginalRecipient`, `ToFull`, `To`); its inbound
/// credentials must match. Then as `/channels/postmark/{tenant}/inbound`.
#[utoipa::path(post, path = "/channels/postmark/inbound", tag = "channels",
    request_body(content = serde_json::Value, description = "Postmark's inbound JSON; a recipient selects the tenant"),
    responses((status = 200, body = EmailReceived),
              (status = 400, description = "invalid_json", body = crate::openapi::ErrorBody),
              (status = 401, description = "unauthorized: wrong HTTP Basic credentials for that tenant", body = crate::openapi::ErrorBody),
              (status = 404, description = "no tenant receives on a recipient, or channel_disabled", body = crate::openapi::ErrorBody),
              (status = 422, description = "invalid_payload", body = crate::openapi::ErrorBody)),
    security(("postmark_basic" = [])))]
pub async fn receive_email_shared(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<EmailReceived>> {
    let mail = parse_mail(&body)?;
    let tenant = tenant_for_address(&state, &mail.recipients()).await?;
    let account = postmark_account(&state, &tenant, &headers).await?;
    email_turn(&state, tenant, account, mail).await
}

/// The tenant's Postmark server (404 `channel_disabled` without one), once the
/// request's HTTP Basic credentials match its inbound ones (else 401).
async fn postmark_account(
    state: &AppState,
    tenant: &TenantId,
    headers: &HeaderMap,
) -> ApiResult<PostmarkAccount> {
    let settings = state.settings.effective(tenant).await?;
    let account = PostmarkAccount::resolve(&state.config.channels, &settings)
        .map_err(|missing| disabled("email", missing))?;
    if let Err(e) = check_basic(
        headers,
        &account.inbound_user,
        account.inbound_password.expose_secret(),
    ) {
        tracing::warn!(%tenant, "Postmark webhook with wrong credentials");
        return Err(e);
    }
    Ok(account)
}

fn parse_mail(body: &Bytes) -> ApiResult<Inbound> {
    serde_json::from_slice(body).map_err(|e| {
        if e.is_data() {
            invalid_payload(format!("not a Postmark inbound message: {e}"))
        } else {
            ApiError::bad_request("invalid_json", format!("the body is not JSON: {e}"))
        }
    })
}

async fn email_turn(
    state: &AppState,
    tenant: TenantId,
    account: PostmarkAccount,
    mail: Inbound,
) -> ApiResult<Json<EmailReceived>> {
    let sender = mail
        .sender()
        .ok_or_else(|| invalid_payload("From / FromFull.Email is not an email address"))?;
    if mail.is_automatic() {
        tracing::info!(%tenant, postmark_id = %mail.message_id, "automatic email ignored");
        return Ok(Json(EmailReceived {
            conversation_id: None,
            outcome: "ignored",
        }));
    }
    let prefix = format!("My email is {sender}.\n\n");
    let text = mail.customer_text(MAX_MESSAGE_BYTES - prefix.len());
    if text.is_empty() {
        return Err(invalid_payload("the email has no text"));
    }
    // The reply joins the outbox in the turn's own transaction, before
    // Postmark gets its 200: a stored turn always has its answer queued.
    let reply = OutboundEmail {
        from: account.from,
        to: sender.clone(),
        subject: mail.reply_subject(),
        text_body: String::new(),
        headers: mail.threading_headers(),
        message_stream: "outbound".into(),
    };
    let deliver = move |c: &Conversation, m: &hc_domain::Message| {
        Some(outbox::email(
            &c.tenant_id,
            Some(&c.id),
            &OutboundEmail {
                text_body: m.text.clone(),
                ..reply.clone()
            },
        ))
    };
    let (c, _) = converse(
        state,
        &tenant,
        Channel::Email,
        &sender,
        |c| {
            if c.customer.is_none() {
                format!("{prefix}{text}")
            } else {
                text.clone()
            }
        },
        Some(&deliver),
    )
    .await?;
    state.outbox_wake.notify_one();
    let contact = Contact {
        customer: sender.clone(),
        ours: mail.recipients().into_iter().next(),
        subject: Some(mail.reply_subject()),
        headers: mail.threading_headers(),
    };
    remember_contact(state, &c, &contact).await;
    Ok(Json(EmailReceived {
        conversation_id: Some(c.id.to_string()),
        outcome: "replied",
    }))
}
