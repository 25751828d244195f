//! Server-sent events from a streamed provider response.

use eventsource_stream::Eventsource;
use futures_util::{Stream, StreamExt};

use super::LlmError;

/// One event: its `event:` name (empty when absent) and `data:`.
pub struct Event {
    pub name: String,
    pub data: String,
}

/// The events of a streamed response body.
pub fn events(response: reqwest::Response) -> impl Stream<Item = Result<Event, LlmError>> {
    response.bytes_stream().eventsource().map(|e| match e {
        Ok(e) => Ok(Event {
            name: e.event,
            data: e.data,
        }),
        Err(e) => Err(LlmError::Protocol(e.to_string())),
    })
}
