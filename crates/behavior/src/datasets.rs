//! Readers for the public dataset layouts the models are evaluated on
//! (CDNOW, UCI Online Shoppers, UCI Online Retail, SR-GNN session files).
//! Each turns rows into the engine's own input types; gzip input is
//! recognised by its magic bytes.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

/// Opens a file for reading, transparently un-gzipping it.
pub fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = File::open(path).map_err(io)?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(io)?;
    let file = File::open(path).map_err(io)?;
    if n == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(BufReader::new(MultiGzDecoder::new(file))))
    } else {
        Ok(Box::new(BufReader::new(file)))
    }
}

/// A CSV file with a header, read into string records; gives column lookup
/// by name and line numbers for errors.
pub struct Csv {
    pub path: PathBuf,
    pub header: Vec<String>,
    pub rows: Vec<csv::StringRecord>,
}

impl Csv {
    pub fn read(path: &Path) -> Result<Csv> {
        Self::read_delimited(path, b',')
    }

    pub fn read_delimited(path: &Path, delimiter: u8) -> Result<Csv> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(false)
            .from_reader(open(path)?);
        let parse = |e: csv::Error| Error::Parse {
            path: path.to_path_buf(),
            line: e.position().map_or(0, |p| p.line()),
            reason: e.to_string(),
        };
        let header = reader
            .headers()
            .map_err(parse)?
            .iter()
            .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        let rows = reader
            .records()
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(parse)?;
        Ok(Csv {
            path: path.to_path_buf(),
            header,
            rows,
        })
    }

    /// Index of the first of `names` present in the header.
    pub fn column(&self, names: &[&str]) -> Result<usize> {
        names
            .iter()
            .find_map(|n| self.header.iter().position(|h| h.eq_ignore_ascii_case(n)))
            .ok_or_else(|| Error::Parse {
                path: self.path.clone(),
                line: 1,
                reason: format!("missing column {}", names.join(" or ")),
            })
    }

    /// An error about data row `row` (0-based; the header is line 1).
    pub fn error(&self, row: usize, reason: impl Into<String>) -> Error {
        Error::Parse {
            path: self.path.clone(),
            line: self.rows[row]
                .position()
                .map_or(row as u64 + 2, |p| p.line()),
            reason: reason.into(),
        }
    }

    /// Field `col` of row `row` as a finite float.
    pub fn float(&self, row: usize, col: usize) -> Result<f64> {
        let text = self.rows[row].get(col).unwrap_or("").trim();
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                self.error(
                    row,
                    format!("column {} is not a number: {text:?}", self.header[col]),
                )
            })
    }

    pub fn text(&self, row: usize, col: usize) -> &str {
        self.rows[row].get(col).unwrap_or("").trim()
    }
}

/// Reads a sessions file: one session per line, item ids separated by
/// spaces (blank lines skipped). Ids must be positive integers.
pub fn read_sessions(path: &Path) -> Result<Vec<Vec<u32>>> {
    let mut out = Vec::new();
    for (i, line) in open(path)?.lines().enumerate() {
        let line = line.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_items(&line).map_err(|reason| Error::Parse {
            path: path.to_path_buf(),
            line: i as u64 + 1,
            reason,
        })?);
    }
    Ok(out)
}

fn parse_items(text: &str) -> std::result::Result<Vec<u32>, String> {
    text.split_whitespace()
        .map(|t| {
            t.parse::<u32>()
                .ok()
                .filter(|&v| v > 0)
                .ok_or_else(|| format!("bad item id {t:?}"))
        })
        .collect()
}

/// Reads next-item test cases: a header line, then `prefix<TAB>target`
/// with the prefix's items separated by spaces.
pub fn read_test_cases(path: &Path) -> Result<Vec<(Vec<u32>, u32)>> {
    let mut out = Vec::new();
    for (i, line) in open(path)?.lines().enumerate() {
        let line = line.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if i == 0 || line.trim().is_empty() {
            continue;
        }
        let bad = |reason: String| Error::Parse {
            path: path.to_path_buf(),
            line: i as u64 + 1,
            reason,
        };
        let (prefix, target) = line
            .split_once('\t')
            .ok_or_else(|| bad("expected prefix<TAB>target".into()))?;
        let prefix = parse_items(prefix).map_err(bad)?;
        if prefix.is_empty() {
            return Err(bad("empty prefix".into()));
        }
        let target = parse_items(target).map_err(bad)?;
        let [target] = target[..] else {
            return Err(bad("expected exactly one target item".into()));
        };
        out.push((prefix, target));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn gzip_and_plain_files_read_the_same() {
        let dir = std::env::temp_dir().join(format!("hc-behavior-ds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let plain = dir.join("s.txt");
        std::fs::write(&plain, "1 2 3\n\n4 5\n").unwrap();
        let gz = dir.join("s.txt.gz");
        let mut enc =
            flate2::write::GzEncoder::new(File::create(&gz).unwrap(), flate2::Compression::fast());
        enc.write_all(b"1 2 3\n\n4 5\n").unwrap();
        enc.finish().unwrap();
        let a = read_sessions(&plain).unwrap();
        assert_eq!(a, vec![vec![1, 2, 3], vec![4, 5]]);
        assert_eq!(read_sessions(&gz).unwrap(), a);

        std::fs::write(&plain, "1 x\n").unwrap();
        let err = read_sessions(&plain).unwrap_err();
        assert!(matches!(err, Error::Parse { line: 1, .. }), "{err}");

        let cases = dir.join("t.tsv");
        std::fs::write(&cases, "prefix\ttarget\n1 2\t3\n").unwrap();
        assert_eq!(read_test_cases(&cases).unwrap(), vec![(vec![1, 2], 3)]);
        std::fs::write(&cases, "prefix\ttarget\n1 2\t3 4\n").unwrap();
        assert!(read_test_cases(&cases).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
