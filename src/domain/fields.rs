use unicode_normalization::UnicodeNormalization;
use validator::ValidateEmail;

use crate::error::FieldError;

/// The form in which text is compared: Unicode NFKC, then lower case. Usernames, emails, and
/// search keys of names and filters all use it, so `ＡＬＩＣＥ`, `Alice` and `alice` meet.
pub fn fold(text: &str) -> String {
    text.nfkc().collect::<String>().to_lowercase()
}

/// Control characters, and the invisible characters that let two names look identical:
/// bidirectional controls, zero-width spaces, the byte-order mark, tags, fillers. Names may
/// still use the zero-width (non-)joiners that some scripts and emoji sequences need.
pub fn is_hidden_or_control(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}'
            | '\u{200B}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}'
            | '\u{2800}' | '\u{3164}' | '\u{FEFF}' | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

/// For usernames and emails, stricter: also joiners, combining grapheme joiner and variation
/// selectors (Unicode's default-ignorable characters).
pub fn is_ignorable(c: char) -> bool {
    is_hidden_or_control(c)
        || matches!(
            c,
            '\u{034F}' | '\u{200C}' | '\u{200D}' | '\u{FE00}'..='\u{FE0F}'
        )
}

/// A person's display name: trimmed, 1–100 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        // The limit applies to what was sent, surrounding spaces included (as documented).
        let value = raw.trim();
        if value.is_empty() {
            return Err(FieldError::new("name", "required", "must not be empty"));
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(FieldError::new(
                "name",
                "too_long",
                "must be at most 100 characters",
            ));
        }
        if value.chars().any(is_hidden_or_control) {
            return Err(FieldError::new(
                "name",
                "invalid_characters",
                "must not contain control or invisible characters",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The NFKC, lower-cased form used for case-insensitive filtering and sorting, so that
    /// "E\u{301}lodie", "Élodie" and "ÉLODIE" all match one another.
    pub fn search_key(&self) -> String {
        fold(&self.0)
    }
}

/// A sign-in name: trimmed, Unicode NFKC, lower-cased; 3–254 characters; no whitespace or
/// control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn normalize(raw: &str) -> String {
        fold(raw.trim())
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = Self::normalize(raw);
        if value.chars().count() < 3 {
            return Err(FieldError::new(
                "username",
                "too_short",
                "must be at least 3 characters",
            ));
        }
        if value.chars().count().max(raw.chars().count()) > 254 {
            return Err(FieldError::new(
                "username",
                "too_long",
                "must be at most 254 characters",
            ));
        }
        if value.chars().any(|c| c.is_whitespace() || is_ignorable(c)) {
            return Err(FieldError::new(
                "username",
                "invalid_characters",
                "must not contain whitespace or control characters",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address: valid syntax, at most 254 characters, stored lower-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = fold(raw.trim());
        if value.is_empty() {
            return Err(FieldError::new("email", "required", "must not be empty"));
        }
        if value.chars().count().max(raw.chars().count()) > 254 {
            return Err(FieldError::new(
                "email",
                "too_long",
                "must be at most 254 characters",
            ));
        }
        if !value.validate_email() || value.chars().any(|c| c.is_whitespace() || is_ignorable(c)) {
            return Err(FieldError::new(
                "email",
                "invalid_format",
                "must be a valid email address",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert_eq!(PersonName::parse("   ").unwrap_err().code, "required");
        assert!(PersonName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            PersonName::parse(&"é".repeat(101)).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            PersonName::parse("Ada\u{0007}").unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(
            PersonName::parse("Ada\nLovelace").unwrap_err().code,
            "invalid_characters"
        );
        let decomposed = PersonName::parse("E\u{301}lodie").unwrap();
        assert_eq!(
            decomposed.search_key(),
            PersonName::parse("ÉLODIE").unwrap().search_key()
        );
    }

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(
            Username::parse("  Alice@X.com ").unwrap().as_str(),
            "alice@x.com"
        );
        // NFKC folds compatibility forms: fullwidth letters and the "ﬁ" ligature.
        assert_eq!(Username::parse("ＡＬＩＣＥ").unwrap().as_str(), "alice");
        assert_eq!(Username::parse("ﬁona").unwrap().as_str(), "fiona");
        assert_eq!(Username::parse("ab").unwrap_err().code, "too_short");
        assert_eq!(Username::parse(" ab ").unwrap_err().code, "too_short");
        assert_eq!(
            PersonName::parse(&format!(" {}", "a".repeat(100)))
                .unwrap_err()
                .code,
            "too_long"
        );
        assert_eq!(
            Username::parse("a b c").unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(
            Username::parse("abc\u{0000}").unwrap_err().code,
            "invalid_characters"
        );
        for hidden in ["owner\u{200B}@acme.test", "\u{202E}evil", "a\u{FEFF}bc"] {
            assert_eq!(
                Username::parse(hidden).unwrap_err().code,
                "invalid_characters"
            );
        }
        assert_eq!(
            PersonName::parse("Ada\u{202E}").unwrap_err().code,
            "invalid_characters"
        );
        for hidden in [
            "bob\u{034F}@acme.test",
            "\u{3164}abc",
            "abc\u{FE0F}",
            "ab\u{2800}c",
            "a\u{200D}bc",
        ] {
            assert_eq!(
                Username::parse(hidden).unwrap_err().code,
                "invalid_characters",
                "{hidden:?}"
            );
        }
        // Persian needs the zero-width non-joiner; emoji sequences need the joiner.
        assert!(PersonName::parse("Mohammad\u{200C}Reza").is_ok());
        assert!(PersonName::parse("Ada \u{1F469}\u{200D}\u{1F4BB}").is_ok());
        assert_eq!(
            Username::parse(&"a".repeat(255)).unwrap_err().code,
            "too_long"
        );
        assert!(Username::parse(&"a".repeat(254)).is_ok());
    }

    #[test]
    fn emails_are_validated_and_lowercased() {
        assert_eq!(
            Email::parse(" Alice@X.com ").unwrap().as_str(),
            "alice@x.com"
        );
        assert_eq!(
            Email::parse("not-an-email").unwrap_err().code,
            "invalid_format"
        );
        assert_eq!(
            Email::parse("a b@x.com").unwrap_err().code,
            "invalid_format"
        );
        assert_eq!(Email::parse("").unwrap_err().code, "required");
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long).unwrap_err().code, "too_long");
    }
}
