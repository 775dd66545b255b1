use super::*;

#[test]
fn names_that_read_as_the_built_in_engine_are_refused() {
    let refused = [
        BUILTIN_PROVIDER,
        "on this computer (built in)",
        "ON THIS COMPUTER (BUILT IN)",
        "On this computer (built-in)",
        "On this computer",
        "On  this   computer",
        "Ｏｎ ｔｈｉｓ ｃｏｍｐｕｔｅｒ", // full width
        "𝐎𝐧 𝐭𝐡𝐢𝐬 𝐜𝐨𝐦𝐩𝐮𝐭𝐞𝐫",               // mathematical bold
        "ᴏɴ ᴛʜɪs ᴄᴏᴍᴘᴜᴛᴇʀ (ʙᴜɪʟᴛ ɪɴ)",    // small capitals
        "On this c0mputer",
        "On th1s computer",
        "On this cornputer",
        "On this compúter",
        "This computer",
        "this-computer",
        "thiscomputer",
        "On this machine",
        "This device",
        "Built in",
        "builtin",
        "Built-In GPU box",
        "Bui1t in",
        "My server (on this computer)",
    ];
    for name in refused {
        let err = validate_name(name).expect_err(name);
        assert!(err.to_string().contains("only it may"), "{name}: {err}");
    }
}

#[test]
fn look_alike_letters_of_other_alphabets_are_refused_in_latin_words() {
    let refused = [
        "On this cоmputer (built in)", // Cyrillic о
        "Оn thіs computer",            // Cyrillic О and і
        "On this cοmputer",            // Greek ο
        "ON TΗIS COMPUTER (BUILT IΝ)", // Greek Η and Ν
        "ON TНIS COMPUTER",            // Cyrillic Н
        "On this cօmputer (built-іո)", // Armenian օ and ո, Cyrillic і
        "Wоrk GPU",                    // Cyrillic о: another provider's look-alike
    ];
    for name in refused {
        let err = validate_name(name).expect_err(name);
        assert!(err.to_string().contains("alphabet"), "{name}: {err}");
    }
}

#[test]
fn hidden_and_control_characters_are_refused() {
    for name in [
        "",
        "   ",
        "Ollama\u{202E}lacol",
        "Open\u{200B}AI",
        "Groq\u{2066}",
        "tag\u{E0041}",
        "bell\u{7}",
        "line\nbreak",
        "Cl\u{FE0F}aude",
        "a\u{200D}b",
        &"x".repeat(65),
    ] {
        let err = validate_name(name).expect_err(name);
        assert!(err.to_string().contains("1 to 64"), "{name:?}: {err}");
    }
}

#[test]
fn ordinary_names_are_kept() {
    for (name, kept) in [
        ("OpenAI", "OpenAI"),
        ("  LM Studio  ", "LM Studio"),
        ("Ollama on the NAS", "Ollama on the NAS"),
        ("local", "local"),
        ("Компьютер", "Компьютер"),
        ("Ελληνικά μοντέλα", "Ελληνικά μοντέλα"),
        ("计算机", "计算机"),
        ("DeepSeek", "DeepSeek"),
        ("the computer lab", "the computer lab"),
        ("Builder", "Builder"),
        ("Rebuilt Industries", "Rebuilt Industries"),
        ("Built Intelligence", "Built Intelligence"),
        ("Mathis Computer", "Mathis Computer"),
        ("\u{2764}\u{FE0F} Claude", "\u{2764}\u{FE0F} Claude"),
        (
            "\u{1F468}\u{200D}\u{1F4BB} Work",
            "\u{1F468}\u{200D}\u{1F4BB} Work",
        ),
        (&"x".repeat(64), &"x".repeat(64)),
    ] {
        assert_eq!(validate_name(name).unwrap(), kept);
    }
}

#[test]
fn a_skeleton_folds_what_looks_alike() {
    assert_eq!(skeleton("Оn thіs cоmputer"), skeleton("on this computer"));
    assert_eq!(skeleton("ＡＢＣ"), "abc");
    assert_eq!(skeleton("a-b c_d"), "abcd");
    assert_eq!(skeleton("l1I|"), "iiii");
    assert_eq!(skeleton("café"), "cafe");
    assert_eq!(skeleton("cornputer"), skeleton("computer"));
    assert_eq!(skeleton("ᴄᴏᴍᴘᴜᴛᴇʀ"), skeleton("computer"));
    assert_eq!(skeleton("ΒΙΝ"), skeleton("bin"));
}
