//! What patients and staff write in a Japanese clinic's chats: the routine (予約, 駐車場,
//! 診療時間, 処方, 書類), symptoms (発熱, 咳, 頭痛), vaccinations, results, thanks; and English
//! from foreign patients. Slots (`{d}` a day, `{t}` a time, `{n}` a number) vary each message so
//! search sees many distinct texts, not a handful repeated.
use rand::Rng;

const PATIENT_JA: &[&str] = &[
    "{d}の{t}に予約をお願いできますか？",
    "明日の予約を変更したいのですが、午後は空いていますか？",
    "{d}の予約をキャンセルさせてください。",
    "予約の時間に少し遅れそうです。{n}分ほど遅れます。",
    "昨日から熱が{f}度あります。今日診てもらえますか？",
    "子どもが発熱していて、ぐったりしています。",
    "熱は下がりましたが、咳が止まりません。",
    "咳と鼻水が{n}日続いています。受診した方がいいですか？",
    "頭痛がひどくて、薬を飲んでも治りません。",
    "お腹が痛くて下痢が続いています。",
    "喉が痛いです。インフルエンザの検査はできますか？",
    "駐車場はありますか？",
    "駐車場が満車の場合はどこに停めればいいですか？",
    "土曜日の診療時間を教えてください。",
    "{d}は休診ですか？",
    "診療時間は何時までですか？",
    "インフルエンザの予防接種の予約をしたいです。",
    "子どもの予防接種はいつ受けられますか？",
    "コロナワクチンの予防接種はやっていますか？",
    "予防接種の費用はいくらですか？",
    "健康診断書を書いていただくことはできますか？",
    "会社に提出する健康診断書が必要です。何日かかりますか？",
    "検査結果はいつ頃わかりますか？",
    "先週の血液検査の結果を聞きたいです。",
    "いつもの薬がなくなりそうです。処方箋だけもらえますか？",
    "薬を飲み忘れてしまいました。どうすればいいですか？",
    "処方された薬で湿疹が出ました。",
    "紹介状を書いていただけますか？",
    "初診ですが、保険証以外に何が必要ですか？",
    "マイナンバーカードは保険証として使えますか？",
    "診察券をなくしてしまいました。",
    "支払いにクレジットカードは使えますか？",
    "領収書を再発行してもらえますか？",
    "オンライン診療は対応していますか？",
    "母の代わりに薬を受け取りに行ってもいいですか？",
    "待ち時間はどのくらいですか？",
    "ありがとうございました。よろしくお願いします。",
    "わかりました。{d}に伺います。",
    "了解です。ありがとうございます！",
    "血圧が{b}まで上がっています。",
    "花粉症の薬をいつもより早めにもらいたいです。",
    "健診で再検査と言われました。予約できますか？",
    "胃カメラの検査は予約が必要ですか？",
    "電話がつながらないのでこちらで連絡しました。",
    "折り返しのお電話は{p}にお願いします。",
    "夜中に熱が上がったら救急に行くべきですか？",
    "アレルギーがあるのですが、ワクチンは大丈夫ですか？",
    "妊娠中ですが、この薬は飲んでも大丈夫ですか？",
];

const PATIENT_EN: &[&str] = &[
    "Hello, I would like to book an appointment for {de}.",
    "I have had a fever since yesterday. Can I see a doctor today?",
    "Do you have an English-speaking doctor?",
    "Is there parking at the clinic?",
    "What are your opening hours on Saturday?",
    "I need a medical certificate for my company.",
    "Can I get a prescription refill?",
    "My child has a cough and a fever of {f} degrees.",
    "Thank you very much!",
    "Can I pay by credit card?",
    "I need to cancel my appointment on {de}.",
    "When will my test results be ready?",
];

const STAFF_JA: &[&str] = &[
    "お問い合わせありがとうございます。{d}の{t}でご予約をお取りしました。",
    "ご予約を承りました。当日は診察券と保険証をお持ちください。",
    "ご予約のキャンセルを承りました。またのご利用をお待ちしております。",
    "承知しました。お気をつけてお越しください。",
    "駐車場は建物の裏に{n}台分ございます。満車の際は近隣のコインパーキングをご利用ください。",
    "診療時間は平日9:00〜12:30、15:00〜18:30、土曜は9:00〜12:30です。",
    "{d}は休診です。ご不便をおかけします。",
    "発熱のある方は、来院前にお電話で一度ご相談ください。裏口からご案内します。",
    "熱が続く場合は早めの受診をおすすめします。本日{t}でしたらご案内できます。",
    "予防接種のご予約は{d}以降で承れます。ご希望の日時をお知らせください。",
    "インフルエンザの予防接種は1回{y}円です。",
    "健康診断書は発行まで{n}営業日ほどいただいております。",
    "検査結果は{d}以降にお伝えできます。来院時にご説明します。",
    "処方箋のみの発行は、前回の受診から間もない方に限り可能です。",
    "お薬の件、医師に確認してご連絡いたします。",
    "症状が強い場合や呼吸が苦しい場合は、迷わず119番に連絡してください。",
    "紹介状の作成には数日かかります。できあがりましたらご連絡します。",
    "初診の方は保険証（またはマイナンバーカード）とお薬手帳をお持ちください。",
    "お支払いはクレジットカードと電子マネーがご利用いただけます。",
    "本日の待ち時間は{n}分ほどです。",
    "お大事になさってください。",
    "ご連絡ありがとうございます。担当者から改めてご連絡します。",
    "オンライン診療は火曜と木曜の午後に対応しております。",
    "代理の方のお受け取りも可能です。ご本人の診察券をお持ちください。",
];

const STAFF_EN: &[&str] = &[
    "Thank you for your message. We have booked you for {de} at {t}.",
    "Parking is available behind the building.",
    "We are open 9:00-12:30 and 15:00-18:30 on weekdays, and 9:00-12:30 on Saturdays.",
    "Please call us before coming if you have a fever.",
    "Your results will be ready after {de}.",
    "Take care, and please contact us if anything changes.",
];

const DAYS: &[&str] = &[
    "明日",
    "明後日",
    "月曜日",
    "火曜日",
    "水曜日",
    "木曜日",
    "金曜日",
    "土曜日",
    "来週",
    "今週末",
    "12月{n}日",
    "1月{n}日",
];
const DAYS_EN: &[&str] = &["Monday", "Tuesday", "Friday", "next week", "tomorrow"];
const TIMES: &[&str] = &[
    "9時",
    "9時半",
    "10時",
    "11時",
    "15時",
    "16時半",
    "17時",
    "午前中",
    "午後",
];

/// A patient's message; `english` for someone who writes in English.
pub fn patient(rng: &mut impl Rng, english: bool, phone: &str) -> String {
    let t = if english { PATIENT_EN } else { PATIENT_JA };
    fill(one(rng, t), rng, phone)
}

/// A staff answer.
pub fn staff(rng: &mut impl Rng, english: bool) -> String {
    let t = if english { STAFF_EN } else { STAFF_JA };
    fill(one(rng, t), rng, "")
}

/// A private note between staff.
pub fn note(rng: &mut impl Rng) -> String {
    const NOTES: &[&str] = &[
        "先生に確認済み。{d}に折り返し連絡する。",
        "発熱あり。来院時は裏口から案内すること。",
        "予約変更の連絡あり。{d}{t}に変更済み。",
        "健康診断書の依頼。{n}日までに作成。",
        "薬の副作用の相談。医師に回答をお願いしました。",
    ];
    fill(one(rng, NOTES), rng, "")
}

/// One of `list`, at random (every list here has entries).
pub fn one<T: Copy>(rng: &mut impl Rng, list: &[T]) -> T {
    list[rng.gen_range(0..list.len())]
}

fn fill(template: &str, rng: &mut impl Rng, phone: &str) -> String {
    let mut out = template.to_owned();
    while let Some(i) = out.find('{') {
        let Some(len) = out[i..].find('}') else { break };
        let slot = &out[i + 1..i + len];
        let value = match slot {
            "d" => fill(one(rng, DAYS), rng, phone),
            "de" => one(rng, DAYS_EN).to_string(),
            "t" => one(rng, TIMES).to_string(),
            "n" => rng.gen_range(2..=28).to_string(),
            "f" => format!("{}.{}", rng.gen_range(37..=39), rng.gen_range(0..=9)),
            "b" => rng.gen_range(150..=190).to_string(),
            "y" => (rng.gen_range(30..=45) * 100).to_string(),
            "p" => phone.to_owned(),
            _ => String::new(),
        };
        out.replace_range(i..i + len + 1, &value);
    }
    out
}
