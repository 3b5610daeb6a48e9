//! Context of a Japanese match. Japanese puts negation, tense and condition after the
//! predicate, so most of this reads the few chars after the match: 痛|くない, 痛|みはありません,
//! 苦し|くなったら, 熱|は出ていません; past and resolution read the sentence around it.

use crate::context::{find_any, resolution_scope, sentence_end, sentence_start};
use crate::normalize::Normalized;

/// How far after a match its predicate's ending is read.
const TAIL: usize = 14;

pub(crate) fn cancelled(n: &Normalized, start: usize, end: usize) -> bool {
    let tail = n.slice(end, sentence_end(n, end).min(end + TAIL));
    negated(tail) || hypothetical(tail) || past(n, start, end) || resolved(n, end)
}

/// Okurigana, particles and adverbs that may stand between a predicate and its negation
/// (痛|く|は|ない, 熱|は|出て|いません, 痛み|は|全然|ない). Longest first.
const BEFORE_NEGATION: &[&str] = &[
    "起コシテイ",
    "オコシテイ",
    "ゼンゼン",
    "マッタク",
    "アンマリ",
    "ソンナニ",
    "ホトンド",
    "起コシテ",
    "オコシテ",
    "出テイ",
    "デテイ",
    "シテイ",
    "見ラレ",
    "感ジ",
    "カンジ",
    "全然",
    "特ニ",
    "トクニ",
    "別ニ",
    "ベツニ",
    "全ク",
    "今ハ",
    "イマハ",
    "モウ",
    "アマリ",
    "出テ",
    "デテ",
    "シテ",
    "今",
    "出",
    "ク",
    "ミ",
    "サ",
    "マ",
    "ハ",
    "モ",
    "ガ",
    "ワ",
];

const NEGATION: &[&str] = &[
    "ナイ",
    "ナカッ",
    "ナク",
    "ナシ",
    "無イ",
    "無シ",
    "無カッ",
    "無ク",
    "アリマセン",
    "マセン",
    "ネエ",
];

/// 痛くない, 痛みはありません, 熱は出ていません, 息苦しさはない.
fn negated(tail: &str) -> bool {
    starts_after_strip(tail, BEFORE_NEGATION, NEGATION)
}

/// Okurigana before a condition (苦し|く|なったら, 痛|い|時, 倒れ|たら).
const BEFORE_CONDITION: &[&str] = &["ク", "イ", "ム", "ル", "ナ", "ニ", "ガ", "ハ"];

const CONDITION: &[&str] = &[
    "ッタラ",
    "タラ",
    "ダラ",
    "トキ",
    "時",
    "場合",
    "バアイ",
    "ナラ",
    "レバ",
    "ルト",
    "カト思",
    "カトオモ",
];

/// 息苦しくなったら, 胸が痛い時は, 倒れた場合: asking what to do, not telling what happens;
/// 息が止まるかと思った: a figure of speech.
fn hypothetical(tail: &str) -> bool {
    starts_after_strip(tail, BEFORE_CONDITION, CONDITION) || find_any(tail, IN_CASE).is_some()
}

/// A condition further along the predicate (起こした時のために, 倒れた場合に備えて).
const IN_CASE: &[&str] = &[
    "タトキ",
    "タ時",
    "タ場合",
    "トキノタメ",
    "時ノタメ",
    "ニ備エ",
    "ニソナエ",
];

/// Whether `s` starts with one of `ends` once some of `skip` are taken off its front (checked
/// after each one: 出ていません is 出てい + ません, not 出てい + ま + せん).
fn starts_after_strip(mut s: &str, skip: &[&str], ends: &[&str]) -> bool {
    for _ in 0..8 {
        if ends.iter().any(|w| s.starts_with(w)) {
            return true;
        }
        match skip.iter().find(|w| s.starts_with(*w)) {
            Some(w) => s = &s[w.len()..],
            None => return false,
        }
    }
    false
}

/// Words that place a sentence in the past (先週倒れました), unless "since" follows (先週から).
const PAST: &[&str] = &[
    "昨日",
    "キノウ",
    "昨夜",
    "昨晩",
    "一昨日",
    "オトトイ",
    "先日",
    "先週",
    "先月",
    "去年",
    "昨年",
    "以前",
    "前ニ",
    "昔",
    "コノ前",
    "コノアイダ",
    "コノ間",
    "年前",
    "月前",
    "週間前",
    "日前",
    "頃ニ",
    "コロニ",
    "小サイ頃",
    "子供ノ頃",
];

/// Words saying it is still going on (今も, まだ): a past start does not make it past.
const STILL: &[&str] = &[
    "カラ",
    "ヨリ",
    "ズット",
    "今モ",
    "イマモ",
    "今デモ",
    "マダ",
    "続イ",
    "ツヅイ",
    "今",
    "サッキ",
    "マタ",
    "再ビ",
];

/// After the predicate: it happened once, some time (起こしたことがあります).
const EXPERIENCE: &[&str] = &["タコトガ", "ダコトガ", "タコトハ", "タ事ガ", "タコトア"];

fn past(n: &Normalized, start: usize, end: usize) -> bool {
    // In the match or just after it: 意識を失ったことはありません.
    let around = n.slice(start, sentence_end(n, end).min(end + TAIL));
    if find_any(around, EXPERIENCE).is_some() {
        return true;
    }
    let s0 = sentence_start(n, start);
    let before = n.slice(s0, start);
    let Some((_, after_word)) = find_any(before, PAST) else {
        return false;
    };
    // "since" right after the time word, or "still" anywhere after it in the sentence.
    let rest = format!(
        "{}{}",
        &before[after_word..],
        n.slice(start, sentence_end(n, end))
    );
    // 今日, 今朝 and 今回 name a time, not "still".
    let rest = ["今日", "今朝", "今週", "今回", "今度"]
        .iter()
        .fold(rest, |r, w| r.replace(w, "・"));
    find_any(&rest, STILL).is_none()
}

/// Said later in the message: it has passed (治まった, 今は大丈夫, 血は止まりました).
const RESOLVED: &[&str] = &[
    "今ハ大丈夫",
    "イマハ大丈夫",
    "モウ大丈夫",
    "今ハダイジョウブ",
    "モウダイジョウブ",
    "今ハ平気",
    "モウ平気",
    "今ハ何トモ",
    "今ハナントモ",
    "今ハ症状ハ",
    "今ハ問題",
    "治マッ",
    "治マリ",
    "オサマッ",
    "オサマリ",
    "収マッ",
    "収マリ",
    "治ッ",
    "治リマシ",
    "ナオッ",
    "良クナッ",
    "良クナリ",
    "ヨクナッ",
    "ヨクナリ",
    "楽ニナッ",
    "楽ニナリ",
    "ラクニナッ",
    "ラクニナリ",
    "落チ着イ",
    "落チ着キ",
    "オチツイ",
    "オチツキ",
    "消エ",
    "引キマシ",
    "引イ",
    "ヒキマシ",
    "ヒイ",
    "止マッ",
    "止マリ",
    "トマッ",
    "トマリ",
    "下ガッ",
    "下ガリ",
    "サガッ",
    "サガリ",
    "戻ッ",
    "戻リ",
    "モドッ",
    "モドリ",
    "回復",
    "気ガツイ",
    "気ガ付イ",
    "今日ハ平気",
    "今日ハ大丈夫",
    "今日ハ元気",
    "今朝ハ大丈夫",
    "今朝ハ元気",
    "今ハ元気",
    "モウ元気",
    "元気ニナ",
    "元気ニ遊",
    "今ハ普通",
    "普段通リ",
    "イツモ通リ",
];

/// After a resolution word: not resolved after all (止まりません, 治まっていない), asked
/// (大丈夫ですか), or back again (治まったけどまた).
const NOT_RESOLVED: &[&str] = &[
    "ナイ",
    "ナク",
    "マセン",
    "ナカッ",
    "ズ",
    "カ",
    "?",
    "マタ",
    "再ビ",
    "ソウ",
];

fn resolved(n: &Normalized, end: usize) -> bool {
    let scope = resolution_scope(n, end);
    let mut from = 0;
    while let Some((a, b)) = scope.get(from..).and_then(|s| find_any(s, RESOLVED)) {
        let (a, b) = (from + a, from + b);
        let after: String = scope[b..].chars().take(6).collect();
        // The first chars after, and the rest of the scope for "again".
        let again = find_any(&scope[b..], &["マタ", "再ビ", "マダ"]).is_some();
        if find_any(&after, NOT_RESOLVED).is_none() && !again {
            return true;
        }
        from = a + scope[a..].chars().next().map_or(1, char::len_utf8);
    }
    false
}
