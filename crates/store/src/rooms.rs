//! One handle per capability: `store.visits()`, `tx.protection()`, … Each room of the store keeps
//! its methods on its own handle instead of one namespace on `Store` and `Tx`; a use case names the
//! room it works in at every call, and a room's methods are found (and reviewed) together. The
//! handles are borrows: they cost nothing and reach the store's pool, keys and clock (or the
//! transaction) through `Deref`.

use std::ops::{Deref, DerefMut};

use crate::{Store, Tx};

macro_rules! rooms {
    ($($(#[$doc:meta])* $name:ident => $store:ident, $tx:ident;)+) => {$(
        $(#[$doc])*
        pub struct $store<'a>(&'a Store);

        $(#[$doc])*
        pub struct $tx<'a>(&'a mut Tx);

        impl Deref for $store<'_> {
            type Target = Store;
            fn deref(&self) -> &Store {
                self.0
            }
        }

        impl Deref for $tx<'_> {
            type Target = Tx;
            fn deref(&self) -> &Tx {
                self.0
            }
        }

        impl DerefMut for $tx<'_> {
            fn deref_mut(&mut self) -> &mut Tx {
                self.0
            }
        }

        impl Store {
            $(#[$doc])*
            pub fn $name(&self) -> $store<'_> {
                $store(self)
            }
        }

        impl Tx {
            $(#[$doc])*
            pub fn $name(&mut self) -> $tx<'_> {
                $tx(self)
            }
        }
    )+};
}

rooms! {
    /// School attendance and 劝返.
    attendance => AttendanceRoom, AttendanceTxRoom;
    /// The audit log: reading and verifying the chain.
    audit_log => AuditLogRoom, AuditLogTxRoom;
    /// Loading many files at once (the demo, benchmarks).
    bulk => BulkRoom, BulkTxRoom;
    /// Children's files and their history.
    children => ChildrenRoom, ChildrenTxRoom;
    /// A county's own settings.
    counties => CountiesRoom, CountiesTxRoom;
    /// 发现报告 and the town queues.
    discoveries => DiscoveriesRoom, DiscoveriesTxRoom;
    /// The register of left-behind elderly people (留守老人).
    elders => EldersRoom, EldersTxRoom;
    /// What the official exports read.
    exports => ExportsRoom, ExportsTxRoom;
    /// Agreements, carer checks and parents' contact log.
    guardianship => GuardianshipRoom, GuardianshipTxRoom;
    /// Imports of rosters: matching rows to files.
    imports => ImportsRoom, ImportsTxRoom;
    /// Long work as rows, and the files it works on.
    jobs => JobsRoom, JobsTxRoom;
    /// The kept counts (rollups) and their checks.
    kept => KeptRoom, KeptTxRoom;
    /// Notifications queued with their events and their delivery.
    notifications => NotificationsRoom, NotificationsTxRoom;
    /// Protection cases: reports, steps, assessment, referrals, placements, interventions, evidence, figures.
    protection => ProtectionRoom, ProtectionTxRoom;
    /// The 汇总表 and a quarter's reports.
    quarterly => QuarterlyRoom, QuarterlyTxRoom;
    /// 三方比对: runs and their items.
    reconcile => ReconcileRoom, ReconcileTxRoom;
    /// Divisions, agencies and their names.
    regions => RegionsRoom, RegionsTxRoom;
    /// Archiving and erasing files whose period ended.
    retention => RetentionRoom, RetentionTxRoom;
    /// The roster lists and home counts.
    rosters => RostersRoom, RostersTxRoom;
    /// 转办: routings to the units and their events.
    routes => RoutesRoom, RoutesTxRoom;
    /// Checks of the sealed values.
    sealed => SealedRoom, SealedTxRoom;
    /// The second factor: enrolment, codes and recovery codes.
    second_factor => SecondFactorRoom, SecondFactorTxRoom;
    /// Sign-in attempts, sessions and API tokens.
    sessions => SessionsRoom, SessionsTxRoom;
    /// Accounts and their administration.
    users => UsersRoom, UsersTxRoom;
    /// Visits, their photos and the visiting schedule.
    visits => VisitsRoom, VisitsTxRoom;
}
