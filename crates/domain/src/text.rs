//! Text normalisation shared by every input path (forms, API, import, linkage).

/// Full-width ASCII variants (Ｕ+FF01..FF5E) and the ideographic space become half-width.
pub fn to_half_width(c: char) -> char {
    match c {
        '\u{3000}' => ' ',
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// Trims, converts full-width letters, digits and signs to ASCII and collapses inner runs of
/// white space to one space. Chinese sentence punctuation (，；：！？) stays as written: "，" is
/// the comma of Chinese text, not a typo of ",".
pub fn clean(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut pending_space = false;
    let keep = |c: char| matches!(c, '，' | '；' | '：' | '！' | '？');
    for c in input
        .chars()
        .map(|c| if keep(c) { c } else { to_half_width(c) })
    {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Free text (a note, how something was checked, a case note) as written: trimmed, its Chinese punctuation and
/// line breaks kept, other control characters dropped.
pub fn free(input: &str) -> String {
    input
        .trim()
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect()
}

#[cfg(test)]
mod free_tests {
    #[test]
    fn free_text_keeps_its_punctuation() {
        assert_eq!(
            super::free(" 询问本人和邻居，查询派出所记录\u{0007}\n "),
            "询问本人和邻居，查询派出所记录"
        );
        assert_eq!(super::free("第一行\n第二行"), "第一行\n第二行");
    }
}

/// Toneless pinyin of a name, syllables joined without spaces ("王小明" → "wangxiaoming"),
/// and the initials ("wxm"). Surnames whose reading differs from the character's common
/// reading use an override table (rust-stack P8).
pub fn name_pinyin(name: &str) -> (String, String) {
    use pinyin::ToPinyin;
    let mut full = String::new();
    let mut initials = String::new();
    let mut rest = name;
    for (surname, reading) in SURNAME_READINGS {
        if let Some(r) = name.strip_prefix(surname) {
            for syllable in reading.split(' ') {
                full.push_str(syllable);
                initials.push_str(&syllable[..1]);
            }
            rest = r;
            break;
        }
    }
    for (c, p) in rest.chars().zip(rest.to_pinyin()) {
        match p {
            Some(p) => {
                full.push_str(p.plain());
                initials.push_str(p.first_letter());
            }
            None if c.is_ascii_alphanumeric() => {
                full.push(c.to_ascii_lowercase());
                initials.push(c.to_ascii_lowercase());
            }
            None => {}
        }
    }
    (full, initials)
}

/// The toneless pinyin of a name's surname ("单小明" → "shan", "尉迟恭" → "yuchi"): the readings
/// table for the surnames read differently, else the first character's common reading.
pub fn surname_pinyin(name: &str) -> String {
    use pinyin::ToPinyin;
    if let Some((_, reading)) = SURNAME_READINGS.iter().find(|(s, _)| name.starts_with(s)) {
        return reading.replace(' ', "");
    }
    name.chars()
        .next()
        .map(|c| match c.to_pinyin() {
            Some(p) => p.plain().to_owned(),
            None => c.to_lowercase().collect(),
        })
        .unwrap_or_default()
}

/// Surname readings that differ from the character's most common reading.
const SURNAME_READINGS: &[(&str, &str)] = &[
    ("尉迟", "yu chi"),
    ("万俟", "mo qi"),
    ("单", "shan"),
    ("曾", "zeng"),
    ("解", "xie"),
    ("仇", "qiu"),
    ("区", "ou"),
    ("查", "zha"),
    ("朴", "piao"),
    ("盖", "ge"),
    ("乐", "yue"),
    ("缪", "miao"),
    ("长孙", "zhang sun"),
    ("覃", "qin"),
    ("折", "she"),
    ("召", "shao"),
    ("种", "chong"),
    ("秘", "bi"),
    ("重", "chong"),
    ("翟", "zhai"),
    ("员", "yun"),
    ("纪", "ji"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_ideographic_spaces_are_cleaned() {
        assert_eq!(clean("　王　小明  Ａ１ "), "王 小明 A1");
    }

    #[test]
    fn chinese_sentence_punctuation_is_kept() {
        assert_eq!(
            clean("已联系父亲，父亲称下周返乡；孩子：暂住姑姑家！"),
            "已联系父亲，父亲称下周返乡；孩子：暂住姑姑家！"
        );
        assert_eq!(clean("１２号（东）"), "12号(东)");
    }

    #[test]
    fn pinyin_uses_surname_readings() {
        assert_eq!(name_pinyin("王小明"), ("wangxiaoming".into(), "wxm".into()));
        assert_eq!(name_pinyin("曾乐").0, "zengle");
        assert_eq!(name_pinyin("单田芳").0, "shantianfang");
        assert_eq!(name_pinyin("解缙").1, "xj");
        assert_eq!(surname_pinyin("单田芳"), "shan");
        assert_eq!(surname_pinyin("尉迟恭"), "yuchi");
        assert_eq!(surname_pinyin("王小明"), "wang");
    }
}

/// Whether two strings are equal, where only a `const fn` may run: tables checked while the
/// program compiles (the form's fields, the sealed columns).
pub const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}
