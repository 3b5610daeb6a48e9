//! Patients as a Japanese clinic's register has them: common family and given names with their
//! readings (full-width katakana, as `contacts::Kana` stores them), mobile numbers, card numbers,
//! birth dates; a few foreign patients writing in English.
use rand::Rng;

use super::talk::one;

const FAMILY: &[(&str, &str)] = &[
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山田", "ヤマダ"),
    ("佐々木", "ササキ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
    ("森", "モリ"),
    ("池田", "イケダ"),
    ("橋本", "ハシモト"),
    ("阿部", "アベ"),
    ("石川", "イシカワ"),
    ("山下", "ヤマシタ"),
    ("中島", "ナカジマ"),
    ("石井", "イシイ"),
    ("小川", "オガワ"),
    ("前田", "マエダ"),
    ("岡田", "オカダ"),
    ("長谷川", "ハセガワ"),
    ("藤田", "フジタ"),
    ("後藤", "ゴトウ"),
    ("近藤", "コンドウ"),
];

const GIVEN: &[(&str, &str)] = &[
    ("太郎", "タロウ"),
    ("花子", "ハナコ"),
    ("翔太", "ショウタ"),
    ("美咲", "ミサキ"),
    ("大輔", "ダイスケ"),
    ("陽菜", "ヒナ"),
    ("健一", "ケンイチ"),
    ("由美子", "ユミコ"),
    ("蓮", "レン"),
    ("結衣", "ユイ"),
    ("拓也", "タクヤ"),
    ("さくら", "サクラ"),
    ("誠", "マコト"),
    ("恵子", "ケイコ"),
    ("悠斗", "ユウト"),
    ("愛", "アイ"),
    ("浩二", "コウジ"),
    ("真由美", "マユミ"),
    ("大翔", "ヒロト"),
    ("明美", "アケミ"),
    ("和也", "カズヤ"),
    ("優子", "ユウコ"),
    ("湊", "ミナト"),
    ("幸子", "サチコ"),
];

const FOREIGN: &[&str] = &[
    "Emily Johnson",
    "Michael Smith",
    "Nguyen Van An",
    "Maria Santos",
    "David Lee",
    "Sarah Brown",
    "Tran Thi Mai",
    "James Wilson",
    "Anna Müller",
    "Carlos Garcia",
];

/// One patient of the corpus.
pub struct Person {
    pub name: String,
    pub kana: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub email: Option<String>,
    pub card_number: Option<String>,
    pub birth_date: String,
    pub english: bool,
}

impl Person {
    /// Patient number `i` (the number keeps phones and card numbers distinct).
    pub fn new(rng: &mut impl Rng, i: usize, english: bool) -> Person {
        let (name, kana) = if english {
            (one(rng, FOREIGN).to_string(), None)
        } else {
            let (f, fk) = one(rng, FAMILY);
            let (g, gk) = one(rng, GIVEN);
            (format!("{f} {g}"), Some(format!("{fk} {gk}")))
        };
        let phone = rng
            .gen_bool(0.85)
            .then(|| format!("+81{}{:08}", ["90", "80", "70"][i % 3], i % 100_000_000));
        let email = rng.gen_bool(0.3).then(|| format!("patient{i}@example.jp"));
        let card_number = (!english && rng.gen_bool(0.7)).then(|| format!("{:07}", 1_000_000 + i));
        let birth_date = format!(
            "{}-{:02}-{:02}",
            rng.gen_range(1935..=2022),
            rng.gen_range(1..=12),
            rng.gen_range(1..=28)
        );
        Person {
            name,
            kana,
            phone,
            email,
            card_number,
            birth_date,
            english,
        }
    }

    /// The phone as staff write it (`090-1234-5678`), for messages that quote it.
    pub fn national_phone(&self) -> String {
        match self.phone.as_deref().and_then(|p| p.strip_prefix("+81")) {
            Some(rest) if rest.len() == 10 => {
                format!("0{}-{}-{}", &rest[..2], &rest[2..6], &rest[6..])
            }
            _ => String::new(),
        }
    }
}
