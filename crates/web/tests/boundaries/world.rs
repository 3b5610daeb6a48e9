//! Two clinics seeded alike, with one of every kind of id a mutating route takes, and clinic
//! A's owner signed in (session and `admin` token). The walks use A's credentials with B's ids,
//! and A's ids across A's own patients.
#![allow(dead_code)]

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use chrono::NaiveDate;
use serde_json::Value;
use tsunagu_accounts::tokens;
use tsunagu_core::{ChannelId, ClinicId, ConversationId, MessageId, Role, TokenScope};
use tsunagu_inbox::scheduled;
use tsunagu_privacy::audit::Actor;
use tsunagu_privacy::verification::proxies::{self, ProxyOf};
use tsunagu_privacy::verification::{link_by_staff, LinkActor};

use super::seed::{approved_template, whatsapp_channel};
use super::ui_support::{app, App, Res, Session, CLIENT_IP, T0};

/// A day ahead: the verification lock seeded on `Side::identity`.
const LOCK_MS: i64 = 24 * 3_600_000;

/// One clinic's ids.
pub struct Side {
    pub clinic: ClinicId,
    pub line: ChannelId,
    /// WhatsApp channels: `template` is on `wa`; `wa2` has none.
    pub wa: ChannelId,
    pub wa2: ChannelId,
    pub template: String,
    /// P1: a record (linked by staff, `link`), its identity locked, with a proxy (`proxy`).
    pub patient: String,
    pub patient_name: String,
    pub identity: String,
    /// P1's second identity: not locked.
    pub identity_unlocked: String,
    pub link: String,
    pub proxy: String,
    pub conv: ConversationId,
    pub message: MessageId,
    pub attachment: String,
    /// P2: another patient of the same clinic, its own conversation and identity.
    pub other: String,
    pub other_identity: String,
    pub other_conv: ConversationId,
    pub closure: String,
    /// A message scheduled in `conv`, still to leave.
    pub scheduled: String,
    /// A team (受付) with the owner as its member.
    pub team: String,
    /// A canned response (定型文).
    pub canned: String,
    /// A keyword auto-reply rule.
    pub keyword_rule: String,
    /// An event rule (自動ルール).
    pub event_rule: String,
    /// A label of the clinic, on no conversation.
    pub label: String,
    /// The owner's saved inbox view.
    pub saved_view: String,
    /// A LINE rich menu draft and a tag rule showing it.
    pub rich_menu: String,
    pub rich_menu_rule: String,
    pub rich_menu_field_rule: String,
    /// The clinic's own triage phrase and an on-call rota entry (the owner).
    pub triage_phrase: String,
    pub on_call: String,
    /// A flow (the sample intake, a draft).
    pub flow: String,
    /// A step sequence, the patient's enrollment in it, and an inflow source on the LINE channel.
    pub sequence: String,
    pub enrollment: String,
    pub source: String,
    pub owner: Session,
}

pub struct World {
    pub app: App,
    pub a: Side,
    pub b: Side,
    /// A's `admin` token.
    pub token: String,
}

pub async fn world() -> World {
    let app = app().await;
    let a = side(&app, "sakura", "さくら内科").await;
    let b = side(&app, "momiji", "もみじ皮膚科").await;
    let mut tx = app.db.begin().await.unwrap();
    let (_, token) = tokens::create_token(tx.conn(), &a.clinic, "probe", &[TokenScope::Admin], T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    World { app, a, b, token }
}

async fn side(app: &App, slug: &str, name: &str) -> Side {
    let s = app.clinic(slug, name).await;
    let owner = app.sign_in(&s.clinic, Role::Owner, "院長").await;
    let c = app
        .conversation(&s, &format!("U-{slug}-1"), "山田 花子", "こんにちは", T0)
        .await;
    let other = app
        .conversation(
            &s,
            &format!("U-{slug}-2"),
            "佐藤 一郎",
            "予約したいです",
            T0,
        )
        .await;
    let photo = app.message(&s, &c, "in", "image", None, "{}", T0 + 1).await;
    let attachment = app.attachment(&s, &photo, "image/png", b"\x89PNG").await;
    let message = app
        .message(&s, &c, "out", "text", Some("お大事に"), "{}", T0 + 2)
        .await;
    let by = LinkActor::Staff(owner.staff_id.to_string());
    let now = app.now();
    let link = link_by_staff(
        &app.db,
        &s.clinic,
        &c.identity_id,
        &c.patient_id,
        "受付で確認",
        by,
        None,
        now,
    )
    .await
    .unwrap()
    .unwrap();
    let identity_unlocked = second_identity(app, &s.clinic, &s.channel, slug, &c.patient_id).await;
    lock(app, &s.clinic, &c.identity_id, now).await;
    let actor = Actor::Staff(owner.staff_id.to_string());
    let proxy = proxies::add(
        &app.db,
        &s.clinic,
        &c.patient_id,
        ProxyOf::Patient(other.patient_id.clone()),
        "parent",
        &actor,
        None,
        now,
    )
    .await
    .unwrap()
    .unwrap()
    .id;
    let wa = whatsapp_channel(&app.db, &s.clinic).await;
    let wa2 = whatsapp_channel(&app.db, &s.clinic).await;
    let template = approved_template(&app.db, &s.clinic, &wa, "visit", "{{1}}様").await;
    let patient_name: String =
        sqlx::query_scalar("SELECT display_name FROM patients WHERE id = $1")
            .bind(&c.patient_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let draft = scheduled::Draft {
        body: "明日お待ちしております",
        purpose: None,
        send_at: now + 3_600_000,
    };
    let who = Some(owner.staff_id.as_str());
    let scheduled = scheduled::schedule(&app.db, &s.clinic, &c.id, who, draft, now)
        .await
        .unwrap()
        .unwrap();
    let team = team(app, &s.clinic, owner.staff_id.as_str()).await;
    let rich_menu = rich_menu(app, &s.clinic, &s.channel).await;
    let (sequence, enrollment, source) = drips(app, &s.clinic, &s.channel, &c.patient_id).await;
    Side {
        sequence,
        enrollment,
        source,
        scheduled,
        team,
        closure: closure(app, &s.clinic).await,
        canned: canned(app, &s.clinic).await,
        keyword_rule: keyword_rule(app, &s.clinic).await,
        event_rule: event_rule(app, &s.clinic).await,
        label: label(app, &s.clinic).await,
        rich_menu: rich_menu.0,
        rich_menu_rule: rich_menu.1,
        rich_menu_field_rule: rich_menu.2,
        flow: flow(app, &s.clinic).await,
        saved_view: saved_view(app, &s.clinic, owner.staff_id.as_str()).await,
        triage_phrase: triage_phrase(app, &s.clinic).await,
        on_call: on_call(app, &s.clinic, owner.staff_id.as_str()).await,
        clinic: s.clinic,
        line: s.channel,
        wa,
        wa2,
        template,
        patient: c.patient_id,
        patient_name,
        identity: c.identity_id,
        identity_unlocked,
        link,
        proxy,
        conv: c.id,
        message,
        attachment,
        other: other.patient_id,
        other_identity: other.identity_id,
        other_conv: other.id,
        owner,
    }
}

async fn second_identity(
    app: &App,
    clinic: &ClinicId,
    line: &ChannelId,
    slug: &str,
    patient: &str,
) -> String {
    let mut tx = app.db.begin().await.unwrap();
    let external = format!("U-{slug}-1b");
    let i = tsunagu_store::patients::add_identity(tx.conn(), clinic, line, &external, patient, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    i.id
}

/// Three wrong answers' worth: locked for a day.
async fn lock(app: &App, clinic: &ClinicId, identity: &str, now: i64) {
    sqlx::query(
        "INSERT INTO verification_sessions (id, clinic_id, identity_id, step, failed_attempts, locked_until, created_at, updated_at)
         VALUES ($1, $2, $3, 'idle', 3, $4, $5, $5)",
    )
    .bind(tsunagu_core::new_id())
    .bind(clinic.as_str())
    .bind(identity)
    .bind(now + LOCK_MS)
    .bind(now)
    .execute(app.db.pool())
    .await
    .unwrap();
}

async fn saved_view(app: &App, clinic: &ClinicId, staff: &str) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let v = tsunagu_store::saved_views::create(
        &mut conn,
        clinic,
        staff,
        "緊急",
        "view=open&priority=urgent",
        T0,
    )
    .await
    .unwrap();
    v.id
}

async fn rich_menu(app: &App, clinic: &ClinicId, line: &ChannelId) -> (String, String, String) {
    use tsunagu_automation::richmenu;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = richmenu::Draft {
        name: "初診の方向け".into(),
        chat_bar_text: "メニュー".into(),
        width: 2500,
        height: 843,
        alias_id: None,
    };
    let menu = richmenu::create(&mut conn, clinic, line, &draft, T0)
        .await
        .unwrap()
        .unwrap();
    let rule = richmenu::add_rule(&mut conn, clinic, &menu, "初診", T0)
        .await
        .unwrap()
        .unwrap();
    // A field rule as the page adds it (the field itself need not exist for the id to be B's).
    let field_rule = format!("field-rule-{}", clinic.as_str());
    sqlx::query(
        "INSERT INTO rich_menu_field_rules (id, clinic_id, channel_id, field_key, value, rich_menu_id, priority, created_at)
         VALUES ($1, $2, $3, 'visit', '再診', $4, 2, $5)",
    )
    .bind(&field_rule)
    .bind(clinic.as_str())
    .bind(line.as_str())
    .bind(&menu)
    .bind(T0)
    .execute(&mut *conn)
    .await
    .unwrap();
    (menu, rule, field_rule)
}

async fn triage_phrase(app: &App, clinic: &ClinicId) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let c = tsunagu_safety::triage::Category::Other;
    tsunagu_safety::settings::add_phrase(&mut conn, clinic, "意識がもうろう", &c, T0)
        .await
        .unwrap()
        .unwrap()
}

async fn on_call(app: &App, clinic: &ClinicId, staff: &str) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let span = (T0, T0 + 86_400_000);
    tsunagu_safety::rota::add(&mut conn, clinic, staff, span, T0)
        .await
        .unwrap()
        .unwrap()
}

async fn flow(app: &App, clinic: &ClinicId) -> String {
    use tsunagu_automation::flows::{sample, store};
    let mut conn = app.db.pool().acquire().await.unwrap();
    let cipher = &app.services.state.cipher;
    let def = sample::intake(None);
    store::create(&mut conn, clinic, sample::NAME, &def, cipher, T0)
        .await
        .unwrap()
}

/// A sequence on friend-add with the patient enrolled, and a waiting-room source.
async fn drips(
    app: &App,
    clinic: &ClinicId,
    line: &ChannelId,
    patient: &str,
) -> (String, String, String) {
    use tsunagu_automation::sequences::{
        enrollments, store, timing::Timing, SequenceStep, Trigger,
    };
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = store::Draft {
        name: "新しい友だちへのご案内".into(),
        purpose: tsunagu_privacy::consent::Purpose::HealthInformation,
        trigger: Trigger::FriendAdded { channel_id: None },
        goal_tag: None,
        reenroll: false,
        enabled: true,
        steps: vec![SequenceStep {
            timing: Timing {
                delay_minutes: 24 * 60,
                after_previous: false,
                send_at_minute: Some(600),
                open_hours_only: false,
            },
            body: "駐車場のご案内".into(),
        }],
    };
    let seq_id = store::create(&mut conn, clinic, &draft, T0).await.unwrap();
    let seq = store::get(&mut conn, clinic, &seq_id)
        .await
        .unwrap()
        .unwrap();
    let schedule = tsunagu_calendar::Schedule::japanese_clinic_default(chrono_tz::Asia::Tokyo);
    let enrollment = enrollments::enroll(&mut conn, clinic, &seq, patient, None, &schedule, T0)
        .await
        .unwrap()
        .unwrap();
    let source = tsunagu_automation::sources::create(
        &mut conn,
        clinic,
        line.as_str(),
        "待合室ポスター",
        "流入:待合室",
        T0,
    )
    .await
    .unwrap();
    (seq_id, enrollment, source)
}

async fn label(app: &App, clinic: &ClinicId) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let l = tsunagu_store::labels::create(&mut conn, clinic, "要折り返し", "orange", T0)
        .await
        .unwrap()
        .unwrap();
    l.id
}

async fn closure(app: &App, clinic: &ClinicId) -> String {
    let day = NaiveDate::from_ymd_opt(2026, 12, 29).unwrap();
    let mut tx = app.db.begin().await.unwrap();
    let added =
        tsunagu_calendar::store::add_closures(tx.conn(), clinic, &[day], "年末", "seed", T0)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    match added {
        tsunagu_calendar::store::Added::Closures(rows) => rows[0].id.clone(),
        tsunagu_calendar::store::Added::Exists(_) => panic!("closure seeded twice"),
    }
}

impl World {
    /// A form post as A's owner; the CSRF token is added.
    pub async fn form(&self, method: &str, path: &str, fields: &[(String, String)]) -> Res {
        let s = &self.a.owner;
        let mut all = vec![("csrf_token".to_string(), s.csrf.clone())];
        all.extend(fields.iter().cloned());
        let body = serde_urlencoded::to_string(&all).unwrap();
        let req = request(method, path)
            .header("cookie", format!("tsunagu_session={}", s.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.app.send(peer(req)).await
    }

    /// A JSON call with A's token.
    pub async fn api(&self, method: &str, path: &str, body: Option<&Value>) -> Res {
        let mut b = request(method, path).header("authorization", format!("Bearer {}", self.token));
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let body = body
            .map(|v| Body::from(v.to_string()))
            .unwrap_or_else(Body::empty);
        self.app.send(peer(b.body(body).unwrap())).await
    }

    /// A GET as A's owner.
    pub async fn page(&self, path: &str) -> Res {
        self.app.get(path, &self.a.owner).await
    }
}

fn request(method: &str, path: &str) -> axum::http::request::Builder {
    let m = Method::from_bytes(method.as_bytes()).unwrap();
    Request::builder().method(m).uri(path)
}

fn peer(mut req: Request<Body>) -> Request<Body> {
    let addr: SocketAddr = format!("{CLIENT_IP}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(addr));
    req
}

async fn team(app: &App, clinic: &ClinicId, member: &str) -> String {
    use tsunagu_inbox::routing::teams::{self, AssignMode};
    let mut conn = app.db.pool().acquire().await.unwrap();
    let id = teams::create(&mut conn, clinic, "受付", AssignMode::Off, T0)
        .await
        .unwrap()
        .unwrap();
    assert!(teams::add_member(&mut conn, clinic, &id, member)
        .await
        .unwrap());
    id
}

async fn event_rule(app: &App, clinic: &ClinicId) -> String {
    use tsunagu_automation::event_rules::{store, Action, Draft, Kind, Trigger};
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = Draft {
        name: "解決したら".into(),
        enabled: true,
        stop_later: false,
        trigger: Trigger {
            kind: Kind::ConversationResolved,
            tag: None,
            purpose: None,
            granted: None,
        },
        conditions: vec![],
        actions: vec![Action::Tag {
            tag: "対応済み".into(),
        }],
    };
    let cipher = &app.services.state.cipher;
    store::create(&mut conn, clinic, cipher, draft, T0)
        .await
        .unwrap()
        .unwrap()
}

async fn keyword_rule(app: &App, clinic: &ClinicId) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = tsunagu_automation::rules::Draft {
        name: "駐車場".into(),
        keywords: vec!["駐車場".into()],
        match_mode: "exact".into(),
        reply_text: "駐車場は建物の裏です。".into(),
        channel_id: None,
        active_hours: "always".into(),
        team_id: None,
        flow_id: None,
        enabled: true,
    };
    tsunagu_automation::rules::create(&mut conn, clinic, &draft, T0)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn canned(app: &App, clinic: &ClinicId) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = tsunagu_inbox::canned::Draft {
        shortcut: "駐車場",
        title: "駐車場のご案内",
        body: "{{patient.name}}様、駐車場は建物の裏です。",
    };
    tsunagu_inbox::canned::create(&mut conn, clinic, draft, T0)
        .await
        .unwrap()
        .unwrap()
        .id
}
