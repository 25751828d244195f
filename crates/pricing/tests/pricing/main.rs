//! Integration tests of the pricing engine: simulator anchors, policy
//! sanity, and guardrails around every policy.

mod anchors;
mod guarded;
mod policies;
mod speed;
