-- Login attempts are counted per account and client address (an attacker from one address must
-- not lock the account's owner out from another), and reserved before the password is checked so
-- that parallel guesses are counted too.
ALTER TABLE login_failures ADD COLUMN address TEXT NOT NULL DEFAULT '';
CREATE INDEX login_failures_address ON login_failures (address, at);
