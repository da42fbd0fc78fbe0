//! The ids of the records the rooms hand each other: a child's file, a protection case, a report,
//! a routing, a visit… A function that takes a `&ChildId` cannot be given a case's id, a user's id
//! or an ID number by mistake; on the wire (JSON, paths, forms) an id is the same string as before.
//!
//! An id says nothing of whether the record exists or whom it is shown to: a use case finds the
//! record in the actor's jurisdiction or answers "not found", whatever the string.

use std::fmt;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
        pub struct $name(String);

        impl $name {
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }
    };
}

id! {
    /// A child's file (`children.id`).
    ChildId
}

id! {
    /// A left-behind elder's record (`elders.id`).
    ElderId
}

id! {
    /// A protection case (`protection_cases.id`).
    CaseId
}

id! {
    /// A mandatory report (强制报告, `protection_reports.id`).
    ReportId
}

id! {
    /// A case's referral to a provider (`case_referrals.id`).
    ReferralId
}

id! {
    /// A case's placement (临时监护…, `case_placements.id`).
    PlacementId
}

id! {
    /// An attachment of a case (evidence, `case_attachments.id`).
    AttachmentId
}

id! {
    /// A routing to the police or a department (部门转办, `routings.id`).
    RoutingId
}

id! {
    /// A discovery report (发现报告, `discovery_reports.id`).
    DiscoveryId
}

id! {
    /// A 劝返 task (`return_tasks.id`).
    ReturnTaskId
}

id! {
    /// A visit (`visits.id`).
    VisitId
}

id! {
    /// A quarterly report (`quarterly_reports.id`).
    QuarterlyReportId
}

id! {
    /// A user account (`users.id`).
    UserId
}

id! {
    /// A 三方比对 run (`reconcile_runs.id`).
    RunId
}

id! {
    /// A finding of a 三方比对 run (`reconcile_items.id`).
    ItemId
}

id! {
    /// A long piece of work (an import, a comparison, an export: `jobs.id`).
    JobId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_its_string_on_the_wire() {
        let id = ChildId::new("0193a1b2-c3d4");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0193a1b2-c3d4\"");
        let back: CaseId = serde_json::from_str("\"0193a1b2-c3d4\"").unwrap();
        assert_eq!(back.as_str(), id.as_str());
        assert_eq!(id.to_string(), "0193a1b2-c3d4");
    }
}
