//! Japanese text normalization, shared by patient search, keyword rules and triage: what staff
//! and patients type arrives in full-width or half-width letters, hiragana or katakana, and
//! either case, and should match all the same.

/// Half-width katakana U+FF61..=U+FF9D, in code point order, as their full-width forms.
const HALF_KATAKANA: &str =
    "。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン";

const DAKUTEN: [char; 3] = ['\u{FF9E}', '\u{3099}', '\u{309B}'];
const HANDAKUTEN: [char; 3] = ['\u{FF9F}', '\u{309A}', '\u{309C}'];

/// Full-width ASCII (`ＡＢＣ１２３＠`) to ASCII, the ideographic space to a space, and
/// half-width katakana (`ﾔﾏﾀﾞ`) to full-width (`ヤマダ`), composing voiced marks on the way.
pub fn fold_width(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let u = c as u32;
        let mapped = match u {
            0xFF01..=0xFF5E => char::from_u32(u - 0xFEE0).unwrap_or(c),
            0x3000 => ' ',
            0xFF61..=0xFF9D => HALF_KATAKANA
                .chars()
                .nth((u - 0xFF61) as usize)
                .unwrap_or(c),
            _ => c,
        };
        push_composed(&mut out, mapped);
    }
    out
}

/// Appends `c`, merging a voiced or semi-voiced sound mark into the kana before it
/// (`カ` + `ﾞ` → `ガ`). A mark with nothing to merge into is kept as it came.
fn push_composed(out: &mut String, c: char) {
    let voiced = DAKUTEN.contains(&c);
    let semi = HANDAKUTEN.contains(&c);
    if voiced || semi {
        if let Some(prev) = out.chars().last() {
            if let Some(m) = compose(prev, semi) {
                out.pop();
                out.push(m);
                return;
            }
        }
    }
    out.push(c);
}

fn compose(base: char, semi: bool) -> Option<char> {
    const VOICEABLE: &str =
        "かきくけこさしすせそたちつてとはひふへほカキクケコサシスセソタチツテトハヒフヘホ";
    const SEMI_VOICEABLE: &str = "はひふへほハヒフヘホ";
    match (base, semi) {
        ('ウ', false) => Some('ヴ'),
        ('う', false) => Some('ゔ'),
        (b, false) if VOICEABLE.contains(b) => char::from_u32(b as u32 + 1),
        (b, true) if SEMI_VOICEABLE.contains(b) => char::from_u32(b as u32 + 2),
        _ => None,
    }
}

/// Hiragana to katakana (`やまだ` → `ヤマダ`); everything else unchanged.
pub fn to_katakana(s: &str) -> String {
    s.chars()
        .map(|c| match c as u32 {
            0x3041..=0x3096 | 0x309D | 0x309E => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Katakana to hiragana (`ヤマダ` → `やまだ`); letters without a hiragana form stay.
pub fn to_hiragana(s: &str) -> String {
    s.chars()
        .map(|c| match c as u32 {
            0x30A1..=0x30F6 | 0x30FD | 0x30FE => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Lower case (Latin, Greek, Cyrillic, full-width letters alike).
pub fn fold_case(s: &str) -> String {
    s.to_lowercase()
}

/// Trims and turns every run of white space (including the ideographic space) into one space.
pub fn squeeze_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The form two texts are compared in by search and keyword rules: width folded, kana as
/// katakana, lower case, without white space. `山田 太郎`, `ﾔﾏﾀﾞ`, `やまだ` and `ヤマダ`
/// become `山田太郎`, `ヤマダ`, `ヤマダ`, `ヤマダ`.
pub fn search_form(s: &str) -> String {
    search_form_mapped(s).0
}

/// `search_form(s)` with, for each of its chars, the char range of `s` it came from, so a match
/// found in the search form can be shown on the original text (a composed `ﾀﾞ` maps to both).
/// Built char by char, so every step above is applied the same way `search_form` applies it.
pub fn search_form_mapped(s: &str) -> (String, Vec<(usize, usize)>) {
    form_mapped(s, false)
}

/// `search_form_mapped` keeping word breaks: each run of white space becomes one space, or one
/// line break when it holds one (none at either end), for matching English words, which spaces
/// keep apart, and sentences, which line breaks often end. Triage matches in it.
pub fn spaced_form_mapped(s: &str) -> (String, Vec<(usize, usize)>) {
    form_mapped(s, true)
}

fn form_mapped(s: &str, keep_spaces: bool) -> (String, Vec<(usize, usize)>) {
    let mut out = String::with_capacity(s.len());
    let mut from: Vec<(usize, usize)> = Vec::with_capacity(s.len());
    // The width-folded chars not yet lowered, with where they came from: a voiced mark may
    // still merge into the last one.
    let mut folded: Vec<(char, usize, usize)> = Vec::new();
    for (i, c) in s.chars().enumerate() {
        let mut one = String::new();
        if let Some(&(prev, ..)) = folded.last() {
            one.push(prev);
        }
        let had_prev = !one.is_empty();
        let w = fold_width(&c.to_string());
        let Some(mapped) = w.chars().next() else {
            continue;
        };
        push_composed(&mut one, mapped);
        match (had_prev, one.chars().count()) {
            // Merged into the char before: it now ends here.
            (true, 1) => {
                if let (Some(last), Some(m)) = (folded.last_mut(), one.chars().next()) {
                    *last = (m, last.1, i + 1);
                }
            }
            _ => folded.push((mapped, i, i + 1)),
        }
    }
    for (c, start, end) in folded {
        if c.is_whitespace() {
            if keep_spaces && !out.is_empty() {
                if !out.ends_with([' ', '\n']) {
                    out.push(' ');
                    from.push((start, end));
                }
                // A line break in the run wins: a patient's lines are often their sentences.
                if c == '\n' && out.ends_with(' ') {
                    out.pop();
                    out.push('\n');
                }
            }
            continue;
        }
        for l in to_katakana(&c.to_string()).to_lowercase().chars() {
            if !l.is_whitespace() {
                out.push(l);
                from.push((start, end));
            }
        }
    }
    if out.ends_with([' ', '\n']) {
        out.pop();
        from.pop();
    }
    (out, from)
}

/// The form a short command or keyword a patient types is compared in: `search_form` (width,
/// kana, case and spaces folded) without punctuation, quotes or brackets around it, so
/// `「駐車場」`, ` ちゅうしゃじょう？` and `ﾁｭｳｼｬｼﾞｮｳ。` all become `チュウシャジョウ` or `駐車場`.
/// Consent commands, escape words and keyword rules compare in this form.
pub fn match_form(s: &str) -> String {
    search_form(s)
        .trim_matches(|c: char| is_surrounding_mark(c))
        .to_string()
}

/// Punctuation, quotes, brackets and symbols that may surround a word without changing it
/// (the long vowel mark ー is a letter, never trimmed).
fn is_surrounding_mark(c: char) -> bool {
    if c == 'ー' {
        return false;
    }
    c.is_ascii_punctuation()
        || matches!(
            c,
            '。' | '、'
                | '・'
                | '「'
                | '」'
                | '『'
                | '』'
                | '【'
                | '】'
                | '（'
                | '）'
                | '〜'
                | '～'
                | '…'
                | '‥'
                | '♪'
                | '☆'
                | '★'
                | '♡'
                | '❤'
                | '“'
                | '”'
                | '‘'
                | '’'
                | '〈'
                | '〉'
                | '《'
                | '》'
                | '〔'
                | '〕'
        )
        || matches!(c as u32, 0x1F300..=0x1FAFF | 0x2600..=0x27BF | 0xFE0F)
}

/// Whether `c` may appear in a name reading written in full-width katakana (フリガナ).
pub fn is_katakana_reading_char(c: char) -> bool {
    matches!(
        c as u32,
        0x30A1..=0x30F6 | 0x30FB | 0x30FC | 0x30FD | 0x30FE
    ) || c == ' '
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_letters_and_digits_become_ascii() {
        assert_eq!(
            fold_width("ＡＢＣ　１２３＠ｅｘａｍｐｌｅ．ｊｐ"),
            "ABC 123@example.jp"
        );
    }

    #[test]
    fn half_width_katakana_becomes_full_width_with_voiced_marks_composed() {
        assert_eq!(fold_width("ﾔﾏﾀﾞ ﾀﾛｳ"), "ヤマダ タロウ");
        assert_eq!(fold_width("ﾎﾟﾝﾌﾟ ｳﾞｧｲｵﾘﾝ"), "ポンプ ヴァイオリン");
        assert_eq!(fold_width("ｰ｡｢｣"), "ー。「」");
    }

    #[test]
    fn combining_and_spacing_voiced_marks_are_composed() {
        assert_eq!(fold_width("カ\u{3099}ハ\u{309A}"), "ガパ");
        assert_eq!(fold_width("か゛"), "が");
        assert_eq!(fold_width("ﾞア"), "\u{FF9E}ア");
    }

    #[test]
    fn hiragana_and_katakana_convert_both_ways() {
        assert_eq!(to_katakana("やまだ たろう ゝ"), "ヤマダ タロウ ヽ");
        assert_eq!(to_hiragana("ヤマダ タロウ ー"), "やまだ たろう ー");
        assert_eq!(to_katakana("山田abc"), "山田abc");
    }

    #[test]
    fn the_search_form_ignores_width_kana_case_and_spaces() {
        let forms = ["やまだ", "ヤマダ", "ﾔﾏﾀﾞ", "ヤ マ ダ"];
        for f in forms {
            assert_eq!(search_form(f), "ヤマダ", "{f}");
        }
        assert_eq!(search_form("山田　太郎"), "山田太郎");
        assert_eq!(search_form("ＹＡＭＡＤＡ Taro"), "yamadataro");
    }

    #[test]
    fn the_mapped_search_form_says_where_each_char_came_from() {
        let (form, from) = search_form_mapped("ﾀﾞｲ　ABC予約");
        assert_eq!(form, "ダイabc予約");
        assert_eq!(spaced_form_mapped("胸 \n\n痛い ").0, "胸\n痛イ");
        let (spaced, spaced_from) = spaced_form_mapped(" ﾀﾞｲ　 ABC\n");
        assert_eq!(spaced, "ダイ abc");
        assert_eq!(
            spaced_from,
            [(1, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9)]
        );
        assert_eq!(
            from,
            [(0, 2), (2, 3), (4, 5), (5, 6), (6, 7), (7, 8), (8, 9)]
        );
        for s in [
            "ﾔﾏﾀﾞ ﾀﾛｳ",
            "カ\u{3099}ハ\u{309A}",
            "ﾞア",
            "ＹＡＭＡＤＡ Taro",
            "😀熱が３８度",
        ] {
            assert_eq!(search_form_mapped(s).0, search_form(s), "{s}");
        }
    }

    #[test]
    fn the_match_form_folds_like_search_and_drops_surrounding_punctuation() {
        for t in [
            "ﾁｭｳｼｬｼﾞｮｳ",
            "ちゅうしゃじょう",
            "チュウシャジョウ",
            "「ちゅうしゃじょう」？",
            " ﾁｭｳｼｬｼﾞｮｳ。",
        ] {
            assert_eq!(match_form(t), "チュウシャジョウ", "{t}");
        }
        assert_eq!(match_form("駐車場は？！"), "駐車場ハ");
        assert_eq!(match_form("ＳＴＯＰ!"), "stop");
        assert_eq!(match_form("【スタッフ】"), "スタッフ");
        assert_eq!(match_form("コーヒー"), "コーヒー");
        assert_eq!(match_form("駐車場😊"), "駐車場");
        assert_eq!(match_form("診療 時間"), "診療時間");
    }

    #[test]
    fn spaces_are_squeezed_and_trimmed() {
        assert_eq!(squeeze_spaces("  山田　 太郎 "), "山田 太郎");
    }

    #[test]
    fn katakana_readings_allow_the_long_vowel_and_middle_dot() {
        assert!("ヤマダ・タロー ヴ".chars().all(is_katakana_reading_char));
        assert!(!"やまだ".chars().all(is_katakana_reading_char));
    }
}
