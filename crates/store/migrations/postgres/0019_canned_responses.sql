-- Canned responses (定型文, issue 11 item 3): clinic-wide replies staff pick by typing "/" in the
-- reply box. The body keeps its {{variables}}; they are filled in for a conversation when picked.
CREATE TABLE canned_responses (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    shortcut TEXT NOT NULL,
    -- search_form(shortcut): width, kana and case folded, so ﾁｭｳｼｬ and PARKING find it and two
    -- shortcuts that differ only in those ways count as the same one.
    shortcut_key TEXT NOT NULL,
    title TEXT NOT NULL,
    -- search_form(title), for the picker's filter.
    title_key TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT canned_responses_shortcut_key UNIQUE (clinic_id, shortcut_key)
);

-- The clinic's phone number as patients should call it, for {{clinic.phone}}: free text as the
-- clinic writes it (03-1234-5678), NULL until set.
ALTER TABLE clinics ADD COLUMN phone TEXT;
