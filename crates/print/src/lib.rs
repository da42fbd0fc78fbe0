//! Printed forms as PDF: 《农村留守儿童基本情况登记表》 (one child or a whole village in one file)
//! and 《农村留守儿童委托监护责任确认书》, typeset by typst with Noto Serif CJK SC embedded.
//!
//! This crate stands apart so typst, a large dependency tree, stays out of the other crates'
//! builds. The fonts are read once at start-up from Debian's `fonts-noto-cjk`; a missing font is
//! an error at start-up that names the file, not a blank PDF later.

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

const COMMON: &str = include_str!("../templates/common.typ");
const REGISTRATION: &str = include_str!("../templates/registration.typ");
const AGREEMENT: &str = include_str!("../templates/agreement.typ");
const TABLE: &str = include_str!("../templates/table.typ");

#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error(
        "找不到打印所需的中文字体文件 {0}：请安装 Debian 软件包 fonts-noto-cjk（apt-get install fonts-noto-cjk），或用 --font-dir 指定字体目录"
    )]
    FontMissing(PathBuf),
    #[error("排版失败：{0}")]
    Typeset(String),
}

/// The typesetter, with its fonts loaded. Cheap to share; build once at start-up.
pub struct Printer {
    engine: TypstEngine,
}

impl Printer {
    /// Loads the fonts from a directory holding `NotoSerifCJK-Regular.ttc` and `-Bold.ttc`.
    pub fn load(font_dir: &Path) -> Result<Printer, PrintError> {
        let mut fonts = Vec::new();
        for name in FONT_FILES {
            let path = font_dir.join(name);
            let bytes = std::fs::read(&path).map_err(|_| PrintError::FontMissing(path))?;
            fonts.push(typst::text::Font::iter(typst::foundations::Bytes::new(
                bytes,
            )));
        }
        let fonts: Vec<typst::text::Font> = fonts.into_iter().flatten().collect();
        let engine = TypstEngine::builder()
            .fonts(fonts)
            .with_static_source_file_resolver([
                ("common.typ", COMMON),
                ("registration.typ", REGISTRATION),
                ("agreement.typ", AGREEMENT),
                ("table.typ", TABLE),
            ])
            .build();
        Ok(Printer { engine })
    }

    fn render(&self, template: &str, data: &Value) -> Result<Vec<u8>, PrintError> {
        let mut inputs = Dict::new();
        inputs.insert("data".into(), data.to_string().into_value());
        let doc: PagedDocument = self
            .engine
            .compile_with_input(template, inputs)
            .output
            .map_err(|e| PrintError::Typeset(format!("{e:?}")))?;
        typst_pdf::pdf(&doc, &typst_pdf::PdfOptions::default())
            .map_err(|e| PrintError::Typeset(format!("{e:?}")))
    }
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
}
