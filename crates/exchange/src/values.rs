//! Reading cell values the way people typed them: Excel date serials and dates as text, full-width
//! characters, stray spaces, 男/女 and 1/2, tick marks, the usual words for code-list values — and
//! catching what Excel did to ID numbers it took for numbers.

use chrono::{Datelike, NaiveDate};

use shouwang_domain::id_number::IdNumber;
use shouwang_domain::input::{parse_bool, parse_date};
use shouwang_domain::text;

use crate::columns::Kind;
use crate::sheet::{Cell, format_number};

/// A value read from a cell, as the registration form's text, or why it cannot be read.
pub type Read = Result<Option<String>, String>;

/// Text of a cell for text-like fields: cleaned, numbers without a trailing ".0".
pub fn plain(cell: &Cell) -> Option<String> {
    let s = match cell {
        Cell::Empty => return None,
        Cell::Text(s) => text::clean(s),
        Cell::Number(n) => format_number(*n),
        Cell::Date(d) => d.to_string(),
        Cell::Bool(b) => if *b { "是" } else { "否" }.to_owned(),
    };
    (!s.is_empty()).then_some(s)
}

/// Days since Excel's epoch (1899-12-30, which absorbs the 1900 leap-year bug for dates after
/// 1900-03-01) → a date.
pub fn excel_serial_date(serial: f64) -> Option<NaiveDate> {
    if !(1.0..2_958_466.0).contains(&serial) {
        return None;
    }
    NaiveDate::from_ymd_opt(1899, 12, 30)?.checked_add_days(chrono::Days::new(serial as u64))
}

/// A date as written: a date cell, an Excel serial, 2016-07-31, 2016/7/31, 2016.7.31, 20160731,
/// 2016年7月31日. Year and month alone (2016年7月, 2016.07, 201607) come back as the first of
/// the month with `month_only` set, for the caller to complete from the ID number or refuse.
pub fn date(cell: &Cell) -> Result<Option<(NaiveDate, bool)>, String> {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Date(d) => Ok(Some((*d, false))),
        Cell::Number(n) => {
            // 20160731 typed into a number cell, or a serial date.
            let s = format_number(*n);
            if s.len() == 8
                && let Some(d) = parse_date(&s)
            {
                return Ok(Some((d, false)));
            }
            if s.len() == 6
                && let Some(d) = year_month(&s)
            {
                return Ok(Some((d, true)));
            }
            excel_serial_date(*n)
                .filter(|d| d.year() >= 1900)
                .map(|d| Some((d, false)))
                .ok_or_else(|| format!("“{s}”不是有效日期"))
        }
        Cell::Text(t) => {
            let s = text::clean(t);
            if s.is_empty() {
                return Ok(None);
            }
            if let Some(d) = parse_date(&s) {
                return Ok(Some((d, false)));
            }
            if let Some(d) = year_month(&s) {
                return Ok(Some((d, true)));
            }
            Err(format!("“{s}”不是有效日期（例：2016-07-31）"))
        }
        Cell::Bool(_) => Err("不是日期".to_owned()),
    }
}

fn year_month(s: &str) -> Option<NaiveDate> {
    let digits = s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit());
    let (y, m) = if digits {
        (s[..4].parse().ok()?, s[4..].parse().ok()?)
    } else {
        let parts: Vec<&str> = s
            .split(['-', '/', '.', '年', '月'])
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() != 2 {
            return None;
        }
        (parts[0].parse().ok()?, parts[1].parse().ok()?)
    };
    if !(1900..=2200).contains(&y) {
        return None;
    }
    NaiveDate::from_ymd_opt(y, m, 1)
}

/// 是/否 with the ticks people use: √ ✓ ✔ 是 有 1 for yes; × 否 无 0 or empty for no.
pub fn flag(cell: &Cell) -> Read {
    let Some(s) = plain(cell) else {
        return Ok(None);
    };
    let word = match s.as_str() {
        "住校" | "寄宿生" | "是（寄宿）" => "是",
        "走读" | "不寄宿" | "非寄宿" => "否",
        other => other,
    };
    match parse_bool(word) {
        Some(b) => Ok(Some(if b { "是" } else { "否" }.to_owned())),
        None => Err(format!("“{s}”应为“是”或“否”（可用√表示是）")),
    }
}

/// Why an ID number read from a sheet cannot be trusted, in words a village director follows.
const DAMAGED_BY_EXCEL: &str = "身份证号码被 Excel 当成数字保存，末尾几位已变成0或显示为科学计数法，原号码无法恢复。\
请把该列设置为“文本”格式后重新录入正确号码再导入";

/// An ID number cell. Numbers of 18 digits cannot survive Excel (it keeps 15 significant
/// digits), nor can "5.22730E+17" text written by a CSV export; both are refused as damaged.
/// A 15-digit legacy number stored as a number is still exact and is accepted.
pub fn id_number(cell: &Cell) -> Read {
    match cell {
        Cell::Empty => Ok(None),
        Cell::Number(n) => {
            if n.fract() == 0.0 && (1e14..1e15).contains(n) {
                Ok(Some(format!("{}", *n as i64)))
            } else if *n >= 1e15 {
                Err(format!(
                    "{}（单元格显示为 {}）",
                    DAMAGED_BY_EXCEL,
                    format_number(*n)
                ))
            } else {
                Err(format!("“{}”不是身份证号码", format_number(*n)))
            }
        }
        Cell::Text(t) => {
            let s: String = text::clean(t)
                .chars()
                .filter(|c| !c.is_whitespace() && *c != '\'' && *c != '-')
                .collect();
            if s.is_empty() {
                return Ok(None);
            }
            // Masked numbers (5227**********123X) from an exported roster carry no number.
            if s.contains('*') {
                return Ok(None);
            }
            let upper = s.to_uppercase();
            if is_scientific(&upper) {
                return Err(format!("{DAMAGED_BY_EXCEL}（单元格内容为 {s}）"));
            }
            if upper.len() == 18
                && upper.ends_with("000")
                && upper.bytes().all(|b| b.is_ascii_digit())
                && IdNumber::parse(&upper).is_err()
            {
                return Err(format!("{DAMAGED_BY_EXCEL}（{upper}）"));
            }
            Ok(Some(upper))
        }
        Cell::Date(_) | Cell::Bool(_) => Err("不是身份证号码".to_owned()),
    }
}

fn is_scientific(s: &str) -> bool {
    let Some((mantissa, exp)) = s.split_once('E') else {
        return false;
    };
    let exp = exp.trim_start_matches('+');
    !mantissa.is_empty()
        && mantissa.chars().all(|c| c.is_ascii_digit() || c == '.')
        && !exp.is_empty()
        && exp.chars().all(|c| c.is_ascii_digit())
}

/// Phone numbers typed into number cells lose nothing (11 digits fit); landlines keep their 0
/// only as text.
pub fn phone(cell: &Cell) -> Read {
    Ok(plain(cell))
}

/// Words people write for code-list values → the form's label.
pub fn choice(key: &str, cell: &Cell) -> Read {
    let Some(s) = plain(cell) else {
        return Ok(None);
    };
    let t = s.as_str();
    let mapped: &str = match key {
        "sex" => match t {
            "男" | "男性" | "1" | "M" | "m" => "男",
            "女" | "女性" | "2" | "F" | "f" => "女",
            _ => t,
        },
        "ethnicity" => {
            return Ok(Some(if t.ends_with('族') || t.parse::<u8>().is_ok() {
                s
            } else {
                format!("{t}族")
            }));
        }
        "health" => match t {
            "健康" | "良好" | "正常" | "身体健康" => "健康",
            "残疾" | "残疾人" => "残疾",
            "患病" | "疾病" | "重病" | "大病" => "患病",
            _ => t,
        },
        "schooling" => {
            let core = t
                .trim_end_matches("在读")
                .trim_end_matches("在校")
                .trim_start_matches("在读")
                .trim_start_matches("就读");
            match core {
                "学前" | "学前班" | "幼儿园" | "幼儿园在读" => "幼儿园",
                "未入园" | "未上幼儿园" | "散居" | "未入学" => "未入园",
                "小学" | "一年级" | "二年级" | "三年级" | "四年级" | "五年级" | "六年级" => {
                    "小学"
                }
                "初中" | "初一" | "初二" | "初三" | "七年级" | "八年级" | "九年级" => {
                    "初中"
                }
                "高中" | "高一" | "高二" | "高三" | "普高" => "高中",
                "中职" | "中专" | "职高" | "技校" | "职校" => "中职",
                "辍学" | "失学" | "失学辍学" => "辍学",
                "不在学" | "未在学" | "无业" => "不在学",
                other => other,
            }
        }
        "guardianship_type" => match t {
            "较好" | "监护较好" | "好" => "监护情况较好",
            "一般" | "监护一般" => "监护情况一般",
            "差" => {
                return Err(
                    "“差”包括三种监护类型，请写明：无人监护、父或母无监护能力、受委托监护人监护能力不足"
                        .to_owned(),
                );
            }
            "父母无监护能力" | "父（母）无监护能力" => "父或母无监护能力",
            "委托监护人监护能力不足" | "监护人监护能力不足" => {
                "受委托监护人监护能力不足"
            }
            other => other,
        },
        "guardian_relation" => match t {
            "祖父" | "祖母" | "爷爷" | "奶奶" | "爷爷奶奶" | "祖孙" | "祖父母" => {
                "祖父母"
            }
            "外祖父" | "外祖母" | "外公" | "外婆" | "姥姥" | "姥爷" | "外公外婆" | "外祖父母" => {
                "外祖父母"
            }
            "哥哥" | "姐姐" | "兄" | "姐" | "兄姐" | "兄长" => "兄姐",
            "叔叔" | "伯父" | "伯伯" | "姑姑" | "姑妈" | "舅舅" | "姨" | "姨妈" | "阿姨"
            | "婶婶" | "亲戚" | "亲属" | "其他亲属" => "其他亲属",
            "邻居" | "朋友" | "朋友邻居" | "亲友" => "朋友邻居",
            other => other,
        },
        "hukou_rural" => match t {
            "农村" | "农业" | "农业户口" | "农村户籍" | "农村户口" | "乡村" => {
                "是"
            }
            "城镇" | "非农业" | "非农业户口" | "城镇户籍" | "城镇户口" | "居民户口" =>
            {
                // 2014 起城乡统一登记为“居民户口”; the rural tie (land, homestead) decides, so
                // a plain 居民户口 is left to the person to tick.
                if t == "居民户口" {
                    return Err("“居民户口”不能说明是否农村户籍，请填“农村”或“城镇”".to_owned());
                }
                "否"
            }
            other => return flag(&Cell::Text(other.to_owned())),
        },
        "father_status" | "mother_status" => match t {
            "健在" | "在世" | "是" => "健在",
            "已故" | "去世" | "死亡" | "否" | "—" | "-" => "已故",
            "不详" | "不知" | "未知" => "不详",
            other => other,
        },
        "father_situation" | "mother_situation" => match t {
            "外出" | "外出务工" | "务工" | "打工" | "外出打工" => "外出务工",
            "在家" | "在家务农" | "务农" => "在家",
            "无监护能力" | "在家无监护能力" | "在家但无监护能力" => {
                "在家但无监护能力"
            }
            "失联" | "下落不明" | "离家出走" => "失联",
            // 民发〔2019〕62号's situations, as rosters write them.
            "服刑" | "服刑在押" | "在押" | "坐牢" | "监狱服刑" | "判刑" | "服刑人员" => {
                "服刑在押"
            }
            "戒毒" | "强制戒毒" | "强制隔离戒毒" | "强戒" => "强制隔离戒毒",
            "拘留" | "羁押" | "被羁押" | "限制人身自由" => {
                "被执行其他限制人身自由的措施"
            }
            // 已故 / 不详 are the parent's status; the reader moves them there.
            "已故" | "去世" | "死亡" | "—" | "-" => "已故",
            "不详" | "不知" | "未知" => "不详",
            other => other,
        },
        "father_incapacity" | "mother_incapacity" => match t {
            "重病" | "患重病" | "大病" => "重病",
            "重残" | "残疾" | "重度残疾" => "重残",
            other => other,
        },
        "left_behind_type" => match t {
            "父母双方外出" | "双方外出" | "父母均外出" | "父母双方同时外出" | "双亲外出" => {
                "both_away"
            }
            "一方外出另一方无监护能力"
            | "父母一方外出另一方无监护能力"
            | "一方外出、另一方无监护能力"
            | "父母一方外出、另一方无监护能力"
            | "一方外出" => "one_away_other_unable",
            _ => {
                return Err(format!(
                    "留守类型“{t}”应为“父母双方外出”或“一方外出、另一方无监护能力”"
                ));
            }
        },
        "incapable_parent" => match t {
            "父" | "父亲" => "父亲",
            "母" | "母亲" => "母亲",
            _ => return Err(format!("无监护能力一方“{t}”应为“父亲”或“母亲”")),
        },
        "disability_grade" => match t {
            "1" | "一" | "一级" | "1级" => "一级",
            "2" | "二" | "二级" | "2级" => "二级",
            "3" | "三" | "三级" | "3级" => "三级",
            "4" | "四" | "四级" | "4级" => "四级",
            other => other,
        },
        "disability_category" => match t {
            "视力" | "视力残疾" | "盲" => "视力残疾",
            "听力" | "听力残疾" | "聋" => "听力残疾",
            "言语" | "言语残疾" | "语言残疾" => "言语残疾",
            "肢体" | "肢体残疾" => "肢体残疾",
            "智力" | "智力残疾" | "智障" => "智力残疾",
            "精神" | "精神残疾" => "精神残疾",
            "多重" | "多重残疾" => "多重残疾",
            other => other,
        },
        _ => t,
    };
    Ok(Some(mapped.to_owned()))
}

/// 肢体残疾二级 / 肢体二级 / 智力残疾3级 → (category, grade).
pub fn disability(cell: &Cell) -> Result<(Option<String>, Option<String>), String> {
    let Some(s) = plain(cell) else {
        return Ok((None, None));
    };
    let s = s.replace([' ', '，', ',', '、'], "");
    for (i, _) in s.char_indices().rev() {
        let (cat, grade) = s.split_at(i);
        if let (Ok(Some(c)), Ok(Some(g))) = (
            choice("disability_category", &Cell::Text(cat.to_owned())),
            choice("disability_grade", &Cell::Text(grade.to_owned())),
        ) && c.ends_with("残疾")
            && g.ends_with('级')
        {
            return Ok((Some(c), Some(g)));
        }
    }
    let whole = choice("disability_category", &Cell::Text(s.clone()))?;
    match whole {
        Some(c) if c.ends_with("残疾") => Ok((Some(c), None)),
        _ => Err(format!("“{s}”应写成残疾类别和等级，例如“肢体残疾二级”")),
    }
}

/// Multi-select cells: values separated by 、，,;； / or spaces, each read with its variants.
pub fn multi(key: &str, cell: &Cell) -> Result<Option<Vec<String>>, String> {
    let Some(s) = plain(cell) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    for part in s
        .split(['、', '，', ',', ';', '；', '/', ' ', '+'])
        .filter(|p| !p.is_empty())
    {
        let v = match (key, part) {
            ("income_sources", "打工" | "务工" | "务工收入" | "外出务工" | "工资") => {
                "打工收入"
            }
            ("income_sources", "种植" | "养殖" | "种养殖" | "种养" | "务农" | "农业") => {
                "种养殖业"
            }
            ("income_sources", "救助" | "政府补助" | "低保" | "政府救济") => "政府救助",
            ("income_sources", "亲友接济" | "亲朋" | "亲戚接济") => "亲朋接济",
            ("assistance", "低保" | "农村低保" | "最低生活保障") => "享受低保",
            ("assistance", "临时" | "临时救助金") => "临时救助",
            ("assistance", "医疗" | "医疗救助金") => "医疗救助",
            ("assistance", "住房" | "危房改造") => "住房救助",
            ("assistance", "特困" | "特困人员" | "五保") => "特困供养",
            ("assistance", "无" | "没有") => continue,
            ("harm", "虐待" | "受虐待" | "遭虐待") => "遭受虐待",
            ("harm", "遗弃" | "被遗弃") => "遭受遗弃",
            ("harm", "意外伤害" | "意外受伤") => "遭受意外伤害",
            ("harm", "不法侵害" | "侵害" | "遭受侵害") => "遭受不法侵害",
            ("harm", "无" | "没有") => continue,
            (_, other) => other,
        };
        if !out.iter().any(|o| o == v) {
            out.push(v.to_owned());
        }
    }
    Ok(Some(out))
}

/// Reads a cell by its column kind (the place kinds are resolved by `places`).
pub fn read(kind: Kind, key: &str, cell: &Cell) -> Read {
    match kind {
        Kind::Text | Kind::Village | Kind::Town | Kind::WorkPlace | Kind::Ignored => {
            Ok(plain(cell))
        }
        Kind::Date => Ok(date(cell)?.map(|(d, _)| d.to_string())),
        Kind::Bool => flag(cell),
        Kind::IdNumber => id_number(cell),
        Kind::Phone => phone(cell),
        Kind::Choice => choice(key, cell),
        Kind::Multi => Ok(multi(key, cell)?.map(|v| v.join("、"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Cell {
        Cell::Text(s.to_owned())
    }

    #[test]
    fn dates_are_read_as_people_write_them() {
        let d = NaiveDate::from_ymd_opt(2016, 7, 31).unwrap();
        for s in [
            "2016-07-31",
            "2016/7/31",
            "2016.7.31",
            "20160731",
            "2016年7月31日",
            "２０１６－０７－３１",
            " 2016-07-31 ",
        ] {
            assert_eq!(date(&t(s)), Ok(Some((d, false))), "{s}");
        }
        assert_eq!(date(&Cell::Number(42582.0)), Ok(Some((d, false))));
        assert_eq!(date(&Cell::Number(20160731.0)), Ok(Some((d, false))));
        assert_eq!(date(&Cell::Date(d)), Ok(Some((d, false))));
        let july = NaiveDate::from_ymd_opt(2016, 7, 1).unwrap();
        assert_eq!(date(&t("2016年7月")), Ok(Some((july, true))));
        assert_eq!(date(&t("2016.07")), Ok(Some((july, true))));
        assert!(date(&t("去年")).is_err());
    }

    #[test]
    fn ticks_and_words_are_flags() {
        for s in ["√", "✓", "是", "有", "1"] {
            assert_eq!(flag(&t(s)), Ok(Some("是".into())), "{s}");
        }
        for s in ["×", "否", "无", "0"] {
            assert_eq!(flag(&t(s)), Ok(Some("否".into())), "{s}");
        }
        assert_eq!(flag(&Cell::Empty), Ok(None));
        assert!(flag(&t("也许")).is_err());
    }

    #[test]
    fn id_numbers_damaged_by_excel_are_refused_with_a_reason() {
        // 18 digits stored as a number: Excel kept 15 significant digits.
        let e = id_number(&Cell::Number(522_730_201_607_310_000.0)).unwrap_err();
        assert!(e.contains("科学计数法") && e.contains("5.22730E+17"), "{e}");
        let e = id_number(&t("5.22730E+17")).unwrap_err();
        assert!(e.contains("文本"), "{e}");
        let e = id_number(&t("522730201607310000")).unwrap_err();
        assert!(e.contains("变成0"), "{e}");
        // A legacy 15-digit number survives as a number.
        assert_eq!(
            id_number(&Cell::Number(522_730_160_731_002.0)),
            Ok(Some("522730160731002".into()))
        );
        assert_eq!(
            id_number(&t("５２２７３０２０１６０７３１００２ｘ")),
            Ok(Some("52273020160731002X".into()))
        );
        assert_eq!(id_number(&t("5227**********123X")), Ok(None));
    }

    #[test]
    fn code_list_words_are_understood() {
        assert_eq!(choice("sex", &Cell::Number(2.0)), Ok(Some("女".into())));
        assert_eq!(choice("ethnicity", &t("苗")), Ok(Some("苗族".into())));
        assert_eq!(choice("schooling", &t("小学在读")), Ok(Some("小学".into())));
        assert_eq!(choice("schooling", &t("初二")), Ok(Some("初中".into())));
        assert_eq!(
            choice("guardian_relation", &t("奶奶")),
            Ok(Some("祖父母".into()))
        );
        assert!(choice("guardianship_type", &t("差")).is_err());
        assert_eq!(
            multi("income_sources", &t("打工、种植")),
            Ok(Some(vec!["打工收入".into(), "种养殖业".into()]))
        );
        assert_eq!(
            disability(&t("肢体残疾二级")),
            Ok((Some("肢体残疾".into()), Some("二级".into())))
        );
        assert_eq!(
            disability(&t("智力3级")),
            Ok((Some("智力残疾".into()), Some("三级".into())))
        );
    }
}
