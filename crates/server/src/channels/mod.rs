//! Provider wire formats for the inbound channels: Twilio (request signatures,
//! TwiML answers) and Postmark (inbound email JSON, the outbound email API).
//! The webhooks that use them are in `api/channels.rs`.

pub mod postmark;
pub mod twilio;
