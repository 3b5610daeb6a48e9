//! Identity verification in chat (`tsunagu_privacy::verification`): 本人確認 (認証,
//! ほんにんかくにん, or the postback `verify:start`) starts it with card number + birth date;
//! 「コード」 (or `verify:code`) with a one-time code to the e-mail on the record, when a sender
//! is configured. While it waits, the patient's next text is its answer (stored as usual, not
//! left for staff). Japanese, or English when the patient's LINE is set to another language.
//! The e-mail address is never shown, not even masked: any hint would tell that the card
//! number has a record, which the replies are careful never to reveal.
use tsunagu_core::text::match_form;
use tsunagu_inbox::reply::ReplyOutcome;
use tsunagu_privacy::verification::code::{self, CodeRequest, CodeSender};
use tsunagu_privacy::verification::{self as v, Answer, Started, Subject};

use crate::{answer, Inbound, Step};

const START_WORDS: &[&str] = &[
    "本人確認",
    "認証",
    "ほんにんかくにん",
    "verify",
    "verification",
];
const CODE_WORDS: &[&str] = &[
    "コード",
    "こーど",
    "コードで本人確認",
    "コード確認",
    "code",
    "verify by code",
];
const CANCEL_WORDS: &[&str] = &["中止", "キャンセル", "cancel"];

fn is(words: &[&str], text: &str) -> bool {
    let n = match_form(text);
    words.iter().any(|w| match_form(w) == n)
}

pub async fn step(m: &Inbound, codes: &dyn CodeSender) -> anyhow::Result<Step> {
    let (Some(ident), Some(text)) = (&m.identity, &m.text) else {
        return Ok(Step::Pass);
    };
    if m.conversation.kind != "direct" || !matches!(m.message.kind.as_str(), "text" | "postback") {
        return Ok(Step::Pass);
    }
    let en = ident
        .language
        .as_deref()
        .is_some_and(|l| !l.starts_with("ja"));
    let s = Subject {
        clinic: &m.clinic,
        identity_id: &ident.id,
        conversation_id: &m.conversation.id,
        channel_id: &m.conversation.channel_id,
    };
    let now = m.clock.now_ms();
    let postback = m.message.kind == "postback";
    let can_code = codes.available(&m.clinic).await;
    let reply = if text == "verify:start" || (!postback && is(START_WORDS, text)) {
        let started = v::start(&m.db, &s, now).await?;
        let offer = can_code && started == Started::AskCard;
        let hint = pick(en,
            "\n(登録の電話番号（SMS）またはメールアドレスに届く確認コードで本人確認する場合は「コード」と送ってください)",
            "\n(To verify with a code sent by SMS or e-mail to the contact on file instead, send \"code\".)");
        format!(
            "{}{}",
            self::started(started, en),
            if offer { hint } else { "" }
        )
    } else if can_code && (text == "verify:code" || (!postback && is(CODE_WORDS, text))) {
        match code::begin(&m.db, &s, now).await? {
            Started::AskCard => pick(en,
                "確認コードで本人確認します。診察券番号を送ってください。登録されている電話番号（SMS）またはメールアドレスにコードをお送りします。\n(やめるときは「中止」と送ってください)",
                "Let's verify with a code. Please send your patient card number; we will send a code by SMS or e-mail to the contact on file.\n(Send \"cancel\" to stop.)").to_string(),
            other => started(other, en),
        }
    } else if text == "verify:code" || (!postback && is(CODE_WORDS, text)) {
        // No sender is configured: offer card number + birth date.
        let then = started(v::start(&m.db, &s, now).await?, en);
        let lead = pick(en, "コードでの本人確認は現在ご利用いただけません。診察券番号と生年月日で確認します。",
            "Verification by code is not available. Let's verify with your patient card number and date of birth instead.");
        format!("{lead}\n{then}")
    } else if postback {
        return Ok(Step::Pass);
    } else if is(CANCEL_WORDS, text) && v::session::cancel(&m.db, &s, now).await? {
        pick(en, "本人確認を中止しました。", "Verification cancelled.").to_string()
    } else if let Some(r) = code::on_card(&m.db, &s, text, codes, now).await? {
        requested(r, en)
    } else {
        match v::on_answer(&m.db, &s, text, now).await? {
            Answer::NotWaiting => return Ok(Step::Pass),
            a => answered(a, en),
        }
    };
    if let ReplyOutcome::Refused(why) = answer(m, &reply).await? {
        tracing::warn!(code = why.code.as_str(), conversation = %m.conversation.id, "a verification answer was not sent");
    }
    Ok(Step::Handled)
}

fn pick(en: bool, ja: &'static str, english: &'static str) -> &'static str {
    if en {
        english
    } else {
        ja
    }
}

const CALL_US: (&str, &str) = (
    "本人確認を一時停止しています。お手数ですが、クリニックへお電話ください。",
    "Verification is paused. Please call the clinic.",
);

fn started(s: Started, en: bool) -> String {
    match s {
        Started::AskCard => pick(en,
            "本人確認を始めます。診察券番号を送ってください。\n(10分以内にお答えください。やめるときは「中止」と送ってください)",
            "Let's verify your identity. Please send your patient card number.\n(Answer within 10 minutes; send \"cancel\" to stop.)"),
        Started::AlreadyVerified => pick(en, "本人確認はすでに完了しています。", "You are already verified."),
        Started::Locked { .. } => pick(en, CALL_US.0, CALL_US.1),
    }
    .to_string()
}

/// The same words whether or not the card number has a record with a phone or e-mail.
fn requested(r: CodeRequest, en: bool) -> String {
    match r {
        CodeRequest::Requested => pick(en,
            "診察券番号と連絡先（電話番号またはメールアドレス）が登録されている場合は、確認コードをお送りしました。SMS またはメールに書かれた6桁のコードを送ってください。(10分間有効)\n届かない場合は「中止」と送り、「本人確認」から診察券番号と生年月日で確認してください。",
            "If that card number is on file with a phone number or e-mail address, we have sent a code to it by SMS or e-mail. Please send the 6-digit code (valid for 10 minutes).\nIf nothing arrives, send \"cancel\" and then \"verify\" to use your card number and date of birth."),
        CodeRequest::SendFailed => pick(en,
            "確認コードを送信できませんでした。診察券番号と生年月日で確認します。生年月日を送ってください。(例: 1975-04-01、昭和50年4月1日)",
            "We could not send the code. Let's use your card number and date of birth instead: please send your date of birth (for example 1975-04-01)."),
        CodeRequest::InvalidCard => return answered(Answer::InvalidCard, en),
        CodeRequest::Locked { .. } => pick(en, CALL_US.0, CALL_US.1),
        CodeRequest::Unavailable => pick(en,
            "コードでの本人確認は現在ご利用いただけません。「本人確認」と送り、診察券番号と生年月日で確認してください。",
            "Verification by code is not available. Send \"verify\" to use your card number and date of birth."),
    }
    .to_string()
}

fn answered(a: Answer, en: bool) -> String {
    match a {
        Answer::AskBirthDate => pick(en,
            "生年月日を送ってください。(例: 1975-04-01、昭和50年4月1日)",
            "Please send your date of birth (for example 1975-04-01)."),
        Answer::InvalidCard => pick(en, "診察券番号を英数字で送ってください。", "Please send the card number (letters and digits)."),
        Answer::InvalidBirthDate => pick(en,
            "生年月日を読み取れませんでした。1975-04-01 や 昭和50年4月1日 のように送ってください。",
            "We could not read that date. Please write it like 1975-04-01."),
        Answer::InvalidCode => pick(en, "6桁のコードを送ってください。", "Please send the 6-digit code."),
        Answer::CodeExpired => pick(en,
            "コードの有効期限が切れました。もう一度「本人確認」と送ってください。",
            "The code has expired. Send \"verify\" to start again."),
        Answer::Wrong { remaining } => {
            return if en {
                format!("We could not verify you with those details. Please start again with your card number ({remaining} tries left).")
            } else {
                format!("入力された内容では確認できませんでした。もう一度、診察券番号から送ってください。(あと{remaining}回)")
            };
        }
        Answer::WrongCode { remaining } => {
            return if en {
                format!("That code is not correct. Please check the SMS or e-mail and send it again ({remaining} tries left).")
            } else {
                format!("コードが正しくありません。SMS またはメールをご確認のうえ、もう一度送ってください。(あと{remaining}回)")
            };
        }
        Answer::LockedNow { .. } | Answer::Locked { .. } => pick(en, CALL_US.0, CALL_US.1),
        Answer::Verified { .. } => pick(en,
            "本人確認ができました。ありがとうございます。",
            "Thank you. You are now verified."),
        Answer::NotWaiting => "",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_start_words_match_in_any_width_or_script() {
        for t in [
            "本人確認",
            " 本人確認。",
            "認証",
            "ほんにんかくにん",
            "ホンニンカクニン",
            "「本人確認」",
            "VERIFY",
        ] {
            assert!(is(START_WORDS, t), "{t}");
        }
        assert!(!is(START_WORDS, "本人確認はどうすればいいですか"));
        assert!(is(CODE_WORDS, "コード") && is(CODE_WORDS, "ｺｰﾄﾞ") && is(CODE_WORDS, "CODE"));
    }
}
