//! Printed forms (PDF) as the rest of the system sees them: what a form is printed from, and the
//! printer that turns it into a PDF. The printer itself lives in `shouwang-print` (typst), handed
//! to the web server and the CLI at start-up, so neither this crate nor the web crate builds it.

use chrono::NaiveDate;

use shouwang_domain::child::ChildFile;

/// A child's file with what the printed form needs around it.
pub struct FormHeading<'a> {
    pub file: &'a ChildFile,
    /// 填报单位.
    pub unit: String,
    pub filled: NaiveDate,
    /// Whether ID numbers print in full (roles that may see them) or masked.
    pub reveal_ids: bool,
}

/// Turns forms into PDF.
pub trait FormPrinter: Send + Sync {
    /// 《农村留守儿童基本情况登记表》, one child per page, in one PDF.
    fn registration_forms(&self, forms: &[FormHeading<'_>]) -> Result<Vec<u8>, String>;
    /// 《农村留守儿童委托监护责任确认书》 for one child.
    fn agreement(&self, form: &FormHeading<'_>) -> Result<Vec<u8>, String>;
}
