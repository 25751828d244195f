//! Server-rendered SVG bar charts: geometry computed here, drawn by the
//! template (so every label is escaped), with a title, a description and
//! the same figures as a table for screen readers and text browsers.

/// One bar.
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The category (e.g. a date) and its value, for the tooltip and table.
    pub label: String,
    pub value: String,
}

/// A bar chart ready to draw.
pub struct BarChart {
    /// Unique on the page (the SVG's title and description ids start with it).
    pub id: String,
    pub title: String,
    /// The text alternative: what the chart shows, in words.
    pub description: String,
    pub width: f64,
    pub height: f64,
    pub bars: Vec<Bar>,
    /// The largest value, printed on the axis.
    pub max_label: String,
    pub baseline: f64,
    /// The heading of the label column in the table (`Day` unless set).
    pub label_header: &'static str,
}

pub const WIDTH: f64 = 640.0;
pub const HEIGHT: f64 = 180.0;
const PAD_TOP: f64 = 12.0;
const PAD_BOTTOM: f64 = 20.0;
const PAD_LEFT: f64 = 44.0;

impl BarChart {
    /// Bars for `(label, value)` pairs; `fmt` prints a value.
    pub fn new(
        id: impl Into<String>,
        title: impl Into<String>,
        points: &[(String, f64)],
        max_hint: Option<f64>,
        fmt: impl Fn(f64) -> String,
    ) -> Self {
        let title = title.into();
        let max = points
            .iter()
            .map(|p| p.1)
            .fold(max_hint.unwrap_or(0.0), f64::max)
            .max(f64::MIN_POSITIVE);
        let plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM;
        let slot = (WIDTH - PAD_LEFT) / points.len().max(1) as f64;
        let bars = points
            .iter()
            .enumerate()
            .map(|(i, (label, v))| {
                let h = (v.max(0.0) / max * plot_h).max(if *v > 0.0 { 1.0 } else { 0.0 });
                Bar {
                    x: PAD_LEFT + i as f64 * slot + slot * 0.15,
                    y: PAD_TOP + plot_h - h,
                    width: slot * 0.7,
                    height: h,
                    label: label.clone(),
                    value: fmt(*v),
                }
            })
            .collect::<Vec<_>>();
        let description = match (points.first(), points.last()) {
            (Some(first), Some(last)) if points.len() > 1 => {
                let (peak_label, peak) = points.iter().fold((&first.0, f64::MIN), |acc, p| {
                    if p.1 > acc.1 { (&p.0, p.1) } else { acc }
                });
                format!(
                    "{title}, {} days from {} to {}: {} on the first day, {} on the last, highest {} on {}.",
                    points.len(),
                    first.0,
                    last.0,
                    fmt(first.1),
                    fmt(last.1),
                    fmt(peak),
                    peak_label
                )
            }
            (Some(only), _) => format!("{title} on {}: {}.", only.0, fmt(only.1)),
            _ => format!("{title}: no data in this range."),
        };
        Self {
            id: id.into(),
            title,
            description,
            width: WIDTH,
            height: HEIGHT,
            bars,
            max_label: fmt(max_hint.unwrap_or(max).max(max)),
            baseline: HEIGHT - PAD_BOTTOM,
            label_header: "Day",
        }
    }

    /// For charts whose bars are not days (price changes, reporting
    /// periods): the table's label heading and the text alternative.
    pub fn with_text(mut self, label_header: &'static str, description: String) -> Self {
        self.label_header = label_header;
        self.description = description;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_value_and_describe_themselves() {
        let points = vec![
            ("d1".to_string(), 1.0),
            ("d2".to_string(), 4.0),
            ("d3".to_string(), 0.0),
        ];
        let c = BarChart::new("c", "Conversations", &points, None, |v| format!("{v:.0}"));
        assert_eq!(c.bars.len(), 3);
        let tallest = c.bars[1].height;
        assert!((tallest - (HEIGHT - PAD_TOP - PAD_BOTTOM)).abs() < 1e-9);
        assert!((c.bars[0].height * 4.0 - tallest).abs() < 1e-9);
        assert_eq!(c.bars[2].height, 0.0);
        assert!(
            c.description.contains("highest 4 on d2"),
            "{}",
            c.description
        );
        assert!(
            c.bars
                .iter()
                .all(|b| b.x >= PAD_LEFT && b.x + b.width <= WIDTH)
        );
    }
}
