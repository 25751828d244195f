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

/// Backgrounds page content sits on (text that sets no background of its
/// own may land on any of them).
pub const CONTENT_BACKGROUNDS: &[&str] = &["bg", "surface", "notice-bg", "warn-bg", "error-bg"];

/// How a rule of the stylesheet uses the palette.
#[derive(Debug, Default)]
pub struct RuleColours {
    pub selector: String,
    /// `color` and `fill` (text, including SVG text).
    pub text: Vec<String>,
    /// `background`, `background-color`.
    pub background: Vec<String>,
    /// `outline*`, `border*`, `stroke`.
    pub marks: Vec<String>,
}

impl RuleColours {
    /// A rule of the navigation bar (dark background), not of page content.
    pub fn on_nav(&self) -> bool {
        self.selector.contains("nav")
            || self.selector.contains("header.top")
            || self.selector.contains(".skip")
    }
}

/// Every rule of the stylesheet (outside `:root`, inside `@media` too) that
/// names a palette variable, with what it uses each for.
pub fn rules() -> Vec<RuleColours> {
    let mut css = String::new();
    let mut rest = CSS;
    while let Some(i) = rest.find("/*") {
        css.push_str(&rest[..i]);
        rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
    }
    css.push_str(rest);
    let mut out = Vec::new();
    let mut stack: Vec<Option<String>> = Vec::new();
    let mut buf = String::new();
    for ch in css.chars() {
        match ch {
            '{' => {
                let head = buf.trim().to_string();
                stack.push((!head.starts_with('@')).then_some(head));
                buf.clear();
            }
            '}' => {
                if let Some(Some(selector)) = stack.pop()
                    && selector != ":root"
                {
                    let mut r = RuleColours {
                        selector,
                        ..RuleColours::default()
                    };
                    for decl in buf.split(';') {
                        let Some((prop, value)) = decl.split_once(':') else {
                            continue;
                        };
                        let prop = prop.trim();
                        let vars: Vec<String> = value
                            .split("var(--")
                            .skip(1)
                            .filter_map(|v| v.split(')').next())
                            .map(|v| v.trim().to_string())
                            .collect();
                        let into = match prop {
                            "color" | "fill" => &mut r.text,
                            "background" | "background-color" => &mut r.background,
                            p if p.starts_with("outline")
                                || p.starts_with("border")
                                || p == "stroke" =>
                            {
                                &mut r.marks
                            }
                            _ => continue,
                        };
                        into.extend(vars);
                    }
                    if !(r.text.is_empty() && r.background.is_empty() && r.marks.is_empty()) {
                        out.push(r);
                    }
                }
                buf.clear();
            }
            _ => buf.push(ch),
        }
    }
    out
}

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

    /// Every pair the stylesheet can put together, found by reading its
    /// rules (not a hand-kept list): a rule that sets text and background
    /// colours pairs them; text without a background of its own may sit on
    /// any content background (or the navigation's, in the navigation); a
    /// background without text carries the inherited text colour; marks
    /// (borders, outlines, strokes) need 3:1 against every background
    /// around the element.
    #[test]
    fn every_colour_pair_the_stylesheet_uses_reaches_aa() {
        let rules = rules();
        assert!(rules.len() >= 20, "too few rules read: {}", rules.len());
        let mut checked = 0;
        let mut check = |fg: &str, bg: &str, min: f64, rule: &str| {
            let (f, b) = (
                color(fg).unwrap_or_else(|| panic!("--{fg} in {rule}")),
                color(bg).unwrap_or_else(|| panic!("--{bg} in {rule}")),
            );
            let ratio = contrast(f, b);
            assert!(
                ratio >= min,
                "{rule}: --{fg} on --{bg} is {ratio:.2}:1, below {min}:1"
            );
            checked += 1;
        };
        for r in &rules {
            let (default_text, behind): (&str, Vec<&str>) = if r.on_nav() {
                ("on-nav", vec!["nav-bg"])
            } else {
                ("text", CONTENT_BACKGROUNDS.to_vec())
            };
            let backgrounds: Vec<&str> = if r.background.is_empty() {
                behind.clone()
            } else {
                r.background.iter().map(String::as_str).collect()
            };
            let texts: Vec<&str> = if r.text.is_empty() {
                vec![default_text]
            } else {
                r.text.iter().map(String::as_str).collect()
            };
            for fg in &texts {
                for bg in &backgrounds {
                    check(fg, bg, 4.5, &r.selector);
                }
            }
            // A mark is the element's edge against what surrounds it.
            for mark in &r.marks {
                for bg in &behind {
                    check(mark, bg, 3.0, &r.selector);
                }
            }
        }
        assert!(checked >= 60, "only {checked} pairs checked");
        // The hand-kept lists above are a subset of what the stylesheet uses.
        for (fg, _) in TEXT_PAIRS {
            assert!(
                rules.iter().any(|r| r.text.iter().any(|t| t == fg))
                    || *fg == "text"
                    || *fg == "on-nav",
                "--{fg}"
            );
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
