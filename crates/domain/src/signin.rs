//! Signing in with a password: how many guesses an account and an address get, when a guess is
//! refused unchecked, and how long a much-guessed account's answer is held back. The store counts
//! the attempts; these rules decide what the counts mean (`app::session` applies them).
//!
//! - [`MAX_FAILURES`] failures for one account from one address within [`THROTTLE_MINUTES`]
//!   stop that address for that account; the owner at another address is not locked out;
//! - [`MAX_ADDRESS_FAILURES`] failures from one address, whatever the accounts, stop the address
//!   (password spraying);
//! - failures on an account from everywhere slow its answers down (up to [`MAX_DELAY_SECS`] s),
//!   and past [`MAX_ACCOUNT_FAILURES_PER_DAY`] in a day stop its password being checked until
//!   they age out.

/// Failed logins allowed per username and address within [`THROTTLE_MINUTES`] before further
/// attempts are refused without checking the password.
pub const MAX_FAILURES: i64 = 5;
/// The window the per-address limits count in.
pub const THROTTLE_MINUTES: i64 = 15;
/// Failed logins one client address may make, on any accounts, within [`THROTTLE_MINUTES`].
pub const MAX_ADDRESS_FAILURES: i64 = 30;
/// The longest an answer to a login on a much-guessed account is held back.
pub const MAX_DELAY_SECS: i64 = 5;
/// Failures on one account from anywhere within a day; past them the account's password is not
/// checked until the day's failures age out (NIST SP 800-63B's ceiling: an attacker with many
/// addresses gets 100 guesses a day, not ten a second).
pub const MAX_ACCOUNT_FAILURES_PER_DAY: i64 = 100;
/// Longer usernames and passwords are refused before anything is looked up or hashed.
pub const MAX_USERNAME_CHARS: usize = 64;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The failed attempts already counted when a new one arrives (it not included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    /// This account from this address, within [`THROTTLE_MINUTES`].
    pub mine: i64,
    /// This address on any account, within [`THROTTLE_MINUTES`].
    pub from_address: i64,
    /// This account from anywhere, within [`THROTTLE_MINUTES`].
    pub on_account: i64,
    /// This account from anywhere, within the day.
    pub on_account_today: i64,
}

/// Why an attempt is refused without its password being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The address made too many failures, on whatever accounts.
    Address,
    /// The account failed too often today, from everywhere.
    AccountDay,
    /// This account from this address failed too often.
    AccountAddress,
}

impl Refusal {
    /// The stored code (the audit record's `reason`).
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Address => "address",
            Refusal::AccountDay => "account_day",
            Refusal::AccountAddress => "account_address",
        }
    }
}

/// Whether a name and password are too long to look at (refused as wrong, nothing looked up).
pub fn implausible(username: &str, password: &str) -> bool {
    username.chars().count() > MAX_USERNAME_CHARS || password.len() > MAX_PASSWORD_BYTES
}

/// Whether the next attempt is refused unchecked, and why (the widest limit first).
pub fn refusal(before: &Attempts) -> Option<Refusal> {
    if before.from_address >= MAX_ADDRESS_FAILURES {
        Some(Refusal::Address)
    } else if before.on_account_today >= MAX_ACCOUNT_FAILURES_PER_DAY {
        Some(Refusal::AccountDay)
    } else if before.mine >= MAX_FAILURES {
        Some(Refusal::AccountAddress)
    } else {
        None
    }
}

/// Seconds to hold back the answer to an attempt the limits let through: one per failure on
/// the account from elsewhere past [`MAX_FAILURES`], at most [`MAX_DELAY_SECS`]. The owner's own
/// failures at their own address do not slow them down.
pub fn delay_secs(before: &Attempts) -> u64 {
    (before.on_account - before.mine - MAX_FAILURES).clamp(0, MAX_DELAY_SECS) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_widest_limit_is_named_first() {
        let mut a = Attempts {
            mine: MAX_FAILURES,
            ..Attempts::default()
        };
        assert_eq!(refusal(&a), Some(Refusal::AccountAddress));
        a.on_account_today = MAX_ACCOUNT_FAILURES_PER_DAY;
        assert_eq!(refusal(&a), Some(Refusal::AccountDay));
        a.from_address = MAX_ADDRESS_FAILURES;
        assert_eq!(refusal(&a), Some(Refusal::Address));
        assert_eq!(
            refusal(&Attempts {
                mine: MAX_FAILURES - 1,
                from_address: MAX_ADDRESS_FAILURES - 1,
                on_account: 50,
                on_account_today: MAX_ACCOUNT_FAILURES_PER_DAY - 1,
            }),
            None
        );
    }

    #[test]
    fn only_others_failures_slow_an_account_down() {
        let own = Attempts {
            mine: 4,
            on_account: 4,
            ..Attempts::default()
        };
        assert_eq!(delay_secs(&own), 0);
        let guessed = Attempts {
            mine: 0,
            on_account: MAX_FAILURES + 2,
            ..Attempts::default()
        };
        assert_eq!(delay_secs(&guessed), 2);
        let flooded = Attempts {
            mine: 1,
            on_account: 90,
            ..Attempts::default()
        };
        assert_eq!(delay_secs(&flooded), MAX_DELAY_SECS as u64);
    }

    #[test]
    fn overlong_input_is_not_looked_at() {
        assert!(implausible(&"名".repeat(MAX_USERNAME_CHARS + 1), "pw"));
        assert!(!implausible(&"名".repeat(MAX_USERNAME_CHARS), "pw"));
        assert!(implausible("u", &"x".repeat(MAX_PASSWORD_BYTES + 1)));
    }
}
