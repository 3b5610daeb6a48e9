//! WhatsApp's 24-hour customer-service window: free-form replies are refused outside it, an
//! approved template still goes out.
use reqwest::StatusCode;
use serde_json::json;
use tsunagu_core::{ChannelId, Clock, ConversationId};
use tsunagu_inbox::reply::{queue_outgoing, Author, Outgoing, ReplyOutcome};
use tsunagu_privacy::consent::SendBasis;
use tsunagu_store::{conversations, templates};

use crate::harness::{spawn, Wa, PATIENT, PHONE_ID, WABA};

const TEMPLATE_BODY: &str =
    "{{1}}様、{{2}}のご予約の確認です。変更はこのメッセージにご返信ください。";

/// An approved `appointment_reminder` (ja) in tsunagu and in Meta's manager.
async fn approved_template(wa: &Wa) -> templates::Template {
    let now = wa.app.clock.now_ms();
    let channel = ChannelId::parse(&wa.channel).unwrap();
    let mut conn = wa.app.db.pool().acquire().await.unwrap();
    let t = templates::create(
        &mut conn,
        templates::NewTemplate {
            clinic_id: &wa.app.clinic,
            channel_id: &channel,
            name: "appointment_reminder",
            language: "ja",
            category: "UTILITY",
            body: TEMPLATE_BODY,
        },
        now,
    )
    .await
    .unwrap()
    .unwrap();
    let update = templates::StatusUpdate {
        status: "approved",
        provider_template_id: Some("1234567890123456"),
        reason: None,
    };
    let t = templates::set_status(&mut conn, &wa.app.clinic, &t.id, update, now)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    wa.sb
        .add_template(WABA, &t.name, &t.language, TEMPLATE_BODY, "APPROVED");
    t
}

/// Queues `t` with `params` as an integration would: `queue_outgoing` with a template payload.
async fn queue_template(
    wa: &Wa,
    conv: &str,
    t: &templates::Template,
    params: &[String],
) -> conversations::Message {
    templates::check_send(t, params).unwrap();
    let mut conn = wa.app.db.pool().acquire().await.unwrap();
    let conv_id = ConversationId::parse(conv).unwrap();
    let conversation = conversations::by_id(&mut conn, &wa.app.clinic, &conv_id)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    let content = Outgoing {
        kind: "template".into(),
        body: Some(templates::render(&t.body, params)),
        payload: json!({"type": "template", "name": t.name, "language": t.language, "params": params}),
    };
    let outcome = queue_outgoing(
        &wa.app.db,
        &wa.app.clinic,
        &conversation,
        Author::Api,
        content,
        SendBasis::ReplyToPatient,
        wa.app.clock.now_ms(),
    )
    .await
    .unwrap();
    let ReplyOutcome::Queued(m) = outcome else {
        panic!("the template was refused")
    };
    *m
}

#[tokio::test]
async fn outside_the_window_a_free_form_reply_is_refused_but_an_approved_template_goes_out() {
    let wa = spawn().await;
    wa.patient_says("来週の予約をお願いします").await;
    let conv = wa.conversation().await;
    wa.app.clock.advance(chrono::Duration::hours(25));

    let (s, err) = wa.reply(&conv, "ご連絡ありがとうございます").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"]["code"], "outside_service_window", "{err}");
    let why = err["error"]["message"].as_str().unwrap();
    assert!(
        why.contains("24 hours") && why.contains("template"),
        "the refusal says why and what to do: {why}"
    );
    wa.app.run_jobs().await;
    let out = "SELECT COUNT(*) FROM messages WHERE direction = 'out'";
    assert_eq!(wa.app.count(out).await, 0, "nothing queued");
    assert_eq!(
        wa.app
            .count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'message.send'")
            .await,
        0
    );
    assert_eq!(wa.sb.calls_to("/messages"), 0, "nothing sent");

    // A template is what the window allows.
    let t = approved_template(&wa).await;
    let params = vec!["佐藤".to_string(), "12月1日 10:00".to_string()];
    let rendered = templates::render(&t.body, &params);
    let m = queue_template(&wa, &conv, &t, &params).await;
    wa.app.run_jobs().await;

    let sends = wa.sends();
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(sends[0].phone_number_id, PHONE_ID);
    assert_eq!(sends[0].body["to"], PATIENT);
    assert_eq!(sends[0].body["type"], "template");
    assert_eq!(
        sends[0].body["template"],
        json!({"name": "appointment_reminder", "language": {"code": "ja"},
               "components": [{"type": "body", "parameters": [
                   {"type": "text", "text": "佐藤"}, {"type": "text", "text": "12月1日 10:00"}]}]})
    );
    let shown = wa.message(&conv, &m.id).await;
    assert_eq!(shown["status"], "sent", "{shown}");
    assert_eq!(shown["kind"], "template");
    assert_eq!(shown["text"], rendered.as_str());
    assert_eq!(wa.wamid_of(&m.id).await, sends[0].wamid);
}

#[tokio::test]
async fn inside_the_window_a_reply_goes_out_and_the_window_follows_the_latest_message() {
    let wa = spawn().await;
    wa.patient_says("こんにちは").await;
    let conv = wa.conversation().await;
    wa.app.clock.advance(chrono::Duration::hours(23));
    wa.patient_says("まだ受付していますか？").await;
    wa.app.clock.advance(chrono::Duration::hours(23));
    // 46 h after the first message, 23 h after the latest: still open.
    wa.queued_reply(&conv, "はい、18時まで受け付けています")
        .await;
    wa.app.run_jobs().await;
    assert_eq!(wa.sends().len(), 1);
}

#[tokio::test]
async fn a_template_meta_has_paused_fails_with_a_template_reason() {
    let wa = spawn().await;
    wa.patient_says("予約の確認をお願いします").await;
    let conv = wa.conversation().await;
    wa.app.clock.advance(chrono::Duration::hours(30));
    let t = approved_template(&wa).await;
    // Meta paused it after tsunagu last synced: the send is refused with 132001.
    wa.sb
        .set_template_status(WABA, &t.name, "PAUSED", Some("low quality"));
    let params = vec!["佐藤".to_string(), "12月1日 10:00".to_string()];
    let m = queue_template(&wa, &conv, &t, &params).await;
    wa.app.run_jobs().await;
    let shown = wa.message(&conv, &m.id).await;
    assert_eq!(shown["status"], "failed", "{shown}");
    assert_eq!(shown["failure_code"], "template_rejected");
    assert!(wa.sends().is_empty());
}

/// A reminder for a purpose the patient agreed to, two days after they last wrote: text is
/// refused (WhatsApp's window is closed), the approved template goes out on its channel.
#[tokio::test]
async fn a_reminder_outside_the_window_goes_as_a_template() {
    let wa = spawn().await;
    wa.patient_says("予約をお願いします").await;
    let t = approved_template(&wa).await;
    let (_, list) = wa.app.api_get("/api/v1/patients").await;
    let patient = list["items"][0]["id"].as_str().unwrap().to_string();
    let consent = json!({"purpose": "reminders", "granted": true, "source": "web_form",
        "wording": "予約のリマインダーを WhatsApp で受け取る"});
    let (s, c) = wa
        .app
        .api_post(&format!("/api/v1/patients/{patient}/consents"), consent)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    wa.app.clock.advance(chrono::Duration::hours(48));
    let path = format!("/api/v1/patients/{patient}/messages");
    let text = json!({"purpose": "reminders", "text": "明日10時のご予約です。"});
    let (s, e) = wa.app.api_post(&path, text).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "outside_service_window", "{e}");
    let params = json!(["佐藤", "11月25日 10:00"]);
    let by_template = json!({"purpose": "reminders", "template": {"id": t.id, "params": params}});
    let (s, m) = wa.app.api_post(&path, by_template).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    wa.app.run_jobs().await;
    let sent = wa.sb.received();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body["type"], "template");
    assert_eq!(sent[0].body["to"], PATIENT);
    assert_eq!(sent[0].phone_number_id, PHONE_ID);
}
