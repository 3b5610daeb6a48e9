use serde_json::json;

use super::*;

fn menu(areas: Vec<Area>) -> RichMenu {
    RichMenu {
        size: Size {
            width: 2500,
            height: 843,
        },
        selected: false,
        name: "初診の方".into(),
        chat_bar_text: "メニュー".into(),
        areas,
    }
}

fn area(x: u32, width: u32, action: Action) -> Area {
    Area {
        bounds: Bounds {
            x,
            y: 0,
            width,
            height: 843,
        },
        action,
    }
}

fn message(text: &str) -> Action {
    Action::Message {
        label: Some("予約".into()),
        text: text.into(),
    }
}

#[test]
fn a_menu_serializes_as_lines_rich_menu_object() {
    let m = menu(vec![
        area(0, 1250, message("予約したい")),
        area(
            1250,
            1250,
            Action::RichMenuSwitch {
                label: None,
                rich_menu_alias_id: "tab-b".into(),
                data: "tab=b".into(),
            },
        ),
    ]);
    assert_eq!(m.check(), Ok(()));
    assert_eq!(
        serde_json::to_value(&m).unwrap(),
        json!({
            "size": {"width": 2500, "height": 843},
            "selected": false,
            "name": "初診の方",
            "chatBarText": "メニュー",
            "areas": [
                {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
                 "action": {"type": "message", "label": "予約", "text": "予約したい"}},
                {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
                 "action": {"type": "richmenuswitch", "richMenuAliasId": "tab-b", "data": "tab=b"}}
            ]
        })
    );
}

#[test]
fn sizes_follow_lines_image_rules() {
    for (width, height) in TEMPLATE_SIZES {
        assert_eq!(
            check_size(Size { width, height }),
            Ok(()),
            "{width}x{height}"
        );
    }
    for (width, height) in [
        (799, 270),
        (2501, 843),
        (800, 249),
        (1200, 828),
        (2500, 1725),
    ] {
        assert!(
            check_size(Size { width, height }).is_err(),
            "{width}x{height}"
        );
    }
}

#[test]
fn twenty_one_areas_or_an_area_past_the_edge_are_refused() {
    let many: Vec<Area> = (0..21).map(|i| area(i * 100, 100, message("x"))).collect();
    assert_eq!(
        menu(many).check(),
        Err(RichMenuError::AreaCount { count: 21 })
    );
    assert_eq!(
        menu(vec![area(2000, 501, message("x"))]).check(),
        Err(RichMenuError::AreaOutside { index: 0 })
    );
    assert_eq!(
        menu(vec![]).check(),
        Err(RichMenuError::AreaCount { count: 0 })
    );
}

#[test]
fn texts_are_counted_in_characters() {
    let mut m = menu(vec![area(0, 2500, message("x"))]);
    m.chat_bar_text = "あ".repeat(14);
    assert_eq!(m.check(), Ok(()));
    m.chat_bar_text = "あ".repeat(15);
    assert_eq!(m.check(), Err(RichMenuError::ChatBarText));
    m.chat_bar_text = "メニュー".into();
    m.name = "a".repeat(301);
    assert_eq!(m.check(), Err(RichMenuError::Name));
}

#[test]
fn actions_are_checked_for_their_own_limits() {
    let bad = [
        Action::Uri {
            label: None,
            uri: "javascript:alert(1)".into(),
        },
        Action::Message {
            label: Some("あ".repeat(21)),
            text: "x".into(),
        },
        Action::Postback {
            label: None,
            data: "d".repeat(301),
            display_text: None,
        },
        Action::RichMenuSwitch {
            label: None,
            rich_menu_alias_id: "Tab A".into(),
            data: "x".into(),
        },
    ];
    for action in bad {
        assert!(
            matches!(
                menu(vec![area(0, 2500, action.clone())]).check(),
                Err(RichMenuError::Action { index: 0, .. })
            ),
            "{action:?}"
        );
    }
}

fn png_header(width: u32, height: u32) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 2, 0, 0, 0]);
    b
}

fn jpeg_header(width: u16, height: u16) -> Vec<u8> {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, b'J', b'F'];
    b.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&width.to_be_bytes());
    b
}

#[test]
fn images_are_read_from_their_headers_and_must_match_the_menu() {
    let size = Size {
        width: 2500,
        height: 843,
    };
    assert_eq!(
        check_image(&png_header(2500, 843), size).map(|i| i.content_type),
        Ok("image/png")
    );
    assert_eq!(
        check_image(&jpeg_header(2500, 843), size).map(|i| i.content_type),
        Ok("image/jpeg")
    );
    assert!(matches!(
        check_image(&png_header(2500, 1686), size),
        Err(RichMenuError::ImageSize { .. })
    ));
    assert_eq!(check_image(b"GIF89a", size), Err(RichMenuError::ImageType));
    let mut big = png_header(2500, 843);
    big.resize(MAX_IMAGE_BYTES + 1, 0);
    assert!(matches!(
        check_image(&big, size),
        Err(RichMenuError::ImageTooLarge { .. })
    ));
}

#[test]
fn batch_operations_serialize_with_lines_type_names() {
    let ops = vec![
        BatchOperation::Link {
            from: "richmenu-a".into(),
            to: "richmenu-b".into(),
        },
        BatchOperation::Unlink {
            from: "richmenu-c".into(),
        },
        BatchOperation::UnlinkAll,
    ];
    assert_eq!(
        serde_json::to_value(&ops).unwrap(),
        json!([
            {"type": "link", "from": "richmenu-a", "to": "richmenu-b"},
            {"type": "unlink", "from": "richmenu-c"},
            {"type": "unlinkAll"}
        ])
    );
    assert!(check_batch(&ops).is_ok());
    assert!(check_batch(&[]).is_err());
    let too_many = vec![BatchOperation::UnlinkAll; 1001];
    assert!(check_batch(&too_many).is_err());
}
