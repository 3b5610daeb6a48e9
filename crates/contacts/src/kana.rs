//! Name readings (フリガナ) and clinic card numbers (診察券番号): both arrive in every width
//! and script, and both are compared, so each has one stored form.
use serde::Serialize;
use tsunagu_core::text::{fold_width, is_katakana_reading_char, squeeze_spaces, to_katakana};
use tsunagu_core::Code;

use crate::Invalid;

/// A reading in full-width katakana (`ヤマダ タロウ`). Hiragana and half-width katakana are
/// converted; anything else (kanji, Latin letters) is refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Kana(String);

impl Kana {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let k = squeeze_spaces(&to_katakana(&fold_width(s)));
        if k.is_empty() || k.chars().count() > 100 || !k.chars().all(is_katakana_reading_char) {
            return Err(Invalid(Code::InvalidKana));
        }
        Ok(Kana(k))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A clinic card number: ASCII letters and digits, upper case, separators dropped, so
/// `００１２３`, `00-123` and `00123` are the same card. Leading zeros are kept.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct CardNumber(String);

impl CardNumber {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let folded = fold_width(s);
        let mut out = String::new();
        for c in folded.chars() {
            match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' => out.push(c.to_ascii_uppercase()),
                ' ' | '-' | 'ー' | '\u{2010}'..='\u{2015}' | '\u{2212}' => {}
                _ => return Err(Invalid(Code::InvalidCardNumber)),
            }
        }
        if out.is_empty() || out.len() > 20 {
            return Err(Invalid(Code::InvalidCardNumber));
        }
        Ok(CardNumber(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Sex as recorded on the clinic's record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sex {
    Female,
    Male,
    Other,
    Unknown,
}

impl Sex {
    /// `female`/`male`/`other`/`unknown`, and what Japanese forms and exports write:
    /// 女・女性・F・2, 男・男性・M・1 (JIS X 0303 codes), その他・9, 不明・0.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = fold_width(s.trim()).to_lowercase();
        Ok(match s.as_str() {
            "female" | "f" | "女" | "女性" | "2" => Sex::Female,
            "male" | "m" | "男" | "男性" | "1" => Sex::Male,
            "other" | "その他" | "9" => Sex::Other,
            "unknown" | "不明" | "0" | "" => Sex::Unknown,
            _ => return Err(Invalid(Code::InvalidSex)),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Female => "female",
            Sex::Male => "male",
            Sex::Other => "other",
            Sex::Unknown => "unknown",
        }
    }
}

/// A preferred language as a BCP 47 tag (`ja`, `en`, `pt-BR`); common Japanese names
/// (日本語, 英語, 中国語 …) as written in clinic spreadsheets are accepted too.
pub fn parse_language(s: &str) -> Result<String, Invalid> {
    let s = fold_width(s.trim());
    let named = match s.as_str() {
        "日本語" => Some("ja"),
        "英語" => Some("en"),
        "中国語" => Some("zh"),
        "韓国語" => Some("ko"),
        "ベトナム語" => Some("vi"),
        "ポルトガル語" => Some("pt"),
        "スペイン語" => Some("es"),
        "タガログ語" => Some("tl"),
        "ネパール語" => Some("ne"),
        _ => None,
    };
    if let Some(code) = named {
        return Ok(code.to_string());
    }
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    let rest_ok =
        parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()));
    if !(primary_ok && rest_ok) {
        return Err(Invalid(Code::InvalidLanguage));
    }
    Ok(match s.split_once('-') {
        Some((p, r)) => format!("{}-{r}", p.to_ascii_lowercase()),
        None => s.to_ascii_lowercase(),
    })
}

/// The languages offered when staff pick a patient's language (codes `parse_language` accepts;
/// Japan's largest foreign-resident communities first after Japanese and English).
pub const LANGUAGES: [&str; 12] = [
    "ja", "en", "zh", "ko", "vi", "pt", "es", "tl", "ne", "id", "th", "my",
];

/// The channels a clinic may prefer to reach a patient on.
pub const CHANNELS: [&str; 7] = [
    "line",
    "sms",
    "email",
    "phone",
    "whatsapp",
    "messenger",
    "webchat",
];

/// A preferred channel (`line`, `sms`, …; also LINE, メール, 電話 …).
pub fn parse_channel(s: &str) -> Result<&'static str, Invalid> {
    let s = fold_width(s.trim()).to_lowercase();
    let alias = match s.as_str() {
        "ライン" => "line",
        "ショートメール" | "ショートメッセージ" => "sms",
        "メール" | "e-mail" | "eメール" => "email",
        "電話" | "tel" => "phone",
        other => other,
    };
    CHANNELS
        .iter()
        .find(|c| **c == alias)
        .copied()
        .ok_or(Invalid(Code::InvalidChannel))
}

/// A tag: width-folded, spaces squeezed, 1–50 characters, without the list separators.
pub fn parse_tag(s: &str) -> Result<String, Invalid> {
    let t = squeeze_spaces(&fold_width(s));
    if t.is_empty() || t.chars().count() > 50 || t.contains([';', '、', ',']) {
        return Err(Invalid(Code::InvalidTag));
    }
    Ok(t)
}

/// A list of tags as written in one cell or field: separated by `;`, `、` or `,`.
pub fn split_tags(s: &str) -> impl Iterator<Item = &str> {
    s.split([';', '、', ',', '；', '，'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiragana_and_half_width_readings_become_full_width_katakana() {
        for s in [
            "やまだ　たろう",
            "ﾔﾏﾀﾞ ﾀﾛｳ",
            "ヤマダ タロウ",
            " ヤマダ  タロウ ",
        ] {
            assert_eq!(
                Kana::parse(s).map(|k| k.as_str().to_string()).as_deref(),
                Ok("ヤマダ タロウ"),
                "{s}"
            );
        }
    }

    #[test]
    fn a_reading_in_kanji_or_latin_letters_is_refused() {
        for s in ["山田", "Yamada", "", "ヤマダ1"] {
            assert_eq!(Kana::parse(s), Err(Invalid(Code::InvalidKana)), "{s}");
        }
    }

    #[test]
    fn card_numbers_in_any_width_or_with_hyphens_are_the_same_card() {
        let a = CardNumber::parse("００１２３");
        assert_eq!(a, CardNumber::parse("00-123"));
        assert_eq!(a, CardNumber::parse(" 00123 "));
        assert_eq!(
            CardNumber::parse("ab-12")
                .map(|c| c.as_str().to_string())
                .as_deref(),
            Ok("AB12")
        );
        assert!(CardNumber::parse("12#3").is_err());
        assert!(CardNumber::parse("").is_err());
        assert!(CardNumber::parse(&"1".repeat(21)).is_err());
    }

    #[test]
    fn sex_is_read_in_english_japanese_and_jis_codes() {
        assert_eq!(Sex::parse("女性"), Ok(Sex::Female));
        assert_eq!(Sex::parse("M"), Ok(Sex::Male));
        assert_eq!(Sex::parse("1"), Ok(Sex::Male));
        assert_eq!(Sex::parse("不明"), Ok(Sex::Unknown));
        assert_eq!(Sex::parse("x"), Err(Invalid(Code::InvalidSex)));
    }

    #[test]
    fn languages_and_channels_accept_codes_and_japanese_names() {
        assert_eq!(parse_language("日本語").as_deref(), Ok("ja"));
        assert_eq!(parse_language("PT-BR").as_deref(), Ok("pt-BR"));
        assert!(parse_language("japanese language").is_err());
        assert_eq!(parse_channel("LINE"), Ok("line"));
        assert_eq!(parse_channel("メール"), Ok("email"));
        assert_eq!(parse_channel("fax"), Err(Invalid(Code::InvalidChannel)));
    }

    #[test]
    fn tags_are_split_on_semicolons_and_japanese_commas() {
        let tags: Vec<&str> = split_tags("糖尿病;  定期検診、小児 ;").collect();
        assert_eq!(tags, ["糖尿病", "定期検診", "小児"]);
        assert_eq!(parse_tag("ＶＩＰ").as_deref(), Ok("VIP"));
    }
}
