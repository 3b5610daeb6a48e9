//! A fresh database with clinics and provisional patients to work on.
#![allow(dead_code)]

use chrono::NaiveDate;
use tsunagu_contacts::PatientInput;
use tsunagu_core::{ChannelId, ClinicId, PatientId};
use tsunagu_store::{channels, clinics, patients, Db};
use tsunagu_testkit::{test_db, TestDb};

/// 2026-01-01T00:00:00Z
pub const T0: i64 = 1_767_225_600_000;

pub fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()
}

pub struct Env {
    pub db: Db,
    _t: TestDb,
}

pub async fn env() -> Env {
    let t = test_db().await;
    Env {
        db: t.db.clone(),
        _t: t,
    }
}

impl Env {
    /// A clinic with one LINE channel.
    pub async fn clinic(&self, slug: &str) -> (ClinicId, ChannelId) {
        let mut tx = self.db.begin().await.unwrap();
        let org = clinics::create_organization(tx.conn(), slug, T0)
            .await
            .unwrap();
        let clinic = clinics::create_clinic(
            tx.conn(),
            clinics::NewClinic {
                organization_id: &org,
                slug,
                name: slug,
                timezone: "Asia/Tokyo",
                locale: "ja",
            },
            T0,
        )
        .await
        .unwrap();
        let ch = channels::create(
            tx.conn(),
            channels::NewChannel {
                clinic_id: &clinic,
                kind: "line",
                name: "LINE",
                credentials_enc: "x",
                api_base_url: "http://127.0.0.1:1",
                api_data_base_url: None,
                settings: "{}",
            },
            T0,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        (clinic, ch)
    }

    /// A patient created by staff from `input`.
    pub async fn create(&self, clinic: &ClinicId, input: PatientInput) -> PatientId {
        let mut tx = self.db.begin().await.unwrap();
        let id = tsunagu_contacts::patients::create(tx.conn(), clinic, &input, today(), T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    /// A provisional patient from a first LINE message, named after the profile.
    pub async fn provisional(
        &self,
        clinic: &ClinicId,
        channel: &ChannelId,
        user: &str,
        name: &str,
    ) -> PatientId {
        let mut tx = self.db.begin().await.unwrap();
        let ident = patients::create_provisional(tx.conn(), clinic, channel, user, "", T0)
            .await
            .unwrap();
        let profile = patients::Profile {
            display_name: name,
            picture_url: None,
            status_message: None,
            language: None,
        };
        patients::set_profile(
            tx.conn(),
            &tsunagu_core::ChannelIdentityId::from_db(ident.id),
            profile,
            T0,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        PatientId::from_db(ident.patient_id)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}

pub fn named(name: &str) -> PatientInput {
    PatientInput {
        name: Some(name.into()),
        ..Default::default()
    }
}
