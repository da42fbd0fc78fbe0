//! The child file (一人一档): the national 《农村留守儿童基本情况登记表》 (民发〔2016〕42号 附件1,
//! 景洪 000 附件1; domain-research §1.1), as one typed value.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::code_enum;
use crate::id_number::IdNumber;
use crate::person::{Ethnicity, PersonName, PhoneNumber, Sex};
use crate::region::RegionCode;

code_enum! {
    /// 身体情况 (single tick). 患病 means 重特大疾病 or 严重精神障碍 (附件3 note).
    pub enum HealthStatus {
        Healthy = ("healthy", "健康"),
        Disabled = ("disabled", "残疾"),
        Ill = ("ill", "患病"),
    }
}

code_enum! {
    /// 残疾类别 as on the 残疾人证.
    pub enum DisabilityCategory {
        Visual = ("visual", "视力残疾"),
        Hearing = ("hearing", "听力残疾"),
        Speech = ("speech", "言语残疾"),
        Physical = ("physical", "肢体残疾"),
        Intellectual = ("intellectual", "智力残疾"),
        Mental = ("mental", "精神残疾"),
        Multiple = ("multiple", "多重残疾"),
    }
}

code_enum! {
    /// 残疾等级 一级 (most severe) to 四级.
    pub enum DisabilityGrade {
        One = ("1", "一级"),
        Two = ("2", "二级"),
        Three = ("3", "三级"),
        Four = ("4", "四级"),
    }
}

code_enum! {
    /// 就学情况 (single tick). 附件1 note 6: 辍学 = left compulsory education; 不在学 = aged 14–16
    /// and not in school.
    pub enum Schooling {
        Kindergarten = ("kindergarten", "幼儿园"),
        NotInKindergarten = ("not_in_kindergarten", "未入园"),
        Primary = ("primary", "小学"),
        JuniorHigh = ("junior_high", "初中"),
        SeniorHigh = ("senior_high", "高中"),
        Vocational = ("vocational", "中职"),
        DroppedOut = ("dropped_out", "辍学"),
        NotInSchool = ("not_in_school", "不在学"),
    }
}

impl Schooling {
    pub fn in_school(self) -> bool {
        matches!(
            self,
            Schooling::Kindergarten
                | Schooling::Primary
                | Schooling::JuniorHigh
                | Schooling::SeniorHigh
                | Schooling::Vocational
        )
    }
}

code_enum! {
    /// Whether a relative is known, dead ("—" on the form, note 4) or not known.
    pub enum KinStatus {
        Alive = ("alive", "健在"),
        Deceased = ("deceased", "已故"),
        Unknown = ("unknown", "不详"),
    }
}

code_enum! {
    /// Where a living parent is: away for work, at home and able to care, at home without
    /// guardianship capacity (沈阳 002 一: 因重病、重残等原因丧失监护能力), missing, or deprived
    /// of liberty — the situations 民发〔2019〕62号 names for 事实无人抚养儿童 (服刑在押、强制隔离
    /// 戒毒、被执行其他限制人身自由的措施; issue 27, domain-research §2.1).
    pub enum ParentSituation {
        AwayForWork = ("away_for_work", "外出务工"),
        AtHome = ("at_home", "在家"),
        Incapable = ("incapable", "在家但无监护能力"),
        Missing = ("missing", "失联"),
        Imprisoned = ("imprisoned", "服刑在押"),
        CompulsoryRehab = ("compulsory_rehab", "强制隔离戒毒"),
        Restricted = ("restricted", "被执行其他限制人身自由的措施"),
    }
}

impl ParentSituation {
    /// Away from the child by a measure that takes their liberty: they cannot care for the child.
    pub fn deprived_of_liberty(self) -> bool {
        matches!(
            self,
            ParentSituation::Imprisoned
                | ParentSituation::CompulsoryRehab
                | ParentSituation::Restricted
        )
    }
}

code_enum! {
    /// What a child suffered "因家庭监护缺失或监护不当" — the third category of 困境儿童 (国发〔2016〕
    /// 36号 as issue 27 quotes it: 遭受虐待、遗弃、意外伤害、不法侵害). A stated fact: a report's
    /// suspicion is not it.
    pub enum Harm {
        Abuse = ("abuse", "遭受虐待"),
        Abandonment = ("abandonment", "遭受遗弃"),
        AccidentalInjury = ("accidental_injury", "遭受意外伤害"),
        UnlawfulHarm = ("unlawful_harm", "遭受不法侵害"),
    }
}

code_enum! {
    /// Why a parent at home has no guardianship capacity (沈阳 002 一).
    pub enum IncapacityReason {
        SeriousIllness = ("serious_illness", "重病"),
        SevereDisability = ("severe_disability", "重残"),
        Other = ("other", "其他原因"),
    }
}

code_enum! {
    /// 受委托监护人与被监护人关系.
    pub enum GuardianRelation {
        Grandparent = ("grandparent", "祖父母"),
        MaternalGrandparent = ("maternal_grandparent", "外祖父母"),
        Sibling = ("sibling", "兄姐"),
        OtherRelative = ("other_relative", "其他亲属"),
        FriendNeighbour = ("friend_neighbour", "朋友邻居"),
        Other = ("other", "其他"),
    }
}

impl GuardianRelation {
    /// The relation a word of kinship names, as rosters write it where the carer's name or the
    /// relation goes (奶奶, 外婆, 姑姑, 邻居…): the child's point of view, 附件1's categories.
    pub fn from_word(word: &str) -> Option<GuardianRelation> {
        use GuardianRelation::*;
        let w = crate::text::clean(word);
        let w = w
            .trim_start_matches('其')
            .trim_end_matches("照料")
            .trim_end_matches("照顾");
        Some(match w {
            "爷爷" | "奶奶" | "祖父" | "祖母" | "爷爷奶奶" | "爷奶" | "祖父母" => {
                Grandparent
            }
            "外公" | "外婆" | "姥姥" | "姥爷" | "外祖父" | "外祖母" | "外公外婆" | "外祖父母" => {
                MaternalGrandparent
            }
            "哥哥" | "姐姐" | "兄" | "姐" | "兄长" | "兄姐" | "哥" => Sibling,
            "叔叔" | "叔" | "伯伯" | "伯父" | "伯母" | "婶婶" | "婶" | "姑姑" | "姑妈" | "姑"
            | "姑父" | "舅舅" | "舅" | "舅妈" | "姨妈" | "姨" | "小姨" | "姨父" | "大伯"
            | "叔父" | "亲戚" | "亲属" | "其他亲属" | "堂哥" | "堂姐" | "表哥" | "表姐" => {
                OtherRelative
            }
            "邻居" | "朋友" | "亲友" | "亲友邻居" | "朋友邻居" => FriendNeighbour,
            _ => return None,
        })
    }
}

code_enum! {
    /// 监护类型 (single tick, 附件1).
    pub enum GuardianshipType {
        Unsupervised = ("unsupervised", "无人监护"),
        ParentIncapable = ("parent_incapable", "父或母无监护能力"),
        EntrustedInsufficient = ("entrusted_insufficient", "受委托监护人监护能力不足"),
        Fair = ("fair", "监护情况一般"),
        Good = ("good", "监护情况较好"),
    }
}

code_enum! {
    /// 监护情况评估, three levels (附件1 note 5).
    pub enum GuardianshipAssessment {
        Good = ("good", "较好"),
        Fair = ("fair", "一般"),
        Poor = ("poor", "差"),
    }
}

impl GuardianshipType {
    /// 附件1 note 5: 无人监护 / 父或母无监护能力 / 受委托监护人监护能力不足 are 差.
    pub fn assessment(self) -> GuardianshipAssessment {
        match self {
            GuardianshipType::Unsupervised
            | GuardianshipType::ParentIncapable
            | GuardianshipType::EntrustedInsufficient => GuardianshipAssessment::Poor,
            GuardianshipType::Fair => GuardianshipAssessment::Fair,
            GuardianshipType::Good => GuardianshipAssessment::Good,
        }
    }
}

code_enum! {
    /// 家庭经济来源 (multi-select).
    pub enum IncomeSource {
        Wages = ("wages", "打工收入"),
        Farming = ("farming", "种养殖业"),
        GovernmentAid = ("government_aid", "政府救助"),
        Relatives = ("relatives", "亲朋接济"),
        Other = ("other", "其他"),
    }
}

code_enum! {
    /// 救助帮扶情况 (multi-select). 特困供养 is not a tick on the 2016 form (it prints under 其他救助)
    /// but decides the 生活困难 flag, so it is kept apart.
    pub enum Assistance {
        Dibao = ("dibao", "享受低保"),
        TemporaryAid = ("temporary_aid", "临时救助"),
        MedicalAid = ("medical_aid", "医疗救助"),
        HousingAid = ("housing_aid", "住房救助"),
        ExtremePoverty = ("extreme_poverty", "特困供养"),
        Other = ("other", "其他救助"),
    }
}

code_enum! {
    /// Key-target flags that only a person can judge.
    pub enum ManualFlag {
        Withdrawn = ("withdrawn", "性格孤僻"),
        BadTendencies = ("bad_tendencies", "不良倾向"),
        Victimised = ("victimised", "遭受侵害"),
    }
}

code_enum! {
    /// Which parent has no guardianship capacity, or is otherwise unable to care.
    pub enum WhichParent {
        Father = ("father", "父亲"),
        Mother = ("mother", "母亲"),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Blank when nobody said (待补充): never taken as 健康.
    #[serde(default)]
    pub status: Option<HealthStatus>,
    pub disability_category: Option<DisabilityCategory>,
    pub disability_grade: Option<DisabilityGrade>,
    pub illness: Option<String>,
}

/// A grandparent: name and birth date when alive; "deceased" is distinct from "unknown".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kin {
    pub status: KinStatus,
    pub name: Option<PersonName>,
    pub birth_date: Option<NaiveDate>,
}

impl Kin {
    pub fn unknown() -> Kin {
        Kin {
            status: KinStatus::Unknown,
            name: None,
            birth_date: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parent {
    pub status: KinStatus,
    pub name: Option<PersonName>,
    pub birth_date: Option<NaiveDate>,
    pub id_number: Option<IdNumber>,
    /// Only meaningful while alive.
    pub situation: Option<ParentSituation>,
    pub incapacity: Option<IncapacityReason>,
    /// 当前务工地点 to 省 + 市 level (附件1 note 7): a province or prefecture code.
    pub work_place: Option<RegionCode>,
    pub phone: Option<PhoneNumber>,
}

impl Parent {
    pub fn is_away_for_work(&self) -> bool {
        self.status == KinStatus::Alive && self.situation == Some(ParentSituation::AwayForWork)
    }
    /// A stated fact that this parent cannot care for the child at home:
    /// - at home without guardianship capacity — 沈阳 002 一: 因重病、重残等原因丧失监护能力;
    /// - deceased or missing (失联) — the seeds do not name them, but 龙里 003 四 defines the
    ///   children it protects as those "无法与父母正常共同生活", which a child whose one parent is
    ///   away and the other dead or gone is;
    /// - deprived of liberty (服刑在押、强制隔离戒毒、其他限制人身自由的措施), for the same reason.
    ///
    /// A parent about whom nothing is stated is *not* unable to care ([`Parent::is_unknown`]):
    /// a blank on the form is not a fact, and the child waits on the 信息不全 list until it is known.
    pub fn unable_to_care(&self) -> bool {
        match self.status {
            KinStatus::Deceased => true,
            KinStatus::Unknown => false,
            KinStatus::Alive => matches!(
                self.situation,
                Some(
                    ParentSituation::Incapable
                        | ParentSituation::Missing
                        | ParentSituation::Imprisoned
                        | ParentSituation::CompulsoryRehab
                        | ParentSituation::Restricted
                )
            ),
        }
    }
    /// Nothing is known of where this parent is: status 不详, or alive with no situation given.
    pub fn is_unknown(&self) -> bool {
        match self.status {
            KinStatus::Unknown => true,
            KinStatus::Deceased => false,
            KinStatus::Alive => self.situation.is_none(),
        }
    }
    pub fn capable_at_home(&self) -> bool {
        self.status == KinStatus::Alive && self.situation == Some(ParentSituation::AtHome)
    }
}

/// 受委托监护人.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntrustedGuardian {
    /// Unknown when the file names the carer only by a relation (监护人：奶奶) or not at all.
    pub name: Option<PersonName>,
    pub phone: Option<PhoneNumber>,
    pub id_number: Option<IdNumber>,
    /// Unknown when the file does not say it: the file is then 待补充, not refused.
    pub relation: Option<GuardianRelation>,
    pub address: Option<String>,
}

/// 村(居)委会联系人.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: Option<PersonName>,
    pub phone: Option<PhoneNumber>,
}

/// 实际监护情况, derived from the parents' facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "unable")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ActualGuardianship {
    /// 父母双方同时外出
    BothAway,
    /// 父母一方外出、另一方无监护能力 (which one cannot care)
    OneAwayOtherUnable(WhichParent),
    /// At least one parent cares for the child at home, or neither is away for work: not left
    /// behind.
    ParentAtHome,
    /// The facts do not decide it: no parent is known to care at home and a parent's situation
    /// is not known (for instance the father away, the mother left blank).
    Unknown,
}

/// The whole file of one child, as on the registration form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChildFile {
    // 个人基本情况
    pub name: PersonName,
    pub sex: Sex,
    /// `None` when the form leaves it blank (信息不全).
    pub ethnicity: Option<Ethnicity>,
    pub birth_date: NaiveDate,
    pub id_number: Option<IdNumber>,
    /// 是否登记户口; `None` when the form does not say (a missing ID number alone does not say
    /// the child has no hukou: many rural children have a hukou and no ID card yet).
    pub hukou_registered: Option<bool>,
    /// 农村户籍 (沈阳 002 一: land or homestead in the village, belongs to the village committee);
    /// `None` when not stated — never assumed, since the definition requires it.
    pub hukou_rural: Option<bool>,
    pub hukou_place: Option<String>,
    /// Where the child lives now: the village (12-digit code) whose 儿童主任 looks after them.
    pub village_code: RegionCode,
    pub residence_address: Option<String>,
    pub health: Health,
    /// Blank when nobody said (待补充).
    #[serde(default)]
    pub boarding: Option<bool>,
    /// `None` when the form leaves it blank (待补充; the 汇总表 cannot place the child until known).
    pub schooling: Option<Schooling>,
    pub school_name: Option<String>,
    /// 脱离监护单独居住 (沈阳 002 三: 不得让不满16周岁的儿童脱离监护单独居住生活).
    /// Blank when nobody said (待补充): never taken as "no".
    #[serde(default)]
    pub living_alone: Option<bool>,
    // 家庭情况
    pub paternal_grandfather: Kin,
    pub paternal_grandmother: Kin,
    pub maternal_grandfather: Kin,
    pub maternal_grandmother: Kin,
    pub father: Parent,
    pub mother: Parent,
    /// 父母外出是否委托其他监护人 (附件1): blank when nobody said (待补充; the 汇总表 cannot place
    /// the child in its columns 26–29 until known) — never taken as "no". Files written before
    /// it was kept on its own hold no value: they named a carer or they did not, and whether "no
    /// carer" was stated or a form's default cannot be told, so they read as blank unless they
    /// name one (see [`ChildFile::entrusted`]).
    #[serde(default)]
    pub entrusted: Option<bool>,
    /// 受委托监护人: present when the parents entrusted someone (what is known of them).
    pub entrusted_guardian: Option<EntrustedGuardian>,
    // 监护类型
    /// `None` when the form leaves it blank (待补充).
    pub guardianship_type: Option<GuardianshipType>,
    // 家庭经济来源 / 救助帮扶情况
    pub income_sources: BTreeSet<IncomeSource>,
    pub assistance: BTreeSet<Assistance>,
    pub contact: Contact,
    pub manual_flags: BTreeSet<ManualFlag>,
    /// 遭受侵害情况 as stated by a person (困境儿童's third category); empty when nobody stated
    /// any — which is "not known", never "none".
    #[serde(default)]
    pub harm: BTreeSet<Harm>,
    pub remarks: Option<String>,
}

impl ChildFile {
    /// Whether the parents entrusted another guardian: as stated, or (a file written before it
    /// was kept on its own) yes when the file names a carer, else not known.
    pub fn entrusted(&self) -> Option<bool> {
        self.entrusted
            .or(self.entrusted_guardian.is_some().then_some(true))
    }

    pub fn actual_guardianship(&self) -> ActualGuardianship {
        let (f, m) = (&self.father, &self.mother);
        if f.is_away_for_work() && m.is_away_for_work() {
            ActualGuardianship::BothAway
        } else if f.is_away_for_work() && m.unable_to_care() {
            ActualGuardianship::OneAwayOtherUnable(WhichParent::Mother)
        } else if m.is_away_for_work() && f.unable_to_care() {
            ActualGuardianship::OneAwayOtherUnable(WhichParent::Father)
        } else if f.capable_at_home() || m.capable_at_home() {
            ActualGuardianship::ParentAtHome
        } else if f.is_unknown() || m.is_unknown() {
            ActualGuardianship::Unknown
        } else {
            ActualGuardianship::ParentAtHome
        }
    }

    /// 监护情况评估, known once the 监护类型 is.
    pub fn assessment(&self) -> Option<GuardianshipAssessment> {
        self.guardianship_type.map(GuardianshipType::assessment)
    }

    /// The name's toneless pinyin and initials, for search.
    pub fn name_pinyin(&self) -> (String, String) {
        crate::text::name_pinyin(self.name.as_str())
    }
}
