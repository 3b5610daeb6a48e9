-- The clinic calendar: weekly opening hours, whole-day closures and national-holiday settings.
-- Hours are local wall-clock 'HH:MM' text and dates 'YYYY-MM-DD' text in the clinic's own zone
-- (clinics.timezone): 09:00 stays 09:00 on the clinic's clocks across a DST change, and text
-- dates compare in date order. The national holidays themselves are computed, not stored.

-- One row per clinic once an admin has saved its hours; until then the clinic reads the
-- default Japanese hours. updated_by is the actor: staff:<id> or token:<id>.
CREATE TABLE calendar_settings (
    clinic_id TEXT PRIMARY KEY REFERENCES clinics(id),
    national_holidays_closed BIGINT NOT NULL DEFAULT 1,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per open interval; a weekday without rows is closed, and lunch breaks are the gaps.
-- weekday: 0 = Monday … 6 = Sunday; end_time may be '24:00'.
CREATE TABLE calendar_hours (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    weekday BIGINT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX calendar_hours_clinic_idx ON calendar_hours(clinic_id, weekday);

-- Whole days closed (臨時休診, 年末年始 …): one per clinic and date, so adding a day twice is
-- reported rather than stored twice.
CREATE TABLE calendar_closures (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    date TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT calendar_closures_clinic_date_key UNIQUE (clinic_id, date)
);

-- A national holiday set per clinic: opens = 1 opens on the weekday's hours anyway, 0 stays
-- closed whatever calendar_settings says.
CREATE TABLE calendar_holiday_overrides (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    date TEXT NOT NULL,
    opens BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT calendar_holiday_overrides_clinic_date_key UNIQUE (clinic_id, date)
);
