//! The detector through its public API: what counts as a red flag, what does not, and where.

use tsunagu_triage::{builtin_rules, Category, ClinicRules, Detector, ExtraPhrase};

fn urgent(text: &str) -> bool {
    Detector::builtin().assess(text).urgent
}

#[test]
fn chest_pain_with_breathlessness_is_urgent_and_explained() {
    let text = "胸が痛くて息が苦しい";
    let a = Detector::builtin().assess(text);
    assert!(a.urgent);
    assert!(!a.crisis);
    let cats: Vec<Category> = a.hits.iter().map(|h| h.category).collect();
    assert!(cats.contains(&Category::ChestPain), "{a:?}");
    assert!(cats.contains(&Category::Breathing), "{a:?}");
    let chest = a
        .hits
        .iter()
        .find(|h| h.category == Category::ChestPain)
        .unwrap();
    assert_eq!(chest.rule_id, "ja.chest_pain");
    assert_eq!(chest.phrase, "胸…痛");
    assert_eq!(&text[chest.start..chest.end], "胸が痛");
}

#[test]
fn half_width_hiragana_and_casual_spellings_all_match() {
    for t in [
        "ﾑﾈｶﾞｲﾀｲ",
        "ムネがいたい",
        "胸が痛ぃ",
        "むねがいたーい",
        "胸がイタイ",
    ] {
        assert!(urgent(t), "{t}");
    }
}

#[test]
fn okurigana_variants_match() {
    for t in [
        "胸が痛む",
        "胸が痛くて眠れない",
        "胸の痛みがひどい",
        "胸がいたくて",
        "胸が痛かったのが今も続いてる",
    ] {
        assert!(urgent(t), "{t}");
    }
}

#[test]
fn spans_point_into_half_width_input() {
    let text = "夜中から ﾑﾈｶﾞｲﾀｲ です";
    let a = Detector::builtin().assess(text);
    let hit = &a.hits[0];
    assert_eq!(&text[hit.start..hit.end], "ﾑﾈｶﾞｲﾀ");
}

#[test]
fn negation_after_the_predicate_cancels() {
    for t in [
        "熱はないです",
        "胸は痛くない",
        "胸の痛みはありません",
        "息苦しさはないです",
        "胸は全然痛くないです",
    ] {
        assert!(!urgent(t), "{t}");
    }
    for t in [
        "I have no chest pain",
        "My chest doesn't hurt",
        "not short of breath at all",
    ] {
        assert!(!urgent(t), "{t}");
    }
}

#[test]
fn past_and_resolved_mentions_do_not_count() {
    for t in [
        "昨日は胸が痛かったけど今は大丈夫",
        "先週倒れましたが、検査の結果を聞きたいです",
        "鼻血が出たけど止まりました",
        "I had chest pain this morning but it went away",
        "I used to have seizures as a child",
    ] {
        assert!(!urgent(t), "{t}");
    }
    assert!(urgent("昨日から胸が痛い"));
    assert!(urgent("血が止まりません"));
}

#[test]
fn questions_about_services_and_hypotheticals_do_not_count() {
    for t in [
        "救急外来の場所を教えて",
        "AEDはありますか",
        "息苦しくなったらどうすればいいですか",
        "What should I do if my child has a seizure?",
        "母の薬の飲み忘れについて",
        "鼻水が出ます",
        "胸のレントゲンの予約をしたいです",
    ] {
        assert!(!urgent(t), "{t}");
    }
}

#[test]
fn suicidal_intent_is_a_crisis() {
    let a = Detector::builtin().assess("もう死にたい");
    assert!(a.urgent && a.crisis);
    let a = Detector::builtin().assess("I want to kill myself");
    assert!(a.urgent && a.crisis);
}

#[test]
fn a_clinics_extra_phrase_counts_and_a_disabled_rule_does_not() {
    let rules = ClinicRules {
        extra: vec![ExtraPhrase {
            phrase: "{動悸|どうき}…止まらな".into(),
            category: Category::Other,
        }],
        disabled: vec!["ja.child_fever".into()],
    };
    let d = Detector::with_clinic(&rules);
    let a = d.assess("ドウキが止まらないです");
    assert!(a.urgent);
    assert_eq!(a.hits[0].rule_id, "clinic.1");
    assert!(!d.assess("子どもがぐったりしています").urgent);
    assert!(urgent("子どもがぐったりしています"));
    assert!(!urgent("ドウキが止まらないです"));
}

#[test]
fn every_builtin_rule_is_described_in_both_languages() {
    for r in builtin_rules() {
        assert!(
            !r.description_ja.is_empty() && !r.description_en.is_empty(),
            "{}",
            r.id
        );
        assert!(!r.patterns.is_empty(), "{}", r.id);
    }
}

#[test]
fn rules_and_assessments_serialize_for_storage() {
    let a = Detector::builtin().assess("胸が痛い");
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["hits"][0]["category"], "chest_pain");
    let rules: ClinicRules = serde_json::from_str(
        r#"{"extra":[{"phrase":"x","category":"child_fever"}],"disabled":[]}"#,
    )
    .unwrap();
    assert_eq!(rules.extra[0].category, Category::ChildFever);
}

#[test]
fn english_spans_and_chains_point_into_the_original() {
    let text = "Since 10pm my CHEST feels really tight.";
    let a = Detector::builtin().assess(text);
    let hit = a
        .hits
        .iter()
        .find(|h| h.category == Category::ChestPain)
        .unwrap();
    assert_eq!(&text[hit.start..hit.end], "CHEST feels really tight");
    assert_eq!(hit.phrase, "chest…pain");
}

#[test]
fn a_decimal_point_does_not_end_the_sentence() {
    assert!(urgent("1歳の子が39.5度の熱でぐったりしています"));
    assert!(urgent("temp 39.5, very floppy"));
}

#[test]
fn a_long_message_with_many_mentions_is_assessed_without_trouble() {
    let text = "胸が痛くないです。ﾑﾈｶﾞｲﾀｲ😣 I have no chest pain! ".repeat(2000);
    let a = Detector::builtin().assess(&text);
    assert!(a.urgent);
    for h in &a.hits {
        assert!(text.is_char_boundary(h.start) && text.is_char_boundary(h.end));
    }
}

#[test]
fn a_detector_is_shared_across_threads() {
    fn shared<T: Send + Sync + Clone>() {}
    shared::<Detector>();
    let d = Detector::builtin();
    let handle = std::thread::spawn(move || d.assess("息ができない").urgent);
    assert!(handle.join().unwrap());
}

#[test]
fn a_clinic_phrase_is_checked_before_it_is_saved() {
    use tsunagu_triage::PhraseProblem;
    let phrase = |p: &str| ExtraPhrase {
        phrase: p.into(),
        category: Category::Other,
    };
    assert_eq!(phrase("動悸…止まらな").check(), Ok(()));
    assert_eq!(phrase(" 。 ").check(), Err(PhraseProblem::Empty));
    assert_eq!(phrase("{|}…").check(), Err(PhraseProblem::Empty));
    assert_eq!(
        phrase(&"あ".repeat(101)).check(),
        Err(PhraseProblem::TooLong)
    );
    assert_eq!(PhraseProblem::TooLong.as_str(), "triage_phrase_too_long");
    let rules = ClinicRules {
        extra: vec![phrase(""), phrase("めまいが止まらない")],
        disabled: vec![],
    };
    // The empty one is skipped; numbering stays by position.
    let a = Detector::with_clinic(&rules).assess("めまいが止まらないです");
    assert_eq!(a.hits[0].rule_id, "clinic.2");
}
