-- Patient records (issue 3): the clinic's own fields beside what a first message created.
-- sex: female | male | other | unknown (a CHECK keeps a bad import from storing anything else).
ALTER TABLE patients ADD COLUMN sex TEXT NOT NULL DEFAULT 'unknown'
    CHECK (sex IN ('female', 'male', 'other', 'unknown'));
-- 診察券番号, normalized (ASCII, upper case, no separators) so verification can compare it.
ALTER TABLE patients ADD COLUMN card_number TEXT;
-- line | sms | email | phone | … : how the clinic should reach this patient first.
ALTER TABLE patients ADD COLUMN preferred_channel TEXT;
ALTER TABLE patients ADD COLUMN note TEXT;
-- Name, reading, phone, card number and e-mail in their search form (core::text::search_form),
-- rewritten on every change: search is a LIKE over one column on both databases.
ALTER TABLE patients ADD COLUMN search_key TEXT;

-- One card number names one patient of a clinic; many patients have none yet.
CREATE UNIQUE INDEX patients_clinic_card_number_key ON patients(clinic_id, card_number)
    WHERE card_number IS NOT NULL;

CREATE TABLE patient_tags (
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    tag TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT patient_tags_patient_tag_key PRIMARY KEY (patient_id, tag)
);
CREATE INDEX patient_tags_clinic_tag_idx ON patient_tags(clinic_id, tag);

-- Fields a clinic adds to its records. key and kind never change once values exist for them.
CREATE TABLE custom_fields (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    key TEXT NOT NULL,
    label_ja TEXT NOT NULL,
    label_en TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'number', 'date', 'choice')),
    -- JSON array of the allowed answers of a `choice` field, '[]' otherwise.
    choices TEXT NOT NULL DEFAULT '[]',
    required BIGINT NOT NULL DEFAULT 0,
    position BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT custom_fields_clinic_key_key UNIQUE (clinic_id, key)
);

-- Values as canonical text: numbers as written by Rust, dates as YYYY-MM-DD, choices verbatim.
CREATE TABLE patient_field_values (
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    field_id TEXT NOT NULL REFERENCES custom_fields(id),
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT patient_field_values_key PRIMARY KEY (patient_id, field_id)
);
CREATE INDEX patient_field_values_field_idx ON patient_field_values(field_id);

-- Rows from before this migration: an approximate key until their next change rewrites it.
UPDATE patients SET search_key = LOWER(REPLACE(display_name, ' ', '')) || ' ' || COALESCE(kana, '')
    || ' ' || COALESCE(phone, '') || ' ' || LOWER(COALESCE(email, ''));
