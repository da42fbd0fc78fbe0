use super::*;

fn row(index: u32, cells: &[&str]) -> Row {
    Row {
        index,
        cells: cells
            .iter()
            .map(|s| {
                if s.is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text((*s).to_owned())
                }
            })
            .collect(),
    }
}

#[test]
fn header_variants_map_to_the_same_field() {
    for h in ["姓名", "儿童姓名", " 姓 名 ", "姓名*"] {
        assert_eq!(key_of_text(h), Some("name"), "{h}");
    }
    for h in [
        "公民身份号码",
        "身份证号",
        "身份证号码",
        "公民身份号码（18位）",
    ] {
        assert_eq!(key_of_text(h), Some("id_number"), "{h}");
    }
    assert_eq!(key_of_text("出生年月"), Some("birth_date"));
    assert_eq!(key_of_text("监护人"), Some("guardian_name"));
    assert_eq!(key_of_text("受委托监护人姓名"), Some("guardian_name"));
    assert_eq!(key_of_text("外出务工地点"), Some("parents_work_place"));
    assert_eq!(key_of_text("父亲务工地点"), Some("father_work_place"));
    assert_eq!(key_of_text("父亲外出务工地"), Some("father_work_place"));
    assert_eq!(key_of_text("母亲外出务工地"), Some("mother_work_place"));
    assert_eq!(key_of_text("务工地点"), Some("parents_work_place"));
    assert_eq!(key_of_text("外出务工所在地"), Some("parents_work_place"));
    assert_eq!(key_of_text("外祖母姓名"), Some("maternal_grandmother_name"));
    assert_eq!(key_of_text("祖母姓名"), Some("paternal_grandmother_name"));
    assert_eq!(key_of_text("乡镇（街道）"), Some("town"));
    assert_eq!(key_of_text("村（居）委会"), Some("village"));
    assert_eq!(key_of_text("村（居）委会联系人"), Some("contact_name"));
    assert_eq!(key_of_text("填表说明"), None);
}

#[test]
fn the_header_is_found_below_title_rows() {
    let rows = vec![
        row(0, &["龙里县农村留守儿童花名册"]),
        row(1, &["填报单位：", "", "填报日期：2026年11月"]),
        row(2, &["序号", "姓名", "性别", "出生日期", "身份证号", "村"]),
        row(3, &["1", "张三", "男", "2016-07-31", "", "播箕村"]),
    ];
    let m = detect(&rows).unwrap();
    assert_eq!((m.header_first, m.header_last), (2, 2));
    assert_eq!(m.column_of("name"), Some(1));
    assert_eq!(m.column_of("village"), Some(5));
}

#[test]
fn two_row_headers_take_the_group_from_the_upper_row() {
    let mut rows = vec![
        row(0, &["姓名", "性别", "父亲", "", "", "受委托监护人情况", ""]),
        row(1, &["", "", "姓名", "出生日期", "务工地点", "姓名", "电话"]),
    ];
    let merges = [
        Merge {
            first_row: 0,
            first_col: 0,
            last_row: 1,
            last_col: 0,
        },
        Merge {
            first_row: 0,
            first_col: 1,
            last_row: 1,
            last_col: 1,
        },
        Merge {
            first_row: 0,
            first_col: 2,
            last_row: 0,
            last_col: 4,
        },
        Merge {
            first_row: 0,
            first_col: 5,
            last_row: 0,
            last_col: 6,
        },
    ];
    fill_merges(&mut rows, &merges);
    let m = detect(&rows).unwrap();
    assert_eq!((m.header_first, m.header_last), (0, 1));
    let keys: Vec<_> = m.columns.iter().map(|c| c.key.clone().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "name",
            "sex",
            "father_name",
            "father_birth_date",
            "father_work_place",
            "guardian_name",
            "guardian_phone"
        ]
    );
    assert_eq!(m.columns[2].title, "父亲/姓名");
}

#[test]
fn no_header_is_found_in_a_sheet_of_numbers() {
    let rows = vec![row(0, &["1", "2", "3"]), row(1, &["4", "5", "6"])];
    assert!(detect(&rows).is_none());
    assert!(is_column_number_row(&rows[0]));
}

#[test]
fn users_can_fix_the_mapping() {
    let rows = vec![row(0, &["姓名", "性别", "出生日期", "村别"])];
    let mut m = detect(&rows).unwrap();
    assert_eq!(m.columns[3].key, None);
    let choice = BTreeMap::from([("村别".to_owned(), "village".to_owned())]);
    m.apply(&choice).unwrap();
    assert_eq!(m.column_of("village"), Some(3));
    let dup = BTreeMap::from([("D".to_owned(), "sex".to_owned())]);
    assert!(m.apply(&dup).unwrap_err().contains("两列"));
    assert_eq!(column_letter(0), "A");
    assert_eq!(column_letter(27), "AB");
}
