//! Printed forms as PDF: 《农村留守儿童基本情况登记表》 (one child or a whole village in one file)
//! and 《农村留守儿童委托监护责任确认书》, typeset by typst with Noto Serif CJK SC embedded.
//!
//! This crate stands apart so typst, a large dependency tree, stays out of the other crates'
//! builds. The fonts are read once at start-up from Debian's `fonts-noto-cjk` when it is installed,
//! else the subsets shipped in the binary are used (`fonts/README.md`): a machine as it comes
//! prints its forms with their Chinese text.

use std::path::{Path, PathBuf};

use serde_json::Value;
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::TypstEngine;
use typst_layout::PagedDocument;

pub use shouwang_exchange::forms::{FormHeading, FormPrinter, PrintedTable};
use shouwang_exchange::forms::{agreement_data, registration_data};

/// Where Debian's `fonts-noto-cjk` puts the fonts.
pub const DEFAULT_FONT_DIR: &str = "/usr/share/fonts/opentype/noto";
const FONT_FILES: [&str; 2] = ["NotoSerifCJK-Regular.ttc", "NotoSerifCJK-Bold.ttc"];
/// Noto Serif CJK SC subsets (SIL Open Font License 1.1, `fonts/OFL.txt`), for a machine without
/// the system's fonts.
const SHIPPED: [&[u8]; 2] = [
    include_bytes!("../fonts/NotoSerifCJKsc-Regular-subset.otf"),
    include_bytes!("../fonts/NotoSerifCJKsc-Bold-subset.otf"),
];

/// Where the fonts a printer uses came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FontSource {
    /// The full fonts found in this folder.
    System(PathBuf),
    /// The subsets built into the program (the folder held no fonts).
    Shipped,
}

const COMMON: &str = include_str!("../templates/common.typ");
const REGISTRATION: &str = include_str!("../templates/registration.typ");
const AGREEMENT: &str = include_str!("../templates/agreement.typ");
const TABLE: &str = include_str!("../templates/table.typ");
const ELDER: &str = include_str!("../templates/elder.typ");
const PROBE: &str = include_str!("../templates/probe.typ");

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(
        "找不到打印所需的中文字体文件 {0}（该目录中另一个字体文件存在）：请重新安装 Debian 软件包 fonts-noto-cjk，或用 --font-dir 指定完整的字体目录"
    )]
    FontMissing(PathBuf),
    #[error("排版失败：{0}")]
    Typeset(String),
}

/// The typesetter, with its fonts loaded. Cheap to share; build once at start-up.
pub struct Printer {
    engine: TypstEngine,
    source: FontSource,
}

impl Printer {
    /// Loads the fonts from a directory holding `NotoSerifCJK-Regular.ttc` and `-Bold.ttc`
    /// (Debian's fonts-noto-cjk), or, when it holds neither, the subsets shipped in the program.
    /// A folder holding one of the two but not the other is a broken installation, named.
    pub fn load(font_dir: &Path) -> Result<Printer, PrintError> {
        use typst::foundations::Bytes;
        let paths = FONT_FILES.map(|name| font_dir.join(name));
        let (bytes, source): (Vec<Bytes>, FontSource) = if paths.iter().any(|p| p.is_file()) {
            let mut bytes = Vec::new();
            for path in paths {
                match std::fs::read(&path) {
                    Ok(b) => bytes.push(Bytes::new(b)),
                    Err(_) => return Err(PrintError::FontMissing(path)),
                }
            }
            (bytes, FontSource::System(font_dir.to_owned()))
        } else {
            (
                SHIPPED.iter().map(|b| Bytes::new(*b)).collect(),
                FontSource::Shipped,
            )
        };
        let fonts: Vec<typst::text::Font> = bytes
            .into_iter()
            .flat_map(typst::text::Font::iter)
            .collect();
        let engine = TypstEngine::builder()
            .fonts(fonts)
            .with_static_source_file_resolver([
                ("common.typ", COMMON),
                ("registration.typ", REGISTRATION),
                ("agreement.typ", AGREEMENT),
                ("elder.typ", ELDER),
                ("table.typ", TABLE),
                ("probe.typ", PROBE),
            ])
            .build();
        Ok(Printer { engine, source })
    }

    /// The characters of `text` that the forms' fonts would print as an empty box, in the
    /// regular or the bold face (a child's name in a character no font has).
    pub fn unprintable(&self, text: &str) -> Result<Vec<char>, PrintError> {
        let doc = self.layout("probe.typ", text.to_owned())?;
        Ok(unprintable(&doc))
    }

    fn layout(&self, template: &str, data: String) -> Result<PagedDocument, PrintError> {
        let mut inputs = Dict::new();
        inputs.insert("data".into(), data.into_value());
        self.engine
            .compile_with_input(template, inputs)
            .output
            .map_err(|e| PrintError::Typeset(format!("{e:?}")))
    }

    /// Where the fonts came from (said at start-up).
    pub fn font_source(&self) -> &FontSource {
        &self.source
    }

    fn render(&self, template: &str, data: &Value) -> Result<Vec<u8>, PrintError> {
        let doc = self.layout(template, data.to_string())?;
        let missing = unprintable(&doc);
        if !missing.is_empty() {
            let chars: String = missing.iter().collect();
            tracing::warn!(%chars, ?self.source, "a printed form has characters no font draws");
        }
        typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
            .map_err(|e| PrintError::Typeset(format!("{e:?}")))
    }
}

/// The characters a laid-out document drew as the font's empty box (glyph 0), each once.
fn unprintable(doc: &PagedDocument) -> Vec<char> {
    fn walk(frame: &typst::layout::Frame, out: &mut Vec<char>) {
        for (_, item) in frame.items() {
            match item {
                typst::layout::FrameItem::Group(g) => walk(&g.frame, out),
                typst::layout::FrameItem::Text(t) => {
                    for g in t.glyphs.iter().filter(|g| g.id == 0) {
                        out.extend(t.text[g.range()].chars());
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for page in doc.pages() {
        walk(&page.frame, &mut out);
    }
    out.sort_unstable();
    out.dedup();
    out
}

impl FormPrinter for Printer {
    fn registration_forms(&self, forms: &[FormHeading<'_>]) -> Result<Vec<u8>, String> {
        let data: Vec<Value> = forms.iter().map(registration_data).collect();
        self.render("registration.typ", &Value::Array(data))
            .map_err(|e| e.to_string())
    }

    fn agreement(&self, form: &FormHeading<'_>) -> Result<Vec<u8>, String> {
        self.render("agreement.typ", &agreement_data(form))
            .map_err(|e| e.to_string())
    }

    fn table(&self, doc: &PrintedTable) -> Result<Vec<u8>, String> {
        let data = serde_json::to_value(doc).map_err(|e| e.to_string())?;
        self.render("table.typ", &data).map_err(|e| e.to_string())
    }

    fn elder_form(&self, data: &Value) -> Result<Vec<u8>, String> {
        self.render("elder.typ", data).map_err(|e| e.to_string())
    }
}
