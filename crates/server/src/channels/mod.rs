//! Provider wire formats for the channels: Twilio (request signatures, TwiML
//! answers, the Messages REST API) and Postmark (inbound email JSON, the
//! outbound email API), and which account serves a tenant: its own
//! (`channels` in its settings) or else the server's `[server.channels]`.
//! The webhooks that use them are in `api/channels.rs`; deliveries go through
//! the outbox (`outbox.rs`).

pub mod postmark;
pub mod twilio;

use hc_domain::{Secret, TenantSettings};
use secrecy::SecretString;

use crate::config::ChannelsConfig;

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Worth trying again (network, timeouts, 429, 5xx).
    #[error("provider unavailable: {0}")]
    Transient(String),
    /// The provider refused the message (bad credentials, bad number,
    /// inactive recipient…) or it cannot be sent at all: retrying won't help.
    #[error("refused: {0}")]
    Refused(String),
}

fn secret(s: &Secret) -> Option<SecretString> {
    s.expose().map(|v| SecretString::from(v.to_string()))
}

/// The Twilio account that serves a tenant.
pub struct TwilioAccount {
    /// Needed to send; inbound webhooks only need the token.
    pub account_sid: Option<String>,
    pub auth_token: SecretString,
    /// The number replies come from when the conversation names none.
    pub default_from: Option<String>,
}

impl TwilioAccount {
    /// The tenant's own account if it set one, else the server's (if any).
    pub fn resolve(config: &ChannelsConfig, settings: &TenantSettings) -> Option<Self> {
        match &settings.channels.twilio {
            Some(t) => Some(Self {
                account_sid: Some(t.account_sid.clone()),
                auth_token: secret(&t.auth_token)?,
                default_from: t.phone_numbers.first().cloned(),
            }),
            None => Some(Self {
                account_sid: config.twilio_account_sid.clone(),
                auth_token: config.twilio_auth_token.clone()?,
                default_from: config.sms_from.clone(),
            }),
        }
    }

    /// Whether SMS can be sent with this account.
    pub fn can_send(&self) -> bool {
        self.account_sid.is_some()
    }
}

/// The Postmark server that serves a tenant.
pub struct PostmarkAccount {
    pub server_token: SecretString,
    /// Sender address of replies.
    pub from: String,
    pub inbound_user: String,
    pub inbound_password: SecretString,
}

impl PostmarkAccount {
    /// The tenant's own server if it set one, else the server's; `Err` names
    /// the missing server setting.
    pub fn resolve(
        config: &ChannelsConfig,
        settings: &TenantSettings,
    ) -> Result<Self, &'static str> {
        if let Some(p) = &settings.channels.postmark {
            return Ok(Self {
                server_token: secret(&p.server_token).ok_or("channels.postmark.server_token")?,
                from: p.from.clone(),
                inbound_user: p.inbound_user.clone(),
                inbound_password: secret(&p.inbound_password)
                    .ok_or("channels.postmark.inbound_password")?,
            });
        }
        Ok(Self {
            server_token: config
                .postmark_server_token
                .clone()
                .ok_or("postmark_server_token")?,
            from: config.email_from.clone().ok_or("email_from")?,
            inbound_user: config
                .inbound_basic_user
                .clone()
                .ok_or("inbound_basic_user and inbound_basic_password")?,
            inbound_password: config
                .inbound_basic_password
                .clone()
                .ok_or("inbound_basic_user and inbound_basic_password")?,
        })
    }
}

/// Where a tenant's escalated calls are transferred: its own number, else the server's.
pub fn handoff_number(config: &ChannelsConfig, settings: &TenantSettings) -> Option<String> {
    settings
        .channels
        .voice_handoff_number
        .clone()
        .or_else(|| config.voice_handoff_number.clone())
}
