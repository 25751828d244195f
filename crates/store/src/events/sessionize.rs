//! Which session each new event belongs to: pure logic shared by both write
//! paths. A sender's session id continues its latest stored session while
//! events come less than 30 minutes apart; a longer gap starts the next one
//! (`id~2`, `id~3`…). An event that arrives late (older than the session's
//! latest event) is counted in the latest session.

use std::collections::HashMap;

use hc_domain::{Event, Session, SessionId};

/// The outcome for one batch of new (deduplicated) events.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The session of each event, in the input order.
    pub assignments: Vec<SessionId>,
    /// Every session the batch created or changed, with its new counters.
    pub sessions: Vec<Session>,
}

/// Plans `events` against `latest`, the latest stored session of each sender id.
pub(crate) fn plan(events: &[&Event], latest: &HashMap<SessionId, Session>) -> Plan {
    let mut by_sender: HashMap<&SessionId, Vec<usize>> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        by_sender.entry(&e.session_id).or_default().push(i);
    }
    let mut assignments: Vec<Option<SessionId>> = vec![None; events.len()];
    let mut sessions = Vec::new();
    for (sender, mut idx) in by_sender {
        idx.sort_by_key(|&i| (events[i].timestamp_ms, i));
        let mut current: Option<Session> = latest.get(sender).cloned();
        let mut touched = false;
        for i in idx {
            let e = events[i];
            match &mut current {
                Some(s) if s.continues_at(e.timestamp_ms) => {}
                other => {
                    let ordinal = other.as_ref().map_or(1, |s| s.ordinal + 1);
                    if let Some(done) = other.take()
                        && touched
                    {
                        sessions.push(done);
                    }
                    *other = Some(Session::start(sender, ordinal, e.timestamp_ms));
                }
            }
            let s = current.as_mut().expect("a session was just ensured");
            s.absorb(e);
            touched = true;
            assignments[i] = Some(s.id.clone());
        }
        if let Some(s) = current
            && touched
        {
            sessions.push(s);
        }
    }
    Plan {
        assignments: assignments
            .into_iter()
            .map(|a| a.expect("every event was assigned"))
            .collect(),
        sessions,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hc_domain::{EventLimits, SESSION_GAP_MS, events::parse_event};

    fn ev(id: &str, session: &str, at: i64) -> Event {
        let json = format!(
            r#"{{"event_id":"{id}","session_id":"{session}","timestamp_ms":{at},"type":"page_view","page_type":"home"}}"#
        );
        parse_event(&json, at, &EventLimits::default()).unwrap()
    }

    #[test]
    fn a_gap_of_more_than_thirty_minutes_starts_the_next_session() {
        let t0 = 1_700_000_000_000;
        let events = [
            ev("a", "s", t0),
            ev("b", "s", t0 + SESSION_GAP_MS),
            ev("c", "s", t0 + 2 * SESSION_GAP_MS + 1),
            ev("d", "x", t0),
        ];
        let refs: Vec<&Event> = events.iter().collect();
        let p = plan(&refs, &HashMap::new());
        let ids: Vec<&str> = p.assignments.iter().map(|s| s.as_str()).collect();
        assert_eq!(ids, ["s", "s", "s~2", "x"]);
        assert_eq!(p.sessions.len(), 3);
        let first = p.sessions.iter().find(|s| s.id.as_str() == "s").unwrap();
        assert_eq!(first.events, 2);
        assert_eq!(first.last_event_at_ms, t0 + SESSION_GAP_MS);
    }

    #[test]
    fn a_stored_session_continues_or_is_followed() {
        let t0 = 1_700_000_000_000;
        let sid = SessionId::parse("s").unwrap();
        let mut stored = Session::start(&sid, 2, t0);
        stored.absorb(&ev("a", "s", t0));
        let latest = HashMap::from([(sid.clone(), stored)]);
        let near = ev("b", "s", t0 + 60_000);
        let far = ev("c", "s", t0 + 60_000 + SESSION_GAP_MS + 1);
        let p = plan(&[&near], &latest);
        assert_eq!(p.assignments[0].as_str(), "s~2");
        assert_eq!(p.sessions[0].events, 2);
        let p = plan(&[&far], &latest);
        assert_eq!(p.assignments[0].as_str(), "s~3");
        assert_eq!(
            p.sessions.len(),
            1,
            "the untouched stored session is not rewritten"
        );
        assert_eq!(p.sessions[0].ordinal, 3);
    }

    #[test]
    fn out_of_order_events_are_sorted_within_the_batch() {
        let t0 = 1_700_000_000_000;
        let events = [ev("late", "s", t0 + 10_000), ev("early", "s", t0)];
        let refs: Vec<&Event> = events.iter().collect();
        let p = plan(&refs, &HashMap::new());
        assert_eq!(p.sessions.len(), 1);
        assert_eq!(p.sessions[0].started_at_ms, t0);
        assert_eq!(p.sessions[0].last_event_at_ms, t0 + 10_000);
    }
}
