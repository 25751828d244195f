//! C2SP tlog-tiles: tile paths (`tile/<L>/<N>[.p/<W>]`,
//! `tile/entries/<N>[.p/<W>]`, `N` in 3-digit groups with `x` prefixes), hash
//! tiles (height 8) and entry bundles (`u16` big-endian length + data per
//! entry), computed from the log.

use crate::error::{Error, Result};
use crate::log::Log;

/// Tile height: a tile covers 2^8 = 256 hashes or entries.
pub const TILE_HEIGHT: u32 = 8;
/// Hashes or entries in a full tile.
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// Highest hash tile level (8 × 7 = 56 tree levels is past any log we hold).
pub const MAX_TILE_LEVEL: u8 = 7;

/// What a tile holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    /// Hashes at tree level `8 × level`.
    Hash { level: u8 },
    /// An entry bundle.
    Entries,
}

/// A tile's coordinates: kind, index and, for a partial tile, its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TilePath {
    pub kind: TileKind,
    pub index: u64,
    /// `Some(w)` with `1 <= w < 256` for a partial tile.
    pub width: Option<u16>,
}

/// Encodes a tile index as `x001/x234/067`.
pub fn encode_index(mut n: u64) -> String {
    let mut s = format!("{:03}", n % 1000);
    n /= 1000;
    while n > 0 {
        s = format!("x{:03}/{s}", n % 1000);
        n /= 1000;
    }
    s
}

fn bad(path: &str, reason: &str) -> Error {
    Error::invalid("tile path", format!("{path:?}: {reason}"))
}

fn parse_index(path: &str, segments: &[&str]) -> Result<u64> {
    if segments.is_empty() {
        return Err(bad(path, "missing index"));
    }
    let mut n: u64 = 0;
    for (i, seg) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let digits = if last {
            *seg
        } else {
            seg.strip_prefix('x')
                .ok_or_else(|| bad(path, "non-final index element must start with x"))?
        };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(path, "index elements are three digits"));
        }
        if i == 0 && !last && digits == "000" {
            return Err(bad(path, "index has a leading zero group"));
        }
        let d: u64 = digits.parse().expect("three digits");
        n = n
            .checked_mul(1000)
            .and_then(|n| n.checked_add(d))
            .ok_or_else(|| bad(path, "index out of range"))?;
    }
    Ok(n)
}

impl TilePath {
    /// Parses the path below `tile/`, e.g. `0/x001/234.p/7` or `entries/005`.
    pub fn parse(path: &str) -> Result<Self> {
        let (main, width) = match path.split_once(".p/") {
            Some((main, w)) => {
                let canonical =
                    !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit()) && !w.starts_with('0');
                let w: u16 = w
                    .parse()
                    .ok()
                    .filter(|w| canonical && *w >= 1 && u64::from(*w) < TILE_WIDTH)
                    .ok_or_else(|| bad(path, "partial width must be 1..=255"))?;
                (main, Some(w))
            }
            None => (path, None),
        };
        let segments: Vec<&str> = main.split('/').collect();
        let (first, rest) = segments.split_first().ok_or_else(|| bad(path, "empty"))?;
        let kind = if *first == "entries" {
            TileKind::Entries
        } else {
            let level: u8 = first
                .parse()
                .ok()
                .filter(|l| *l <= MAX_TILE_LEVEL && (first.len() == 1))
                .ok_or_else(|| bad(path, "level must be 0..=7"))?;
            TileKind::Hash { level }
        };
        let index = parse_index(path, rest)?;
        Ok(Self { kind, index, width })
    }

    /// The path below `tile/`.
    pub fn to_path(&self) -> String {
        let head = match self.kind {
            TileKind::Hash { level } => level.to_string(),
            TileKind::Entries => "entries".to_string(),
        };
        let mut s = format!("{head}/{}", encode_index(self.index));
        if let Some(w) = self.width {
            s.push_str(&format!(".p/{w}"));
        }
        s
    }

    fn count(&self) -> u64 {
        self.width.map_or(TILE_WIDTH, u64::from)
    }
}

impl Log {
    /// The bytes of a hash tile or entry bundle, if the log holds them.
    pub fn tile(&self, tile: &TilePath) -> Result<Vec<u8>> {
        match tile.kind {
            TileKind::Hash { level } => self.hash_tile(level, tile.index, tile.count()),
            TileKind::Entries => self.entry_bundle(tile.index, tile.count()),
        }
    }

    fn hash_tile(&self, level: u8, index: u64, count: u64) -> Result<Vec<u8>> {
        let start = index
            .checked_mul(TILE_WIDTH)
            .ok_or_else(|| Error::NotFound("tile".into()))?;
        self.with_tree(|tree| {
            let hashes = tree.level(usize::from(level) * TILE_HEIGHT as usize);
            let end = start.saturating_add(count);
            if end > hashes.len() as u64 {
                return Err(Error::NotFound(format!(
                    "tile {level}/{index} of width {count}: the tree has {} hashes at that level",
                    hashes.len()
                )));
            }
            Ok(hashes[start as usize..end as usize].concat())
        })
    }

    fn entry_bundle(&self, index: u64, count: u64) -> Result<Vec<u8>> {
        let start = index
            .checked_mul(TILE_WIDTH)
            .ok_or_else(|| Error::NotFound("entry bundle".into()))?;
        let end = start.saturating_add(count);
        if end > self.size() {
            return Err(Error::NotFound(format!(
                "entry bundle {index} of width {count}: the log has {} entries",
                self.size()
            )));
        }
        let entries = self.entries(start..end)?;
        let mut out = Vec::with_capacity(entries.iter().map(|e| e.len() + 2).sum());
        for e in entries {
            out.extend_from_slice(&(e.len() as u16).to_be_bytes());
            out.extend_from_slice(&e);
        }
        Ok(out)
    }
}

/// Splits an entry bundle into its entries.
pub fn parse_entry_bundle(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest.len() < 2 {
            return Err(Error::invalid("entry bundle", "truncated length"));
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if rest.len() < 2 + len {
            return Err(Error::invalid("entry bundle", "truncated entry"));
        }
        out.push(rest[2..2 + len].to_vec());
        rest = &rest[2 + len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_encoding_follows_the_spec_example() {
        assert_eq!(encode_index(1234067), "x001/x234/067");
        assert_eq!(encode_index(0), "000");
        assert_eq!(encode_index(999), "999");
        assert_eq!(encode_index(1000), "x001/000");
    }

    #[test]
    fn tile_paths_round_trip_and_reject_non_canonical_forms() {
        for (path, kind, index, width) in [
            (
                "0/x001/x234/067",
                TileKind::Hash { level: 0 },
                1234067,
                None,
            ),
            ("1/000.p/7", TileKind::Hash { level: 1 }, 0, Some(7)),
            ("entries/x001/000.p/255", TileKind::Entries, 1000, Some(255)),
        ] {
            let t = TilePath::parse(path).unwrap();
            assert_eq!((t.kind, t.index, t.width), (kind, index, width));
            assert_eq!(t.to_path(), path);
        }
        for bad in [
            "0/1",
            "0/0001",
            "0/x000/001",
            "0/001/002",
            "8/000",
            "00/000",
            "0/000.p/0",
            "0/000.p/256",
            "0/000.p/07",
            "0/x001",
            "entries",
            "0/abc",
            "",
        ] {
            assert!(TilePath::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn entry_bundles_parse_back() {
        let bundle = [0u8, 2, b'h', b'i', 0, 1, b'!'];
        assert_eq!(
            parse_entry_bundle(&bundle).unwrap(),
            vec![b"hi".to_vec(), b"!".to_vec()]
        );
        assert!(parse_entry_bundle(&bundle[..3]).is_err());
    }
}
