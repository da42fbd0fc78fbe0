//! Charts drawn on the server as SVG: no script, no font or library to fetch, so they show on an
//! office PC without internet and on a phone in a village; they scale to the screen (a `viewBox`
//! and `width:100%`), and every bar is a link to the list behind its number.
//!
//! Why not ECharts: it is what Chinese government dashboards usually use, but it is 1 MB of
//! script to bundle and run on an old phone for a few bar charts; the page's CSP allows no inline
//! script either. SVG bars read the same and cost a few kB.

/// One bar: what it counts, how many, and the list it opens.
pub struct Bar {
    pub label: String,
    pub value: u64,
    pub href: Option<String>,
}

/// Text for SVG: `& < > "` escaped.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn link(href: &Option<String>, inner: String) -> String {
    match href {
        Some(h) => format!(r#"<a href="{}">{inner}</a>"#, esc(h)),
        None => inner,
    }
}

/// Horizontal bars, one row each, the value at the end of the bar; `title` names the chart for
/// screen readers.
pub fn bars(title: &str, items: &[Bar]) -> String {
    const W: u32 = 360;
    const LABEL: u32 = 132;
    const VALUE: u32 = 44;
    const ROW: u32 = 24;
    let max = items.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let h = ROW * items.len() as u32 + 4;
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    for (i, b) in items.iter().enumerate() {
        let y = i as u32 * ROW + 2;
        let len = ((W - LABEL - VALUE) as u64 * b.value / max) as u32;
        let row = format!(
            r##"<text x="{}" y="{}" text-anchor="end" font-size="12" fill="#323f4b">{}</text><rect x="{LABEL}" y="{}" width="{}" height="{}" rx="2" fill="#2f6eb5"/><text x="{}" y="{}" font-size="12" font-weight="bold" fill="#1f2933">{}</text>"##,
            LABEL - 6,
            y + 15,
            esc(&b.label),
            y + 4,
            len.max(1),
            ROW - 8,
            LABEL + len + 4,
            y + 15,
            b.value
        );
        out.push_str(&link(&b.href, row));
    }
    out.push_str("</svg>");
    out
}

/// Columns side by side (a trend over quarters), the value above each.
pub fn columns(title: &str, items: &[Bar]) -> String {
    const W: u32 = 360;
    const H: u32 = 150;
    const TOP: u32 = 18;
    const BOTTOM: u32 = 22;
    let n = items.len().max(1) as u32;
    let slot = W / n;
    let bar = (slot * 3 / 5).min(56);
    let max = items.iter().map(|b| b.value).max().unwrap_or(0).max(1);
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(title)
    );
    for (i, b) in items.iter().enumerate() {
        let x = i as u32 * slot + (slot - bar) / 2;
        let len = ((H - TOP - BOTTOM) as u64 * b.value / max) as u32;
        let y = H - BOTTOM - len;
        let col = format!(
            r##"<rect x="{x}" y="{y}" width="{bar}" height="{}" rx="2" fill="#2f6eb5"/><text x="{}" y="{}" text-anchor="middle" font-size="12" font-weight="bold" fill="#1f2933">{}</text><text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#52606d">{}</text>"##,
            len.max(1),
            x + bar / 2,
            y.saturating_sub(4).max(12),
            b.value,
            x + bar / 2,
            H - 6,
            esc(&b.label)
        );
        out.push_str(&link(&b.href, col));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_link_their_list_and_escape_their_labels() {
        let svg = bars(
            "年龄",
            &[
                Bar {
                    label: "0—5周岁".into(),
                    value: 10,
                    href: Some("/children?age_band=0-5&x=1".into()),
                },
                Bar {
                    label: "<script>".into(),
                    value: 5,
                    href: None,
                },
            ],
        );
        assert!(svg.contains(r#"width="184""#), "{svg}");
        assert!(svg.contains(r#"width="92""#));
        assert!(svg.contains(r#"<a href="/children?age_band=0-5&amp;x=1">"#));
        assert!(svg.contains("&lt;script&gt;") && !svg.contains("<script>"));
        let svg = columns("趋势", &[]);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
