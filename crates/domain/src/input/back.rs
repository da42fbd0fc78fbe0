//! The way back from a file to the form: what an edit form or a PATCH starts from, and how a
//! partial input lies over it.

use super::ChildInput;
use crate::child::*;

impl ChildInput {
    /// The form as it would be filled from an existing file (for edit forms and PATCH).
    pub fn from_file(f: &ChildFile) -> ChildInput {
        fn s<T: ToString>(v: &Option<T>) -> Option<String> {
            v.as_ref().map(ToString::to_string)
        }
        fn b(v: bool) -> Option<String> {
            Some(if v { "true" } else { "false" }.to_owned())
        }
        fn kin(k: &Kin) -> (Option<String>, Option<String>, Option<String>) {
            (
                Some(k.status.code().to_owned()),
                s(&k.name),
                s(&k.birth_date),
            )
        }
        let (pgf_s, pgf_n, pgf_b) = kin(&f.paternal_grandfather);
        let (pgm_s, pgm_n, pgm_b) = kin(&f.paternal_grandmother);
        let (mgf_s, mgf_n, mgf_b) = kin(&f.maternal_grandfather);
        let (mgm_s, mgm_n, mgm_b) = kin(&f.maternal_grandmother);
        let g = f.entrusted_guardian.as_ref();
        ChildInput {
            name: Some(f.name.to_string()),
            sex: Some(f.sex.label().to_owned()),
            ethnicity: f.ethnicity.map(|e| e.code()),
            birth_date: Some(f.birth_date.to_string()),
            id_number: s(&f.id_number),
            hukou_registered: f.hukou_registered.and_then(b),
            hukou_rural: f.hukou_rural.and_then(b),
            hukou_place: f.hukou_place.clone(),
            village_code: Some(f.village_code.to_string()),
            residence_address: f.residence_address.clone(),
            health: f.health.status.map(|s| s.code().to_owned()),
            disability_category: f.health.disability_category.map(|v| v.code().to_owned()),
            disability_grade: f.health.disability_grade.map(|v| v.code().to_owned()),
            illness: f.health.illness.clone(),
            boarding: f.boarding.and_then(b),
            schooling: f.schooling.map(|s| s.code().to_owned()),
            school_name: f.school_name.clone(),
            living_alone: f.living_alone.and_then(b),
            paternal_grandfather_status: pgf_s,
            paternal_grandfather_name: pgf_n,
            paternal_grandfather_birth_date: pgf_b,
            paternal_grandmother_status: pgm_s,
            paternal_grandmother_name: pgm_n,
            paternal_grandmother_birth_date: pgm_b,
            maternal_grandfather_status: mgf_s,
            maternal_grandfather_name: mgf_n,
            maternal_grandfather_birth_date: mgf_b,
            maternal_grandmother_status: mgm_s,
            maternal_grandmother_name: mgm_n,
            maternal_grandmother_birth_date: mgm_b,
            father_status: Some(f.father.status.code().to_owned()),
            father_name: s(&f.father.name),
            father_birth_date: s(&f.father.birth_date),
            father_id_number: s(&f.father.id_number),
            father_situation: f.father.situation.map(|v| v.code().to_owned()),
            father_incapacity: f.father.incapacity.map(|v| v.code().to_owned()),
            father_work_place: s(&f.father.work_place),
            father_phone: f.father.phone.as_ref().map(|p| p.as_str().to_owned()),
            mother_status: Some(f.mother.status.code().to_owned()),
            mother_name: s(&f.mother.name),
            mother_birth_date: s(&f.mother.birth_date),
            mother_id_number: s(&f.mother.id_number),
            mother_situation: f.mother.situation.map(|v| v.code().to_owned()),
            mother_incapacity: f.mother.incapacity.map(|v| v.code().to_owned()),
            mother_work_place: s(&f.mother.work_place),
            mother_phone: f.mother.phone.as_ref().map(|p| p.as_str().to_owned()),
            entrusted: f.entrusted().and_then(b),
            guardian_name: g.and_then(|g| g.name.as_ref().map(|n| n.to_string())),
            guardian_phone: g.and_then(|g| g.phone.as_ref().map(|p| p.as_str().to_owned())),
            guardian_id_number: g.and_then(|g| s(&g.id_number)),
            guardian_relation: g.and_then(|g| g.relation.map(|r| r.code().to_owned())),
            guardian_address: g.and_then(|g| g.address.clone()),
            guardianship_type: f.guardianship_type.map(|g| g.code().to_owned()),
            income_sources: Some(
                f.income_sources
                    .iter()
                    .map(|v| v.code().to_owned())
                    .collect(),
            ),
            assistance: Some(f.assistance.iter().map(|v| v.code().to_owned()).collect()),
            contact_name: s(&f.contact.name),
            contact_phone: f.contact.phone.as_ref().map(|p| p.as_str().to_owned()),
            manual_flags: Some(f.manual_flags.iter().map(|v| v.code().to_owned()).collect()),
            harm: Some(f.harm.iter().map(|v| v.code().to_owned()).collect()),
            remarks: f.remarks.clone(),
        }
    }

    /// Overlays the fields present in `patch` on this input.
    pub fn overlay(mut self, patch: ChildInput) -> ChildInput {
        let base = serde_json::to_value(&self).expect("serialisable");
        let over = serde_json::to_value(&patch).expect("serialisable");
        if let (serde_json::Value::Object(mut b), serde_json::Value::Object(o)) = (base, over) {
            for (k, v) in o {
                if !v.is_null() {
                    b.insert(k, v);
                }
            }
            self = serde_json::from_value(serde_json::Value::Object(b)).expect("same shape");
        }
        self
    }
}
