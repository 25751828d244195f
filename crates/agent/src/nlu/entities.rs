//! Entity extraction from one message: order and item ids, emails, zip,
//! name, yes/no, cancellation reason, payment method hints, a postal
//! address, quantity and option words. Plain linear scanning over tokens (no
//! backtracking), safe on any UTF-8 input; catalog and order matching
//! happens in the dialogue with [`mention_score`].

use serde::{Deserialize, Serialize};

/// Messages longer than this are scanned only up to it.
const MAX_SCAN_BYTES: usize = 8192;

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Entities {
    /// Normalised `#W` + 7 digits.
    pub order_ids: Vec<String>,
    /// 10-digit item ids.
    pub item_ids: Vec<String>,
    /// Lower-cased.
    pub emails: Vec<String>,
    pub zip: Option<String>,
    /// (first, last), capitalised.
    pub name: Option<(String, String)>,
    pub yes_no: Option<bool>,
    pub cancel_reason: Option<CancelReason>,
    pub payment: Option<PaymentHint>,
    pub address: Option<AddressParts>,
    pub quantity: Option<u32>,
    /// Option-like words (colours, sizes, materials), lower-cased.
    pub options: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CancelReason {
    NoLongerNeeded,
    OrderedByMistake,
}

impl CancelReason {
    /// The reason string the retail policy uses.
    pub fn as_policy_str(self) -> &'static str {
        match self {
            CancelReason::NoLongerNeeded => "no longer needed",
            CancelReason::OrderedByMistake => "ordered by mistake",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentHint {
    GiftCard,
    Paypal,
    CreditCard {
        brand: Option<String>,
        last_four: Option<String>,
    },
    /// "the original payment method", "the same card".
    Original,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AddressParts {
    pub address1: String,
    pub address2: String,
    pub city: String,
    /// Two-letter state code, upper-cased.
    pub state: String,
    pub zip: String,
}

const STATES: [&str; 51] = [
    "al", "ak", "az", "ar", "ca", "co", "ct", "de", "fl", "ga", "hi", "id", "il", "in", "ia", "ks",
    "ky", "la", "me", "md", "ma", "mi", "mn", "ms", "mo", "mt", "ne", "nv", "nh", "nj", "nm", "ny",
    "nc", "nd", "oh", "ok", "or", "pa", "ri", "sc", "sd", "tn", "tx", "ut", "vt", "va", "wa", "wv",
    "wi", "wy", "dc",
];
const STREET_SUFFIXES: [&str; 24] = [
    "st",
    "street",
    "ave",
    "avenue",
    "rd",
    "road",
    "blvd",
    "boulevard",
    "ln",
    "lane",
    "dr",
    "drive",
    "way",
    "ct",
    "court",
    "pl",
    "place",
    "ter",
    "terrace",
    "cir",
    "circle",
    "pkwy",
    "parkway",
    "hwy",
];
const UNIT_WORDS: [&str; 6] = ["apt", "apartment", "suite", "unit", "floor", "#"];
const YES: [&str; 17] = [
    "yes",
    "yeah",
    "yep",
    "yup",
    "sure",
    "ok",
    "okay",
    "confirm",
    "confirmed",
    "correct",
    "absolutely",
    "definitely",
    "y",
    "affirmative",
    "please",
    "proceed",
    "go",
];
const NO: [&str; 9] = [
    "no", "nope", "nah", "don't", "dont", "stop", "wait", "n", "never",
];
const NAME_STOP: [&str; 40] = [
    "looking",
    "trying",
    "not",
    "so",
    "very",
    "a",
    "an",
    "the",
    "here",
    "back",
    "just",
    "still",
    "calling",
    "writing",
    "contacting",
    "interested",
    "sorry",
    "happy",
    "upset",
    "angry",
    "confused",
    "wondering",
    "having",
    "going",
    "about",
    "ridiculous",
    "unacceptable",
    "fine",
    "good",
    "great",
    "waiting",
    "in",
    "on",
    "at",
    "from",
    "with",
    "your",
    "my",
    "customer",
    "new",
];
/// Words of a request, never a name in the zip-only fallback.
const REQUEST_WORDS: [&str; 28] = [
    "order", "please", "thanks", "thank", "cancel", "return", "exchange", "track", "where", "what",
    "need", "want", "help", "status", "package", "refund", "yes", "no", "ok", "okay", "ship",
    "address", "number", "item", "the", "for", "to", "change",
];
const COLORS: [&str; 22] = [
    "black", "white", "red", "blue", "green", "yellow", "purple", "pink", "orange", "grey", "gray",
    "silver", "gold", "brown", "beige", "navy", "teal", "tan", "cream", "charcoal", "olive",
    "clear",
];
const SIZES: [&str; 11] = [
    "xs", "s", "m", "l", "xl", "xxl", "xxxl", "small", "medium", "large", "one-size",
];
const MATERIALS: [&str; 16] = [
    "leather",
    "cotton",
    "wool",
    "steel",
    "plastic",
    "glass",
    "wood",
    "wooden",
    "bamboo",
    "aluminum",
    "ceramic",
    "stainless",
    "polyester",
    "linen",
    "silicone",
    "canvas",
];
const NUMBER_WORDS: [&str; 10] = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
];

/// A token of the message: lower-cased text, with the original text beside it.
struct Token<'a> {
    lower: String,
    original: &'a str,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
        || c == '\''
        || c == '@'
        || c == '.'
        || c == '_'
        || c == '-'
        || c == '+'
        || c == '#'
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    text.split(|c: char| !is_word_char(c))
        .map(|t| t.trim_matches(|c: char| c == '.' || c == '\'' || c == '-'))
        .filter(|t| !t.is_empty())
        .map(|t| Token {
            lower: t.to_lowercase(),
            original: t,
        })
        .collect()
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f
            .to_uppercase()
            .chain(c.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// Cuts `text` to at most `MAX_SCAN_BYTES` on a character boundary.
fn bounded(text: &str) -> &str {
    if text.len() <= MAX_SCAN_BYTES {
        return text;
    }
    let mut end = MAX_SCAN_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Order ids: `#W1234567`, `W1234567`, `w 123 4567`, or 7 digits after "order".
fn order_ids(lower: &str, tokens: &[Token<'_>]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = lower.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let at_start = i == 0 || !chars[i - 1].is_alphanumeric();
        if chars[i] == 'w' && at_start {
            let mut digits = String::new();
            let mut j = i + 1;
            while j < chars.len()
                && digits.len() < 8
                && (chars[j].is_ascii_digit() || chars[j] == ' ')
            {
                if chars[j].is_ascii_digit() {
                    digits.push(chars[j]);
                } else if digits.is_empty() && j > i + 1 {
                    break;
                }
                j += 1;
            }
            if digits.len() == 7 {
                out.push(format!("#W{digits}"));
                i = j;
                continue;
            }
        }
        i += 1;
    }
    for w in tokens.windows(2) {
        let after_order = matches!(w[0].lower.as_str(), "order" | "number" | "no" | "#");
        let digits = w[1].lower.trim_start_matches('#');
        if after_order && digits.len() == 7 && all_digits(digits) {
            out.push(format!("#W{digits}"));
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|id| seen.insert(id.clone()));
    out
}

fn emails(tokens: &[Token<'_>]) -> Vec<String> {
    tokens
        .iter()
        .filter_map(|t| {
            let e = t.lower.trim_matches(|c: char| c == '.' || c == '#');
            let (local, domain) = e.split_once('@')?;
            let ok = !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
                && e.chars()
                    .all(|c| c.is_alphanumeric() || "@._-+".contains(c));
            ok.then(|| e.to_string())
        })
        .collect()
}

/// `12345` or `12345-6789` (ASCII only, so slicing at 5 is safe after this).
fn is_zip(z: &str) -> bool {
    let b = z.as_bytes();
    (b.len() == 5 && all_digits(z))
        || (b.len() == 10
            && b[..5].iter().all(u8::is_ascii_digit)
            && b[5] == b'-'
            && b[6..].iter().all(u8::is_ascii_digit))
}

/// The customer's zip: one after "zip" / "zip code" if any, else the last
/// one, skipping the zip of a new address given in the same message.
fn zip_of(tokens: &[Token<'_>], address_zip: Option<&str>) -> Option<String> {
    let zips: Vec<usize> = (0..tokens.len())
        .filter(|&i| is_zip(&tokens[i].lower))
        .collect();
    let cued = zips.iter().find(|&&i| {
        (i > 0 && matches!(tokens[i - 1].lower.as_str(), "zip" | "postcode"))
            || (i > 1 && tokens[i - 1].lower == "code" && tokens[i - 2].lower == "zip")
            || (i > 1 && tokens[i - 1].lower == "is" && tokens[i - 2].lower == "zip")
    });
    let pick = match (cued, address_zip) {
        (Some(i), _) => Some(*i),
        (None, Some(a)) => {
            // The address's zip is its last; another one is the customer's.
            let mut rest = zips.clone();
            if let Some(p) = rest.iter().rposition(|&i| tokens[i].lower.starts_with(a)) {
                rest.remove(p);
            }
            rest.last().or(zips.last()).copied()
        }
        (None, None) => zips.last().copied(),
    }?;
    Some(tokens[pick].lower[..5].to_string())
}

fn name_of(tokens: &[Token<'_>], has_zip: bool) -> Option<(String, String)> {
    let word = |i: usize| tokens.get(i).map(|t| t.lower.as_str()).unwrap_or("");
    let alphabetic = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_alphabetic() || c == '\'' || c == '-')
    };
    for i in 0..tokens.len() {
        let start = match (word(i), word(i + 1), word(i + 2)) {
            ("my", "name", "is") => Some((i + 3, true)),
            ("name", "is", _) | ("name", "'s", _) => Some((i + 2, true)),
            ("name:", _, _) => Some((i + 1, true)),
            ("i'm", _, _) | ("im", _, _) | ("it's", _, _) | ("its", _, _) => Some((i + 1, false)),
            ("i", "am", _) | ("this", "is", _) => Some((i + 2, false)),
            _ => None,
        };
        let Some((at, explicit)) = start else {
            continue;
        };
        let (first, last) = (word(at), word(at + 1));
        if !alphabetic(first)
            || !alphabetic(last)
            || NAME_STOP.contains(&first)
            || NAME_STOP.contains(&last)
        {
            continue;
        }
        let capitalised = tokens[at].original.starts_with(char::is_uppercase);
        if explicit || has_zip || capitalised {
            return Some((
                capitalise(tokens[at].original),
                capitalise(tokens[at + 1].original),
            ));
        }
    }
    const FILLER: [&str; 13] = [
        "here", "it's", "its", "is", "zip", "code", "this", "my", "and", "hi", "hello", "postcode",
        "hey",
    ];
    let name_word = |t: &Token<'_>| {
        alphabetic(&t.lower)
            && !NAME_STOP.contains(&t.lower.as_str())
            && !REQUEST_WORDS.contains(&t.lower.as_str())
            && !FILLER.contains(&t.lower.as_str())
    };
    // "hi yara sanchez zip 43097, where is …": the two words just before the
    // zip, at the start of the message or after a greeting.
    if has_zip {
        for k in 2..tokens.len() {
            let w = tokens[k].lower.as_str();
            if !(is_zip(w) || w == "zip" || w == "postcode") {
                continue;
            }
            let mut j = k;
            while j > 0 && matches!(tokens[j - 1].lower.as_str(), "my" | "here" | "and" | "with") {
                j -= 1;
            }
            if j < 2 || !name_word(&tokens[j - 2]) || !name_word(&tokens[j - 1]) {
                continue;
            }
            let lead = j == 2
                || FILLER.contains(&tokens[j - 3].lower.as_str())
                || matches!(tokens[j - 3].lower.as_str(), "am" | "i'm" | "im" | "name");
            if lead {
                return Some((
                    capitalise(tokens[j - 2].original),
                    capitalise(tokens[j - 1].original),
                ));
            }
        }
    }
    // "Emma Rossi, 43215" / "Sophia Hernandez here, zip code 76197": with a zip and
    // nothing else but filler, the two remaining words are the name.
    if has_zip {
        let words: Vec<&Token<'_>> = tokens
            .iter()
            .filter(|t| !all_digits(&t.lower) && !FILLER.contains(&t.lower.as_str()))
            .collect();
        if let [first, last] = words.as_slice()
            && alphabetic(&first.lower)
            && alphabetic(&last.lower)
            && !NAME_STOP.contains(&first.lower.as_str())
            && !REQUEST_WORDS.contains(&first.lower.as_str())
            && !REQUEST_WORDS.contains(&last.lower.as_str())
        {
            return Some((capitalise(first.original), capitalise(last.original)));
        }
    }
    None
}

fn yes_no(tokens: &[Token<'_>], reason: Option<CancelReason>) -> Option<bool> {
    let first = tokens.first()?.lower.as_str();
    let short = tokens.len() <= 6;
    if YES.contains(&first)
        && (short || matches!(first, "yes" | "yeah" | "yep" | "confirm" | "confirmed"))
    {
        // "go" only as "go ahead"; "please" only when alone or "please do".
        if first == "go" && tokens.get(1).map(|t| t.lower.as_str()) != Some("ahead") {
            return None;
        }
        if first == "please"
            && !(tokens.len() == 1
                || tokens
                    .get(1)
                    .is_some_and(|t| t.lower == "do" || t.lower == "proceed"))
        {
            return None;
        }
        return Some(true);
    }
    if reason.is_some() {
        return None;
    }
    if NO.contains(&first) && (short || first == "no" || first == "nope") {
        return Some(false);
    }
    let joined: String = tokens
        .iter()
        .map(|t| t.lower.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    if short
        && [
            "do it",
            "go ahead",
            "sounds good",
            "that's right",
            "that is right",
            "please do",
        ]
        .iter()
        .any(|p| joined.contains(p))
    {
        return Some(true);
    }
    if short
        && ["not now", "never mind", "nevermind", "don't do", "do not"]
            .iter()
            .any(|p| joined.contains(p))
    {
        return Some(false);
    }
    None
}

fn cancel_reason(lower: &str) -> Option<CancelReason> {
    const MISTAKE: [&str; 7] = [
        "by mistake",
        "mistake",
        "accident",
        "accidentally",
        "ordered wrong",
        "wrong order",
        "ordered the wrong",
    ];
    const NOT_NEEDED: [&str; 9] = [
        "no longer need",
        "don't need",
        "dont need",
        "do not need",
        "not needed",
        "no need",
        "changed my mind",
        "don't want",
        "dont want",
    ];
    if MISTAKE.iter().any(|p| lower.contains(p)) {
        return Some(CancelReason::OrderedByMistake);
    }
    NOT_NEEDED
        .iter()
        .any(|p| lower.contains(p))
        .then_some(CancelReason::NoLongerNeeded)
}

/// Words after which a payment method named is the one being replaced
/// ("instead of paypal", "not the visa"). Of several others named, the last wins
/// ("from paypal to my visa").
const REPLACED_CUES: [&str; 4] = ["instead of", "rather than", "not", "other than"];

fn payment(lower: &str, tokens: &[Token<'_>]) -> Option<PaymentHint> {
    // Every method named, with the token where it starts.
    let mut found: Vec<(usize, PaymentHint)> = Vec::new();
    let words: Vec<&str> = tokens.iter().map(|t| t.lower.as_str()).collect();
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied().unwrap_or("");
        let hint = match *w {
            "giftcard" | "gift-card" => Some(PaymentHint::GiftCard),
            "gift" if next == "card" || next == "cards" => Some(PaymentHint::GiftCard),
            "paypal" => Some(PaymentHint::Paypal),
            "pay" if next == "pal" => Some(PaymentHint::Paypal),
            "visa" | "mastercard" | "amex" | "discover" => Some(PaymentHint::CreditCard {
                brand: Some((*w).to_string()),
                last_four: None,
            }),
            "master" if next == "card" => Some(PaymentHint::CreditCard {
                brand: Some("mastercard".into()),
                last_four: None,
            }),
            "american" if next == "express" => Some(PaymentHint::CreditCard {
                brand: Some("amex".into()),
                last_four: None,
            }),
            "credit" | "debit" if next == "card" => Some(PaymentHint::CreditCard {
                brand: None,
                last_four: None,
            }),
            _ => None,
        };
        if let Some(h) = hint {
            found.push((i, h));
        }
    }
    let last_four = tokens.windows(2).find_map(|w| {
        let cue = matches!(
            w[0].lower.as_str(),
            "ending" | "ends" | "in" | "four" | "digits"
        );
        (cue && w[1].lower.len() == 4 && all_digits(&w[1].lower)).then(|| w[1].lower.clone())
    });
    // A method named right after "instead of", "not"… is the old one.
    let replaced = |at: usize| {
        let before = words[at.saturating_sub(3)..at].join(" ");
        REPLACED_CUES.iter().any(|c| {
            before.ends_with(*c)
                || before.ends_with(&format!("{c} my"))
                || before.ends_with(&format!("{c} the"))
                || before.ends_with(&format!("{c} your"))
        })
    };
    let kept: Vec<&(usize, PaymentHint)> = found.iter().filter(|(i, _)| !replaced(*i)).collect();
    let chosen = kept.last().map(|(_, h)| h.clone());
    match chosen {
        Some(PaymentHint::CreditCard { brand, .. }) => {
            return Some(PaymentHint::CreditCard { brand, last_four });
        }
        Some(h) => return Some(h),
        // Only the old method named: "my card instead of paypal".
        None if !found.is_empty() => {
            if last_four.is_some() || words.contains(&"card") {
                return Some(PaymentHint::CreditCard {
                    brand: None,
                    last_four,
                });
            }
        }
        None => {
            if last_four.is_some() || lower.contains("credit card") || lower.contains("debit card")
            {
                return Some(PaymentHint::CreditCard {
                    brand: None,
                    last_four,
                });
            }
        }
    }
    if [
        "original payment",
        "original method",
        "same card",
        "same payment",
        "original card",
        "card i paid with",
    ]
    .iter()
    .any(|p| lower.contains(p))
    {
        return Some(PaymentHint::Original);
    }
    None
}

/// A US address ending in "STATE ZIP": house number, street, optional unit, city.
fn address(text: &str) -> Option<AddressParts> {
    // Words with their byte offsets, split on whitespace and commas.
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let sep = c.is_whitespace() || c == ',';
        match (sep, start) {
            (false, None) => start = Some(i),
            (true, Some(s)) => {
                words.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        words.push((s, &text[s..]));
    }
    let clean = |w: &str| {
        w.trim_matches(|c: char| c == '.' || c == ';')
            .to_lowercase()
    };
    let zi = (1..words.len()).rev().find(|&i| {
        let z = clean(words[i].1);
        is_zip(&z) && STATES.contains(&clean(words[i - 1].1).as_str())
    })?;
    let house = (0..zi - 1).find(|&i| {
        let w = clean(words[i].1);
        // Not a zip or order number given before the address ("zip 28243. …").
        let cued = i > 0
            && matches!(
                clean(words[i - 1].1).as_str(),
                "zip" | "code" | "postcode" | "order" | "number" | "#"
            );
        !cued
            && !words[i].1.ends_with('.')
            && w.len() <= 6
            && all_digits(&w)
            && words
                .get(i + 1)
                .is_some_and(|n| n.1.chars().next().is_some_and(char::is_alphabetic))
    })?;
    let body = text[words[house].0..words[zi - 1].0]
        .trim()
        .trim_end_matches(',')
        .trim();
    // "1451 Pearl Street, not 1415. Apt 3, …": the corrected-away part is no
    // address line.
    let parts: Vec<&str> = body
        .split(',')
        .map(str::trim)
        .map(|p| match p.get(..4) {
            Some(head) if head.eq_ignore_ascii_case("not ") => {
                p.split_once('.').map(|(_, rest)| rest.trim()).unwrap_or("")
            }
            _ => p,
        })
        .filter(|p| !p.is_empty())
        .collect();
    let (address1, address2, city) = if parts.len() >= 2 {
        let city = parts[parts.len() - 1].to_string();
        let middle = parts[1..parts.len() - 1].join(", ");
        (parts[0].to_string(), middle, city)
    } else {
        // No commas: the street ends at a suffix; a unit may follow; the rest is the city.
        let ws: Vec<&str> = body.split_whitespace().collect();
        let suffix = ws
            .iter()
            .position(|w| STREET_SUFFIXES.contains(&clean(w).as_str()))?;
        let mut next = suffix + 1;
        let mut unit = String::new();
        if ws
            .get(next)
            .is_some_and(|w| UNIT_WORDS.contains(&clean(w).as_str()) || w.starts_with('#'))
        {
            let take = if ws[next].len() > 1 && ws[next].starts_with('#') {
                1
            } else {
                2
            };
            unit = ws[next..(next + take).min(ws.len())].join(" ");
            next += take;
        }
        (
            ws[..=suffix].join(" "),
            unit,
            ws.get(next..).unwrap_or_default().join(" "),
        )
    };
    if city.is_empty() || address1.is_empty() {
        return None;
    }
    Some(AddressParts {
        address1,
        address2,
        city,
        state: clean(words[zi - 1].1).to_uppercase(),
        zip: clean(words[zi].1)[..5].to_string(),
    })
}

fn quantity(tokens: &[Token<'_>]) -> Option<u32> {
    for (i, t) in tokens.iter().enumerate() {
        if let Some(n) = t
            .lower
            .strip_prefix('x')
            .filter(|n| n.len() <= 2 && all_digits(n))
        {
            return n.parse().ok();
        }
        let n = NUMBER_WORDS
            .iter()
            .position(|w| *w == t.lower)
            .map(|p| p as u32 + 1)
            .or_else(|| {
                (t.lower.len() <= 2 && all_digits(&t.lower)).then(|| t.lower.parse().unwrap_or(0))
            });
        let cue = tokens.get(i + 1).is_some_and(|n| {
            matches!(
                n.lower.as_str(),
                "of" | "units" | "pieces" | "items" | "pairs" | "more"
            )
        });
        if let Some(n) = n.filter(|n| *n > 0 && cue) {
            return Some(n);
        }
    }
    None
}

fn options(tokens: &[Token<'_>]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        let w = t.lower.as_str();
        let sized = i > 0 && tokens[i - 1].lower == "size";
        if (COLORS.contains(&w)
            || MATERIALS.contains(&w)
            || (SIZES.contains(&w) && (w.len() > 1 || sized))
            || (sized && w.len() <= 4))
            && !out.iter().any(|o| o == w)
        {
            out.push(w.to_string());
        }
    }
    out
}

/// Extracts every entity from one message.
pub fn extract(text: &str) -> Entities {
    let text = bounded(text);
    let lower = text.to_lowercase();
    let tokens = tokenize(text);
    let order_ids = order_ids(&lower, &tokens);
    let order_digits: Vec<String> = order_ids.iter().map(|o| o[2..].to_string()).collect();
    let item_ids = tokens
        .iter()
        .filter(|t| t.lower.len() == 10 && all_digits(&t.lower))
        .map(|t| t.lower.clone())
        .collect();
    let address = address(text);
    let zip = zip_of(&tokens, address.as_ref().map(|a| a.zip.as_str()))
        .filter(|z| !order_digits.iter().any(|d| d.contains(z.as_str())));
    let reason = cancel_reason(&lower);
    Entities {
        name: name_of(&tokens, zip.is_some()),
        yes_no: yes_no(&tokens, reason),
        emails: emails(&tokens),
        payment: payment(&lower, &tokens),
        address,
        quantity: quantity(&tokens),
        options: options(&tokens),
        cancel_reason: reason,
        order_ids,
        item_ids,
        zip,
    }
}

fn stem(word: &str) -> &str {
    if word.len() > 3 && word.ends_with("es") && !word.ends_with("ses") {
        &word[..word.len() - 2]
    } else if word.len() > 2 && word.ends_with('s') && !word.ends_with("ss") {
        &word[..word.len() - 1]
    } else {
        word
    }
}

/// A word for matching: lower-cased, without hyphens, singular.
fn match_form(word: &str) -> String {
    let joined: String = word.chars().filter(|c| *c != '-').collect();
    stem(&joined).to_string()
}

/// The words of `text` in [`match_form`], plus each adjacent pair written
/// together ("t shirt" also reads as "tshirt").
fn text_forms(text: &str) -> Vec<String> {
    let words: Vec<String> = tokenize(bounded(text))
        .iter()
        .map(|t| t.lower.chars().filter(|c| *c != '-').collect::<String>())
        .collect();
    let mut out: Vec<String> = words.iter().map(|w| stem(w).to_string()).collect();
    for pair in words.windows(2) {
        out.push(stem(&format!("{}{}", pair[0], pair[1])).to_string());
    }
    out.extend(size_letters(&words));
    out
}

/// Clothing sizes said in words, as the letters variants use: "large" is
/// `l`, "extra large" (or "x-large", "xlarge") `xl`, "extra small" `xs`.
fn size_letters(words: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let extra = matches!(words[i].as_str(), "extra" | "x")
            && words
                .get(i + 1)
                .is_some_and(|n| matches!(n.as_str(), "large" | "small"));
        let (letters, step) = if extra {
            (if words[i + 1] == "large" { "xl" } else { "xs" }, 2)
        } else {
            let one = match words[i].as_str() {
                "small" => "s",
                "medium" => "m",
                "large" => "l",
                "xlarge" => "xl",
                "xsmall" => "xs",
                "xxlarge" => "xxl",
                _ => "",
            };
            (one, 1)
        };
        if !letters.is_empty() {
            out.push(letters.to_string());
        }
        i += step;
    }
    out
}

/// Splits off the part of `text` that only identifies an order by its
/// contents ("on my order with the robot vacuum and the bookshelf, swap the
/// vacuum" gives ("the robot vacuum and the bookshelf", "swap the vacuum")),
/// so that the products it lists are not taken for the items to change. The
/// list runs to a colon, full stop or question mark, or to a comma not
/// followed by another listed product ("the …", "and …").
pub fn split_order_context(text: &str) -> (String, String) {
    let lower = bounded(text).to_lowercase();
    const CUES: [&str; 12] = [
        "order with ",
        "order that has ",
        "order that had ",
        "order containing ",
        "order that includes ",
        "order which has ",
        "came with ",
        "arrived with ",
        "ordered together with ",
        "bought together with ",
        "i ordered with ",
        "i bought with ",
    ];
    // A clause of its own starts after the list: "… with the watch and the
    // dumbbells i want to return the t-shirt".
    const CLAUSE_STARTS: [&str; 20] = [
        " - ",
        " -- ",
        " theres ",
        " there's ",
        " there is ",
        " there are ",
        " i ",
        " i'd ",
        " i'm ",
        " id ",
        " im ",
        " please ",
        " can you ",
        " could you ",
        " is ",
        " was ",
        " needs ",
        " should ",
        " has ",
        " hasnt ",
    ];
    let Some((at, cue)) = CUES
        .iter()
        .filter_map(|c| lower.find(c).map(|i| (i, *c)))
        .min_by_key(|(i, _)| *i)
    else {
        return named_orders(&lower);
    };
    let start = at + cue.len();
    let tail = &lower[start..];
    let mut end = tail.len();
    let mut offset = 0;
    for piece in tail.split_inclusive([',', ':', ';', '.', '?', '!', '\n']) {
        let next = offset + piece.len();
        let hard = piece.ends_with([':', ';', '.', '?', '!', '\n']);
        let rest = tail[next..].trim_start();
        let listed = ["the ", "and ", "a ", "an ", "my "]
            .iter()
            .any(|w| rest.starts_with(w))
            && rest
                .split([',', ':', ';', '.', '?', '!'])
                .next()
                .is_some_and(|p| p.split_whitespace().count() <= 8);
        if hard || !listed || next == tail.len() {
            end = if piece.ends_with([',', ':', ';', '.', '?', '!', '\n']) {
                next - 1
            } else {
                next
            };
            break;
        }
        offset = next;
    }
    if let Some(cut) = CLAUSE_STARTS
        .iter()
        .filter_map(|c| format!(" {}", &tail[..end]).find(c))
        .min()
    {
        end = cut.saturating_sub(1).min(end);
    }
    let context = tail[..end].trim().to_string();
    let rest = format!("{} {}", &lower[..at], &tail[end..]);
    (context, rest)
}

/// "from my smartphone order", "in my espresso machine order": the words
/// between "my" and "order" name the order, not the items. Returns (those
/// words, the text without them).
fn named_orders(lower: &str) -> (String, String) {
    let words: Vec<&str> = lower.split_whitespace().collect();
    let mut context = Vec::new();
    let mut rest = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let end = (i + 2..(i + 5).min(words.len()))
            .find(|&j| words[j].trim_matches(|c: char| !c.is_alphanumeric()) == "order");
        match end {
            Some(j)
                if words[i] == "my"
                    && words[i + 1..j]
                        .iter()
                        .all(|w| w.chars().all(|c| c.is_alphanumeric() || c == '-'))
                    && !words[i + 1..j].iter().any(|w| {
                        matches!(
                            *w,
                            "pending"
                                | "delivered"
                                | "last"
                                | "latest"
                                | "other"
                                | "recent"
                                | "first"
                                | "second"
                                | "new"
                                | "old"
                                | "whole"
                                | "entire"
                        )
                    }) =>
            {
                context.extend_from_slice(&words[i + 1..j]);
                rest.push("my");
                rest.push(words[j]);
                i = j + 1;
            }
            _ => {
                rest.push(words[i]);
                i += 1;
            }
        }
    }
    (context.join(" "), rest.join(" "))
}

/// The share of `candidate`'s words that `text` mentions (case-, hyphen- and
/// plural-insensitive), 0 to 1. "the boots" scores 0.5 against "Hiking Boots";
/// "tshirt" matches "T-Shirt".
pub fn mention_score(text: &str, candidate: &str) -> f32 {
    let text_words = text_forms(text);
    let wanted: Vec<String> = tokenize(candidate)
        .iter()
        .map(|t| match_form(&t.lower))
        .filter(|w| !w.is_empty())
        .collect();
    if wanted.is_empty() {
        return 0.0;
    }
    let hits = wanted.iter().filter(|w| text_words.contains(w)).count();
    hits as f32 / wanted.len() as f32
}

/// Words that carry no meaning for [`phrase_score`].
const PHRASE_STOP: [&str; 24] = [
    "a", "an", "the", "it", "i", "my", "to", "of", "for", "is", "was", "and", "or", "in", "on",
    "at", "by", "be", "me", "this", "that", "with", "its", "it's",
];

/// How well `text` expresses `phrase`, 0 to 1: the share of the phrase's
/// content words found in the text, where two words match when equal after
/// [`match_form`] or when they share their first five letters ("delivery" /
/// "delivered"). For matching free text to a tenant's configured reasons.
pub fn phrase_score(text: &str, phrase: &str) -> f32 {
    let text_words: Vec<String> = tokenize(bounded(text))
        .iter()
        .map(|t| match_form(&t.lower))
        .collect();
    let wanted: Vec<String> = tokenize(phrase)
        .iter()
        .filter(|t| !PHRASE_STOP.contains(&t.lower.as_str()))
        .map(|t| match_form(&t.lower))
        .collect();
    if wanted.is_empty() {
        return 0.0;
    }
    let same = |a: &str, b: &str| {
        a == b || (a.len() >= 5 && b.len() >= 5 && a.as_bytes()[..5] == b.as_bytes()[..5])
    };
    let hits = wanted
        .iter()
        .filter(|w| text_words.iter().any(|t| same(t, w)))
        .count();
    hits as f32 / wanted.len() as f32
}

/// Cues after which what is named is being excluded or kept, not chosen:
/// "keep the kettle", "forget the exchange" (and "not the kettle", see
/// [`split_excluded`]).
const EXCLUDING_CUES: [&str; 9] = [
    "keep",
    "keeping",
    "forget",
    "instead of",
    "rather than",
    "except",
    "apart from",
    "other than",
    "without",
];

/// Words after an item that keep it as it is ("the grill stays", "the navy
/// one is fine", "leave the mouse alone", "keep the tactile one as is").
const KEPT_AFTER: [&str; 10] = [
    " stays ",
    " stay ",
    " can stay ",
    " is fine ",
    " are fine ",
    " alone ",
    " as is ",
    " as it is ",
    " is ok ",
    " stays as ",
];

/// Splits `text` into what it asks for and what it excludes: a phrase after
/// an [`EXCLUDING_CUES`] word or "not the/my/…", up to the next comma, full
/// stop, "and" or "but", is excluded. "it's the earbuds, not the kettle. keep the kettle" gives
/// ("it's the earbuds", "the kettle the kettle").
pub fn split_excluded(text: &str) -> (String, String) {
    split_excluding(text, true)
}

/// [`split_excluded`] for choosing options ("red, not blue", "white instead
/// of blue"): words after an option ("red is fine") choose it, so only cues
/// before a phrase exclude.
pub fn split_excluded_options(text: &str) -> (String, String) {
    split_excluding(text, false)
}

fn split_excluding(text: &str, kept_after: bool) -> (String, String) {
    let text = bounded(text).to_lowercase();
    let mut wanted = String::new();
    let mut excluded = String::new();
    for piece in text.split([',', '.', ';', '!', '?', '\n']) {
        // "the large one stays beige", "the navy one is fine", "leave the
        // RGB one alone": kept by words after it, so the whole piece is.
        let spaced = format!(" {} ", piece.replace(['(', ')'], " "));
        if kept_after && KEPT_AFTER.iter().any(|k| spaced.contains(k)) {
            excluded.push_str(piece);
            excluded.push(' ');
            wanted.push(' ');
            continue;
        }
        let words: Vec<&str> = piece.split_whitespace().collect();
        let mut out = true;
        let mut i = 0;
        while i < words.len() {
            let w = words[i].trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
            let pair = words
                .get(i + 1)
                .map(|n| format!("{w} {n}"))
                .unwrap_or_default();
            if EXCLUDING_CUES.contains(&pair.as_str()) {
                out = false;
                i += 2;
                continue;
            }
            let determiner = words.get(i + 1).is_some_and(|n| {
                matches!(
                    *n,
                    "the" | "my" | "that" | "this" | "those" | "these" | "a" | "an" | "your"
                )
            });
            // "…, not blue": a piece that starts with "not" names what is not wanted.
            if EXCLUDING_CUES.contains(&w) || (w == "not" && (determiner || i == 0)) {
                out = false;
                i += 1;
                continue;
            }
            // "keep the watch and the dumbbells": a list goes on being excluded;
            // "and return the rest" starts what is wanted again.
            let listing = w == "and" && determiner;
            // "instead of returning it could i exchange it …": a new clause
            // ends what is excluded.
            if matches!(
                w,
                "but"
                    | "just"
                    | "only"
                    | "instead"
                    | "and"
                    | "i"
                    | "could"
                    | "can"
                    | "would"
                    | "please"
            ) && !listing
            {
                out = true;
            }
            let target = if out { &mut wanted } else { &mut excluded };
            target.push_str(words[i]);
            target.push(' ');
            i += 1;
        }
        wanted.push(' ');
        excluded.push(' ');
    }
    (wanted.trim().to_string(), excluded.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::split_order_context;

    #[test]
    fn sizes_in_words_match_their_letters() {
        assert_eq!(
            super::mention_score("i need a large, not a medium", "L"),
            1.0
        );
        assert_eq!(super::mention_score("extra large please", "XL"), 1.0);
        assert_eq!(
            super::mention_score("extra large please", "L"),
            0.0,
            "extra large is XL, not L"
        );
        assert_eq!(super::mention_score("size small", "M"), 0.0);
    }

    #[test]
    fn the_products_that_identify_an_order_are_set_apart() {
        let (ctx, rest) = split_order_context(
            "on my order with the robot vacuum and the bookshelf, can you swap the vacuum for the bagged one?",
        );
        assert_eq!(ctx, "the robot vacuum and the bookshelf");
        assert!(
            rest.contains("swap the vacuum") && !rest.contains("bookshelf"),
            "{rest}"
        );
        let (ctx, rest) = split_order_context(
            "for my order with the gaming mouse, the patio umbrella and the hiking boots: i need the boots in a 9",
        );
        assert_eq!(
            ctx,
            "the gaming mouse, the patio umbrella and the hiking boots"
        );
        assert!(
            !rest.contains("umbrella") && rest.contains("the boots in a 9"),
            "{rest}"
        );
        let (ctx, rest) = split_order_context(
            "on my order with the action camera, change the mechanical keyboard",
        );
        assert_eq!(ctx, "the action camera");
        assert!(rest.contains("mechanical keyboard"));
        let (ctx, rest) = split_order_context(
            "from the order with the wristwatch and the dumbbells i want to return the blue t-shirt. keep the watch",
        );
        assert_eq!(ctx, "the wristwatch and the dumbbells");
        assert!(rest.contains("return the blue t-shirt"), "{rest}");
        let (ctx, rest) = split_order_context(
            "the brown pet bed that came with my luggage set is too small, i want to send it back",
        );
        assert_eq!(ctx, "my luggage set");
        assert!(
            rest.contains("pet bed") && !rest.contains("luggage"),
            "{rest}"
        );
        let (ctx, rest) = split_order_context("change the keyboard to linear switches");
        assert!(ctx.is_empty());
        assert!(rest.contains("keyboard"));
    }

    use super::*;

    #[test]
    fn order_ids_in_every_common_form() {
        assert_eq!(extract("where is #W1234567?").order_ids, vec!["#W1234567"]);
        assert_eq!(
            extract("order W7654321 please").order_ids,
            vec!["#W7654321"]
        );
        assert_eq!(extract("it's w 123 4567").order_ids, vec!["#W1234567"]);
        assert_eq!(
            extract("my order 2345678 hasn't come").order_ids,
            vec!["#W2345678"]
        );
        assert_eq!(
            extract("#W1234567 and #w1234567").order_ids.len(),
            1,
            "deduplicated"
        );
        assert!(extract("I need 2 new shoes").order_ids.is_empty());
        assert!(extract("wow 1234567").order_ids.is_empty());
    }

    #[test]
    fn emails_zips_and_item_ids_without_false_positives() {
        let e = extract("Email: Noah.Brown7922@Example.com, zip 80279");
        assert_eq!(e.emails, vec!["noah.brown7922@example.com"]);
        assert_eq!(e.zip.as_deref(), Some("80279"));
        assert!(
            extract("order #W1234567").zip.is_none(),
            "order digits are not a zip"
        );
        assert!(extract("I need 2 of them").zip.is_none());
        assert_eq!(
            extract("swap 6777246137 please").item_ids,
            vec!["6777246137"]
        );
        assert!(extract("not an email@ or @this").emails.is_empty());
    }

    #[test]
    fn names_need_a_clear_cue() {
        assert_eq!(
            extract("my name is yusuf rossi").name,
            Some(("Yusuf".into(), "Rossi".into()))
        );
        assert_eq!(
            extract("I'm Mei Davis, zip 19122").name,
            Some(("Mei".into(), "Davis".into()))
        );
        assert_eq!(
            extract("this is zoë müller 78701").name,
            Some(("Zoë".into(), "Müller".into()))
        );
        assert_eq!(extract("I'm looking for boots").name, None);
        assert_eq!(extract("this is ridiculous").name, None);
        assert_eq!(extract("i am not happy").name, None);
        assert_eq!(
            extract("Emma Rossi, 43215").name,
            Some(("Emma".into(), "Rossi".into()))
        );
        assert_eq!(
            extract("Sophia Hernandez here, zip code 76197").name,
            Some(("Sophia".into(), "Hernandez".into()))
        );
        assert_eq!(extract("order 12345 please").name, None);
    }

    #[test]
    fn yes_and_no_only_as_clear_answers() {
        assert_eq!(extract("yes").yes_no, Some(true));
        assert_eq!(extract("Yes please, go ahead").yes_no, Some(true));
        assert_eq!(extract("sure").yes_no, Some(true));
        assert_eq!(extract("go ahead").yes_no, Some(true));
        assert_eq!(extract("no").yes_no, Some(false));
        assert_eq!(extract("nope, don't do that").yes_no, Some(false));
        assert_eq!(
            extract("no longer needed").yes_no,
            None,
            "a reason, not a no"
        );
        assert_eq!(
            extract("I have no idea where my package is and it's been weeks").yes_no,
            None
        );
        assert_eq!(extract("please cancel my order").yes_no, None);
    }

    #[test]
    fn cancel_reasons_and_payment_hints() {
        assert_eq!(
            extract("I don't need it anymore").cancel_reason,
            Some(CancelReason::NoLongerNeeded)
        );
        assert_eq!(
            extract("ordered it by mistake").cancel_reason,
            Some(CancelReason::OrderedByMistake)
        );
        assert_eq!(extract("hello").cancel_reason, None);
        assert_eq!(
            extract("use my gift card").payment,
            Some(PaymentHint::GiftCard)
        );
        assert_eq!(extract("PayPal please").payment, Some(PaymentHint::Paypal));
        assert_eq!(
            extract("the visa ending in 1234").payment,
            Some(PaymentHint::CreditCard {
                brand: Some("visa".into()),
                last_four: Some("1234".into())
            })
        );
        assert_eq!(
            extract("refund to the original payment method").payment,
            Some(PaymentHint::Original)
        );
        assert_eq!(extract("where is my order").payment, None);
    }

    #[test]
    fn addresses_with_and_without_commas() {
        let a = extract("new address: 123 Main St, Apt 4, Austin, TX 78701")
            .address
            .unwrap();
        assert_eq!(
            (
                a.address1.as_str(),
                a.address2.as_str(),
                a.city.as_str(),
                a.state.as_str(),
                a.zip.as_str()
            ),
            ("123 Main St", "Apt 4", "Austin", "TX", "78701")
        );
        let b = extract("ship it to 45 Oak Avenue Suite 200 San Francisco ca 94105")
            .address
            .unwrap();
        assert_eq!(
            (
                b.address1.as_str(),
                b.address2.as_str(),
                b.city.as_str(),
                b.state.as_str()
            ),
            ("45 Oak Avenue", "Suite 200", "San Francisco", "CA")
        );
        let c = extract("9 Elm Road, Denver, CO 80202").address.unwrap();
        assert_eq!(
            (c.address1.as_str(), c.address2.as_str(), c.city.as_str()),
            ("9 Elm Road", "", "Denver")
        );
        let d = extract("I'm Isabella Thomas, zip 28243. Please change my default address to 77 Lakeview Terrace, Asheville, NC 28801")
            .address
            .unwrap();
        assert_eq!(
            (d.address1.as_str(), d.city.as_str(), d.zip.as_str()),
            ("77 Lakeview Terrace", "Asheville", "28801"),
            "the zip given before is not a house number"
        );
        assert!(extract("my zip is 78701").address.is_none());
        assert!(extract("order #W1234567 to TX 78701").address.is_none());
    }

    #[test]
    fn quantities_and_options() {
        assert_eq!(extract("two of them").quantity, Some(2));
        assert_eq!(extract("x3 please").quantity, Some(3));
        assert_eq!(extract("size 10 please").quantity, None);
        let e = extract("the blue one in size M, leather");
        assert_eq!(e.options, vec!["blue", "m", "leather"]);
        assert!(
            extract("I'm fine").options.is_empty(),
            "the m of I'm is not a size"
        );
    }

    #[test]
    fn mention_scores_fold_case_and_plurals() {
        assert_eq!(
            mention_score("return the hiking boots", "Hiking Boots"),
            1.0
        );
        assert_eq!(mention_score("the boots", "Hiking Boots"), 0.5);
        assert_eq!(mention_score("the BLUE one", "blue"), 1.0);
        assert_eq!(mention_score("the kettle", "Water Bottle"), 0.0);
        assert_eq!(mention_score("anything", ""), 0.0);
    }

    #[test]
    fn the_method_being_replaced_is_not_the_one_chosen() {
        assert_eq!(
            extract("ship it there and charge my visa instead of paypal").payment,
            Some(PaymentHint::CreditCard {
                brand: Some("visa".into()),
                last_four: None
            })
        );
        assert_eq!(
            extract("switch it from paypal to the mastercard ending 9364").payment,
            Some(PaymentHint::CreditCard {
                brand: Some("mastercard".into()),
                last_four: Some("9364".into())
            })
        );
        assert_eq!(
            extract("put it on paypal, not the visa").payment,
            Some(PaymentHint::Paypal)
        );
        assert_eq!(
            extract("use my card instead of the gift card").payment,
            Some(PaymentHint::CreditCard {
                brand: None,
                last_four: None
            })
        );
        assert!(extract("my master card").payment.is_some());
    }

    #[test]
    fn lower_case_run_on_names_before_a_zip() {
        assert_eq!(
            extract("hi its yara sanchez zip 43097, whats the status of my order").name,
            Some(("Yara".into(), "Sanchez".into()))
        );
        assert_eq!(
            extract("hey omar lopez here zip code 80218 i want to return something").name,
            Some(("Omar".into(), "Lopez".into()))
        );
        assert_eq!(
            extract("i want to return shoes zip 12345").name,
            None,
            "request words are not a name"
        );
    }

    #[test]
    fn the_customers_zip_is_not_the_new_addresses() {
        let e =
            extract("I'm Lena Park, zip 78712. My new address is 5 Pine Lane, Boston, MA 02115");
        assert_eq!(e.zip.as_deref(), Some("78712"));
        assert_eq!(e.address.unwrap().zip, "02115");
        let e = extract("lena park 78712, please move me to 5 Pine Lane, Boston, MA 02115");
        assert_eq!(e.zip.as_deref(), Some("78712"));
        assert_eq!(
            extract("ship to 5 Pine Lane, Boston, MA 02115")
                .zip
                .as_deref(),
            Some("02115"),
            "with no other zip, the address's"
        );
    }

    #[test]
    fn hyphens_and_spacing_do_not_hide_a_product() {
        assert_eq!(mention_score("the blue vneck tshirt order", "T-Shirt"), 1.0);
        assert_eq!(mention_score("my t shirt", "T-Shirt"), 1.0);
        assert_eq!(mention_score("the t-shirt", "T-Shirt"), 1.0);
    }

    #[test]
    fn phrases_match_by_words_not_exact_text() {
        assert!(phrase_score("I found it cheaper elsewhere", "found cheaper elsewhere") >= 0.99);
        assert!(
            phrase_score("delivery is taking way too long", "delivery too slow") >= 0.6,
            "{}",
            phrase_score("delivery is taking way too long", "delivery too slow")
        );
        assert!(phrase_score("the shipping was delayed", "gift for someone") < 0.5);
        assert_eq!(phrase_score("anything", "the a"), 0.0);
    }

    #[test]
    fn excluded_items_are_split_from_the_wanted_ones() {
        let (wanted, excluded) =
            split_excluded("it's the wireless earbuds, not the kettle. keep the kettle.");
        assert!(
            wanted.contains("earbuds") && !wanted.contains("kettle"),
            "{wanted}"
        );
        assert!(excluded.contains("kettle"), "{excluded}");
        let (wanted, excluded) =
            split_excluded("return the t-shirt and the backpack. keep the watch and the dumbbells");
        assert!(
            wanted.contains("backpack") && !wanted.contains("dumbbells"),
            "{wanted}"
        );
        assert!(excluded.contains("dumbbells"), "{excluded}");
        let (wanted, excluded) = split_excluded("forget the exchange, i just want to return it");
        assert!(excluded.contains("exchange") && wanted.contains("return"));
        let (wanted, excluded) = split_excluded("I'm not happy with the lamp, return it");
        assert!(
            wanted.contains("lamp") && excluded.is_empty(),
            "plain 'not' excludes nothing"
        );
    }

    #[test]
    fn a_corrected_away_street_number_is_no_address_line() {
        let a = extract("sorry, typo: it is 1451 Pearl Street, not 1415. Apt 3, Boulder, CO 80302")
            .address
            .unwrap();
        assert_eq!(a.address1, "1451 Pearl Street");
        assert_eq!(a.address2, "Apt 3");
        assert_eq!(a.city, "Boulder");
    }

    #[test]
    fn an_item_kept_by_words_after_it_is_excluded() {
        let (wanted, excluded) =
            split_excluded("the small one i want in grey instead. the large one stays beige");
        assert!(
            wanted.contains("small") && !wanted.contains("large"),
            "{wanted}"
        );
        assert!(excluded.contains("large"), "{excluded}");
        let (wanted, excluded) =
            split_excluded("make the white one wireless, leave the RGB one alone");
        assert!(
            wanted.contains("white") && !wanted.contains("rgb"),
            "{wanted}"
        );
        assert!(excluded.contains("rgb"), "{excluded}");
        let (_, excluded) = split_excluded("only the green leather one. i'm keeping the grey one");
        assert!(excluded.contains("grey"), "{excluded}");
        let (wanted, excluded) = split_excluded(
            "actually instead of returning it could i exchange it for the linear one",
        );
        assert!(
            wanted.contains("linear") && excluded.contains("returning"),
            "{wanted}"
        );
        // For options, "red is fine" chooses red; "not blue" still excludes.
        let (wanted, excluded) = split_excluded_options("make that red, not blue. red is fine");
        assert!(
            wanted.contains("red") && !wanted.contains("blue"),
            "{wanted}"
        );
        assert!(excluded.contains("blue"), "{excluded}");
    }

    #[test]
    fn products_between_my_and_order_name_the_order() {
        let (context, rest) =
            split_order_context("return the jigsaw puzzle from my smartphone order, please");
        assert_eq!(context, "smartphone");
        assert!(
            rest.contains("jigsaw puzzle") && !rest.contains("smartphone"),
            "{rest}"
        );
        let (context, _) = split_order_context("cancel my pending order");
        assert_eq!(context, "");
    }

    #[test]
    fn a_dash_or_there_is_ends_the_products_that_identify_an_order() {
        let (context, rest) = split_order_context(
            "my pending order with the office chair - the keyboard, could it be the one without backlight?",
        );
        assert_eq!(context, "the office chair");
        assert!(rest.contains("keyboard"), "{rest}");
        let (context, rest) = split_order_context(
            "on my pending order with the vacuum and the action camera theres 2 gaming mice. make the white one wireless",
        );
        assert_eq!(context, "the vacuum and the action camera");
        assert!(rest.contains("gaming mice"), "{rest}");
    }

    #[test]
    fn odd_and_hostile_input_never_panics() {
        let mut samples: Vec<String> = vec![
            String::new(),
            "#".repeat(10_000),
            "w".repeat(100_000),
            "1234567 ".repeat(5_000),
            "🙂\u{202e}ɯ ʇxǝʇ 123 Main St, ☃, TX 78701".into(),
            "@@@.@.@ a@b. .@c".into(),
            "my name is".into(),
            "i'm".into(),
            "12345 TX".into(),
            "TX 12345".into(),
        ];
        let mut x: u64 = 42;
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..64)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    (x & 0xff) as u8
                })
                .collect();
            samples.push(String::from_utf8_lossy(&bytes).into_owned());
        }
        for s in &samples {
            let e = extract(s);
            assert!(e.order_ids.iter().all(|o| o.len() == 9));
            let _ = mention_score(s, "Water Bottle");
            let _ = phrase_score(s, "found a better price");
            let _ = split_excluded(s);
        }
    }
}
