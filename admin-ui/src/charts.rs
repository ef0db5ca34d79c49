//! Charts drawn on the server as SVG (with `plotters`), so they need no script and pass
//! the strict Content-Security-Policy: horizontal bars, one per row of the table they sit
//! beside, each labelled with its value, optionally over marked thresholds (grade bands).
//! A chart is a picture of its table, never the only place a figure is: pages keep the
//! table and give the chart a text alternative.

use plotters::prelude::*;

/// One bar.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub label: String,
    pub value: f64,
    /// The value as the table beside the chart writes it.
    pub shown: String,
}

/// A vertical line across the bars at `at`, named (e.g. a grade's lowest score).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Mark {
    pub at: f64,
    pub label: String,
}

/// Height of one bar's row, in pixels.
const ROW: u32 = 28;
/// Bars drawn at most (a chart is for looking, the table holds the rest).
pub(crate) const MAX_BARS: usize = 30;
const WIDTH: u32 = 640;
const BAR: RGBColor = RGBColor(11, 79, 138);
const MARK: RGBColor = RGBColor(194, 65, 12);

/// The bars (the first [`MAX_BARS`]) as an SVG document; `scale_to` fixes the axis's end
/// (100 for scores), else the largest value sets it. Empty when there is nothing to draw
/// or drawing fails (the table beside it still says everything).
pub(crate) fn bars(bars: &[Bar], scale_to: Option<f64>, marks: &[Mark]) -> String {
    let bars = &bars[..bars.len().min(MAX_BARS)];
    if bars.is_empty() {
        return String::new();
    }
    let largest = bars.iter().map(|b| b.value).fold(0.0_f64, f64::max);
    let end = scale_to.unwrap_or(largest).max(largest).max(1.0) * 1.08;
    let count = u32::try_from(bars.len()).unwrap_or(1);
    let height = count * ROW + 40;
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(150)
            .build_cartesian_2d(0.0..end, 0.0..f64::from(count))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(0)
            .x_labels(6)
            .label_style(("sans-serif", 12))
            .draw()?;
        let name_style = ("sans-serif", 13).into_text_style(&root);
        for (i, bar) in bars.iter().enumerate() {
            let top = f64::from(count) - i as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, top - 0.2), (bar.value.max(0.0), top - 0.8)],
                BAR.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                bar.shown.clone(),
                (bar.value.max(0.0) + end * 0.01, top - 0.35),
                ("sans-serif", 12).into_font(),
            )))?;
            // The name left of the plot, in the label area.
            let (x, y) = chart.backend_coord(&(0.0, top - 0.35));
            let name: String = bar.label.chars().take(12).collect();
            root.draw_text(&name, &name_style, (x.saturating_sub(144), y - 8))?;
        }
        for mark in marks {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(mark.at, 0.0), (mark.at, f64::from(count))],
                MARK.stroke_width(1),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                mark.label.clone(),
                (mark.at, f64::from(count)),
                ("sans-serif", 11).into_font().color(&MARK),
            )))?;
        }
        root.present()?;
        Ok(())
    })();
    drawn_or_empty(drawn, svg)
}

/// The SVG drawn, or nothing if drawing failed (the table beside it still says it all).
fn drawn_or_empty(drawn: Result<(), Box<dyn std::error::Error>>, svg: String) -> String {
    match drawn {
        Ok(()) => svg,
        Err(e) => {
            tracing::warn!(error = %e, "a chart could not be drawn");
            String::new()
        }
    }
}

/// One column of a stacked chart: its parts in the order of the series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column {
    pub label: String,
    pub parts: Vec<f64>,
}

/// Colours of the series of a stacked chart, in order (beyond them, the last repeats).
const SERIES: [RGBColor; 5] = [
    RGBColor(21, 128, 61),
    RGBColor(11, 79, 138),
    RGBColor(202, 138, 4),
    RGBColor(185, 28, 28),
    RGBColor(120, 120, 120),
];

/// Columns of stacked parts (e.g. instruments by state, hour by hour) with a legend
/// naming each series, as an SVG document; empty when there is nothing to draw. Every
/// fourth column is labelled under the axis.
pub(crate) fn stacked(columns: &[Column], series: &[&str]) -> String {
    if columns.is_empty() {
        return String::new();
    }
    let tallest = columns
        .iter()
        .map(|c| c.parts.iter().sum::<f64>())
        .fold(0.0_f64, f64::max)
        .max(1.0);
    let count = columns.len();
    let mut svg = String::new();
    let drawn = (|| -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 300)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .margin(8)
            .x_label_area_size(24)
            .y_label_area_size(36)
            .build_cartesian_2d(0.0..count as f64, 0.0..tallest * 1.25)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .y_labels(5)
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(("sans-serif", 11))
            .draw()?;
        let label_style = ("sans-serif", 11).into_text_style(&root);
        for (i, column) in columns.iter().enumerate().step_by(4) {
            let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
            root.draw_text(&column.label, &label_style, (x.saturating_sub(14), y + 6))?;
        }
        for (i, column) in columns.iter().enumerate() {
            let mut bottom = 0.0;
            for (part, value) in column.parts.iter().enumerate() {
                if *value <= 0.0 {
                    continue;
                }
                let colour = SERIES[part.min(SERIES.len() - 1)];
                let x = i as f64;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x + 0.1, bottom), (x + 0.9, bottom + value)],
                    colour.filled(),
                )))?;
                bottom += value;
            }
        }
        for (part, name) in series.iter().enumerate() {
            let colour = SERIES[part.min(SERIES.len() - 1)];
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(0.0, 0.0), (0.0, 0.0)],
                    colour.filled(),
                )))?
                .label(*name)
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", 12))
            .background_style(WHITE.mix(0.8))
            .draw()?;
        root.present()?;
        Ok(())
    })();
    drawn_or_empty(drawn, svg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bar_is_labelled_with_its_value_and_nothing_is_styled_inline() {
        let svg = bars(
            &[
                Bar {
                    label: "东北大学".into(),
                    value: 92.25,
                    shown: "92.25".into(),
                },
                Bar {
                    label: "大连理工大学<script>".into(),
                    value: 86.5,
                    shown: "86.50".into(),
                },
            ],
            Some(100.0),
            &[Mark {
                at: 75.0,
                label: "良好 75".into(),
            }],
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        for text in ["东北大学", "大连理工大学&lt;", "92.25", "86.50", "良好 75"] {
            assert!(svg.contains(text), "{text}: {svg}");
        }
        // The CSP allows no inline style; names are text, never markup.
        assert!(!svg.contains("style="), "{svg}");
        assert!(!svg.contains("<script"), "{svg}");
        assert!(bars(&[], None, &[]).is_empty());
    }

    #[test]
    fn stacked_columns_name_their_series_and_their_columns() {
        let columns: Vec<Column> = (0..8)
            .map(|h| Column {
                label: format!("{h:02}:00"),
                parts: vec![f64::from(h), 1.0, 0.0, 2.0, 3.0],
            })
            .collect();
        let svg = stacked(&columns, &["运行", "空闲", "维护", "故障", "失联<"]);
        assert!(svg.starts_with("<svg"), "{svg}");
        for text in ["运行", "失联&lt;", "00:00", "04:00"] {
            assert!(svg.contains(text), "{text}: {svg}");
        }
        assert!(!svg.contains("style="), "{svg}");
        assert!(stacked(&[], &["运行"]).is_empty());
    }
}
