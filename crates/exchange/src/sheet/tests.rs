use super::*;

#[test]
fn numbers_display_the_way_excel_shows_them() {
    assert_eq!(Cell::Number(13800138000.0).display(), "13800138000");
    assert_eq!(
        Cell::Number(5.227_302_016_073_1e17).display(),
        "5.22730E+17"
    );
    assert_eq!(Cell::Number(1.5).display(), "1.5");
}

#[test]
fn utf8_is_told_from_gb18030() {
    assert_eq!(sniff_encoding("姓名,性别".as_bytes()), UTF_8);
    let (gbk, _, _) = GB18030.encode("姓名,性别");
    assert_eq!(sniff_encoding(&gbk), GB18030);
    // A UTF-8 sample cut inside a character is still UTF-8.
    let cut = &"姓名".as_bytes()[..4];
    assert_eq!(sniff_encoding(cut), UTF_8);
}

#[test]
fn the_delimiter_is_the_one_the_header_uses() {
    assert_eq!(
        sniff_delimiter("姓名\t性别\t出生日期".as_bytes(), UTF_8),
        b'\t'
    );
    assert_eq!(sniff_delimiter("姓名,性别".as_bytes(), UTF_8), b',');
    assert_eq!(sniff_delimiter("姓名".as_bytes(), UTF_8), b',');
    // A title line above the header does not decide.
    assert_eq!(
        sniff_delimiter("学生名册\n姓名\t性别\t出生日期\n".as_bytes(), UTF_8),
        b'\t'
    );
}
