//! Problems with a file as a whole: nothing of it can be imported. Messages are Chinese
//! and say what to do, so the web layer can show them as they are.

use super::{MAX_FILE_BYTES, zip_limit::MAX_UNPACKED_BYTES};

/// Why a whole file was refused (row problems are in the [`super::ImportReport`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("文件有 {size} 字节，超过了 {MAX_FILE_BYTES} 字节（10 MiB）的上限，请分批导入")]
    TooLarge { size: usize },

    #[error(
        "不支持文件“{file_name}”的类型：请上传 .xlsx 或 .csv 文件（.xls 等格式请先在 Excel 中另存为 .xlsx）"
    )]
    UnsupportedType { file_name: String },

    #[error(
        "文件不是 UTF-8 编码的 CSV：请在 Excel 中选择“另存为 → CSV UTF-8（逗号分隔）”，或改用 .xlsx 文件"
    )]
    NotUtf8Csv,

    /// The CSV reader gave up; `detail` is its English message, for logs.
    #[error("CSV 文件第 {row} 行格式有误，无法读取")]
    BadCsv { row: usize, detail: String },

    /// Not a readable XLSX workbook; `detail` is the reader's English message, for logs.
    #[error("无法读取该文件：请上传用 Excel 或 WPS 保存的 .xlsx 工作簿（不支持加密文件）")]
    NotXlsx { detail: String },

    #[error("XLSX 文件解压后超过 {MAX_UNPACKED_BYTES} 字节，无法导入，请分批导入")]
    TooLargeUnpacked,

    #[error("工作簿中没有工作表")]
    NoSheet,

    /// The headers do not match the template: every missing required, unknown and
    /// repeated header is listed.
    #[error("{}", layout_message(sheet, missing, unknown, repeated))]
    WrongLayout {
        sheet: String,
        missing: Vec<String>,
        unknown: Vec<String>,
        repeated: Vec<String>,
    },

    /// A cell has content in a column without a header.
    #[error("“{sheet}”工作表的 {column} 列有内容但没有表头：请删除该列内容或填写正确的表头")]
    UnnamedColumn { sheet: String, column: String },

    #[error("“{sheet}”工作表的数据超过了 {limit} 行，请分批导入")]
    TooManyRows { sheet: String, limit: usize },

    #[error("“{sheet}”工作表的内容超过了 {limit} 列，请使用导入模板")]
    TooManyColumns { sheet: String, limit: usize },

    /// Writing an XLSX file failed; the text is the writer's English message.
    #[error("生成 XLSX 文件失败：{0}")]
    Write(String),
}

fn layout_message(
    sheet: &str,
    missing: &[String],
    unknown: &[String],
    repeated: &[String],
) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("缺少必填列：{}", missing.join("、")));
    }
    if !unknown.is_empty() {
        parts.push(format!("无法识别的列：{}", unknown.join("、")));
    }
    if !repeated.is_empty() {
        parts.push(format!("重复的列：{}", repeated.join("、")));
    }
    format!(
        "“{sheet}”工作表的表头与模板不符（{}）。请下载导入模板，按模板的表头填写",
        parts.join("；")
    )
}
