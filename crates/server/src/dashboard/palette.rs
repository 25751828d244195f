//! The dashboard's palette, read from the `:root` block of its one CSS file
//! (the only place colours are defined), and WCAG 2.1 contrast ratios.

/// The stylesheet the palette is read from.
pub const CSS: &str = include_str!("../../assets/dashboard.css");

/// Text colour on background colour, as the stylesheet pairs them (by variable name).
pub const TEXT_PAIRS: &[(&str, &str)] = &[
    ("text", "bg"),
    ("text", "surface"),
    ("muted", "bg"),
    ("muted", "surface"),
    ("accent", "bg"),
    ("accent", "surface"),
    ("on-accent", "accent"),
    ("on-nav", "nav-bg"),
    ("nav-current", "nav-bg"),
    ("danger", "bg"),
    ("danger", "error-bg"),
    ("danger", "surface"),
    ("ok", "bg"),
    ("text", "notice-bg"),
    ("text", "warn-bg"),
    ("text", "error-bg"),
    ("muted", "notice-bg"),
    ("muted", "warn-bg"),
];

/// Non-text marks (focus ring, input borders, chart bars) on their
/// backgrounds: WCAG 1.4.11 asks 3:1.
pub const MARK_PAIRS: &[(&str, &str)] = &[
    ("focus", "bg"),
    ("focus", "surface"),
    ("focus-on-nav", "nav-bg"),
    ("border", "bg"),
    ("border", "surface"),
    ("bar", "bg"),
];

/// `--name: #rrggbb;` declarations of the `:root` block.
pub fn palette() -> Vec<(String, [u8; 3])> {
    let Some(start) = CSS.find(":root") else {
        return Vec::new();
    };
    let block = &CSS[start..];
    let block = &block[block.find('{').map_or(0, |i| i + 1)..];
    let block = &block[..block.find('}').unwrap_or(block.len())];
    block
        .split(';')
        .filter_map(|decl| {
            let (name, value) = decl.split_once(':')?;
            let name = name.trim().rsplit("--").next()?.to_string();
            let hex = value.trim().strip_prefix('#')?;
            if hex.len() != 6 {
                return None;
            }
            let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
            Some((name, [byte(0)?, byte(2)?, byte(4)?]))
        })
        .collect()
}

/// The colour of variable `name`.
pub fn color(name: &str) -> Option<[u8; 3]> {
    palette()
        .into_iter()
        .find(|(n, _)| n == name)
        .map(|(_, c)| c)
}

/// WCAG relative luminance of an sRGB colour.
pub fn luminance(c: [u8; 3]) -> f64 {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            ((s + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
}

/// WCAG contrast ratio, 1 to 21.
pub fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_known_values() {
        assert!((contrast([0, 0, 0], [255, 255, 255]) - 21.0).abs() < 1e-9);
        assert!((contrast([255, 255, 255], [255, 255, 255]) - 1.0).abs() < 1e-9);
        // #767676 on white is the classic 4.54:1.
        let grey = contrast([0x76, 0x76, 0x76], [255, 255, 255]);
        assert!((grey - 4.54).abs() < 0.01, "{grey}");
    }

    #[test]
    fn every_text_pair_of_the_palette_reaches_aa() {
        assert!(palette().len() >= 15, "palette not found in the CSS");
        for (fg, bg) in TEXT_PAIRS {
            let (f, b) = (color(fg).expect(fg), color(bg).expect(bg));
            let ratio = contrast(f, b);
            assert!(
                ratio >= 4.5,
                "--{fg} on --{bg}: {ratio:.2}:1 is below 4.5:1"
            );
        }
        for (fg, bg) in MARK_PAIRS {
            let ratio = contrast(color(fg).expect(fg), color(bg).expect(bg));
            assert!(ratio >= 3.0, "--{fg} on --{bg}: {ratio:.2}:1 is below 3:1");
        }
    }

    #[test]
    fn colours_appear_only_in_the_palette() {
        let after_root = &CSS[CSS.find(":root").unwrap()..];
        let rest = &after_root[after_root.find('}').unwrap()..];
        assert!(!rest.contains('#'), "a colour outside :root");
        assert!(!rest.contains("rgb("), "a colour outside :root");
    }
}
