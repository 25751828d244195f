//! Session features of a live session, computed from our own stored events
//! (a [`hc_domain::Session`]'s counters), in the layout of the Online
//! Shoppers data that the intent model is trained on.
//!
//! Page types map onto the data's three groups: `account`, `cart` and
//! `checkout` are "administrative", `info` is "informational", the rest
//! (home, category, product, search, other) "product related"; durations are
//! seconds. The data's bounce, exit and page-value figures are Google
//! Analytics aggregates over all visitors, which one session cannot know;
//! we use per-session stand-ins on the same scale: a one-page session
//! bounces (0.2, the data's maximum, else 0), the exit rate is 0.2 divided by
//! the pages seen, and the page value is the net value added to the cart per
//! page seen. Operating system, browser and region are unknown (code 1);
//! traffic type is 1 without a referrer, 2 from a search engine, 3 otherwise.

use hc_domain::{PageType, Session};

use crate::dates::civil_from_days;
use crate::intent::{SessionFeatures, VisitorType};

const DAY_MS: i64 = 86_400_000;

fn group(p: PageType) -> usize {
    match p {
        PageType::Account | PageType::Cart | PageType::Checkout => 0,
        PageType::Info => 1,
        PageType::Home
        | PageType::Category
        | PageType::Product
        | PageType::Search
        | PageType::Other => 2,
    }
}

fn traffic_type(referrer: Option<&str>) -> u32 {
    match referrer {
        None => 1,
        Some(r) => {
            let r = r.to_ascii_lowercase();
            let search = [
                "google.",
                "bing.",
                "duckduckgo.",
                "yahoo.",
                "baidu.",
                "yandex.",
                "ecosia.",
            ];
            if search.iter().any(|s| r.contains(s)) {
                2
            } else {
                3
            }
        }
    }
}

/// The features of `session`; `returning` when the customer had an earlier session.
pub fn session_features(session: &Session, returning: bool) -> SessionFeatures {
    let mut counts = [0f64; 3];
    let mut seconds = [0f64; 3];
    for (page, stats) in &session.pages {
        let g = group(*page);
        counts[g] += f64::from(stats.views);
        seconds[g] += stats.duration_ms as f64 / 1000.0;
    }
    let pages = counts.iter().sum::<f64>();
    let interactions = session.events as f64;
    let bounce = if pages <= 1.0 && interactions <= 1.0 {
        0.2
    } else {
        0.0
    };
    let exit = if pages > 0.0 { 0.2 / pages } else { 0.2 };
    let page_value = if pages > 0.0 {
        (session.cart_value.to_decimal().max(0.0)) / pages
    } else {
        0.0
    };
    let day = session.started_at_ms.div_euclid(DAY_MS);
    let (_, month, _) = civil_from_days(day);
    // 1970-01-01 was a Thursday: day 0 → 3 with Monday = 0.
    let weekday = (day + 3).rem_euclid(7);
    SessionFeatures {
        administrative: counts[0],
        administrative_duration: seconds[0],
        informational: counts[1],
        informational_duration: seconds[1],
        product_related: counts[2],
        product_related_duration: seconds[2],
        bounce_rates: bounce,
        exit_rates: exit,
        page_values: page_value,
        special_day: 0.0,
        month,
        operating_system: 1,
        browser: 1,
        region: 1,
        traffic_type: traffic_type(session.referrer.as_deref()),
        visitor_type: if returning {
            VisitorType::Returning
        } else {
            VisitorType::New
        },
        weekend: weekday >= 5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hc_domain::events::parse_event;
    use hc_domain::{EventLimits, SessionId};

    fn session(events: &[&str], start: i64) -> Session {
        let mut s = Session::start(&SessionId::parse("s").unwrap(), 1, start);
        for (i, body) in events.iter().enumerate() {
            let json = format!(
                r#"{{"event_id":"e{i}","session_id":"s","timestamp_ms":{},{body}}}"#,
                start + i as i64 * 1000
            );
            s.absorb(&parse_event(&json, start + 10_000, &EventLimits::default()).unwrap());
        }
        s
    }

    #[test]
    fn pages_and_times_map_onto_the_three_groups() {
        // Saturday 2025-11-22 10:00 UTC.
        let start = 1_763_805_600_000;
        let s = session(
            &[
                r#""type":"page_view","page_type":"home","duration_ms":10000,"properties":{"referrer":"https://www.google.com/"}"#,
                r#""type":"product_view","product_id":"p","duration_ms":30000"#,
                r#""type":"page_view","page_type":"info","duration_ms":5000"#,
                r#""type":"add_to_cart","item_id":"i","price":40,"quantity":1"#,
                r#""type":"page_view","page_type":"cart","duration_ms":2000"#,
            ],
            start,
        );
        let f = session_features(&s, true);
        assert_eq!(
            (f.administrative, f.informational, f.product_related),
            (1.0, 1.0, 2.0)
        );
        assert_eq!(f.product_related_duration, 40.0);
        assert_eq!(f.administrative_duration, 2.0);
        assert_eq!(f.bounce_rates, 0.0);
        assert!((f.exit_rates - 0.05).abs() < 1e-12);
        assert!((f.page_values - 10.0).abs() < 1e-12);
        assert_eq!(f.month, 11);
        assert!(f.weekend);
        assert_eq!(f.traffic_type, 2);
        assert_eq!(f.visitor_type, VisitorType::Returning);
    }

    #[test]
    fn a_single_page_visit_bounces() {
        // Wednesday 2025-11-19.
        let s = session(
            &[r#""type":"page_view","page_type":"home""#],
            1_763_546_400_000,
        );
        let f = session_features(&s, false);
        assert_eq!(f.bounce_rates, 0.2);
        assert_eq!(f.exit_rates, 0.2);
        assert!(!f.weekend);
        assert_eq!(f.traffic_type, 1);
        assert_eq!(f.visitor_type, VisitorType::New);
    }
}
