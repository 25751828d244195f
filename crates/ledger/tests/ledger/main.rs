//! Integration tests of hc-ledger: published vectors, durability under a real
//! kill -9, checkpoints, tiles, proof bundles and the audit.

mod audit;
mod crash;
mod durability;
mod fixture;
mod loyalty;
mod network;
mod parsers;
mod privacy;
mod signing;
mod tiles;
mod vectors;

use std::path::Path;

use hc_ledger::{Ledger, LogOptions, NoteSigner};

pub const ORIGIN: &str = "hypercommerce.test/ledger";

pub fn signer(seed: u8) -> NoteSigner {
    NoteSigner::from_seed(ORIGIN, [seed; 32]).unwrap()
}

pub fn open_ledger(dir: &Path) -> Ledger {
    Ledger::open(dir, ORIGIN, vec![signer(1)], LogOptions::default())
        .unwrap()
        .0
}
