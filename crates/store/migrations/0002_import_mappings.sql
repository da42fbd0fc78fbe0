-- Column mappings of imported sheets, saved for the next file with the same header. One per
-- jurisdiction and header; `signature` is the header titles in column order.
CREATE TABLE import_mappings (
    region_code TEXT COLLATE "C" NOT NULL,
    signature TEXT NOT NULL,
    choices TEXT NOT NULL,
    saved_by TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (region_code, signature)
);
