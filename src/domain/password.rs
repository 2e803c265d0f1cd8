use zxcvbn::Score;

use crate::error::FieldError;

/// A password that satisfies the policy: 12–128 characters and a zxcvbn strength score of at
/// least 3 of 4, given the user's own name, username and email as context. The value is never
/// printed.
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([redacted])")
    }
}

impl NewPassword {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 128;

    /// `context` holds what an attacker would try first: the user's name, username, email.
    pub fn parse(raw: &str, field: &str, context: &[&str]) -> Result<Self, FieldError> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(FieldError::new(
                field,
                "too_short",
                "must be at least 12 characters",
            ));
        }
        if chars > Self::MAX_CHARS {
            return Err(FieldError::new(
                field,
                "too_long",
                "must be at most 128 characters",
            ));
        }
        // Each word of the name, username and email is guessable on its own: a password that
        // contains one is refused outright (zxcvbn alone may still rate "olivia.owner1" a 3).
        let mut inputs: Vec<&str> = Vec::new();
        for item in context {
            inputs.push(item);
            inputs.extend(
                item.split(|c: char| !c.is_alphanumeric())
                    .filter(|p| p.chars().count() >= 3),
            );
        }
        let folded: String = raw
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect();
        let personal = inputs
            .iter()
            .filter(|w| w.chars().count() >= 4 && w.chars().all(char::is_alphanumeric))
            .any(|w| folded.contains(&w.to_lowercase()));
        if personal {
            return Err(FieldError::new(
                field,
                "weak_password",
                "is too easy to guess: it contains your name, username or email address",
            ));
        }
        let estimate = zxcvbn::zxcvbn(raw, &inputs);
        if estimate.score() < Score::Three {
            let mut reason = String::from("is too easy to guess");
            if let Some(feedback) = estimate.feedback() {
                if let Some(warning) = feedback.warning() {
                    reason = format!("is too easy to guess: {warning}");
                }
                let hints: Vec<String> = feedback
                    .suggestions()
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                if !hints.is_empty() {
                    reason.push_str(&format!(". {}", hints.join(" ")));
                }
            }
            return Err(FieldError::new(field, "weak_password", reason));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        assert_eq!(
            NewPassword::parse("Sh0rt!x", "password", &[])
                .unwrap_err()
                .code,
            "too_short"
        );
        let long = "Zq7#".repeat(33);
        assert_eq!(
            NewPassword::parse(&long, "password", &[]).unwrap_err().code,
            "too_long"
        );
    }

    #[test]
    fn weak_passwords_are_rejected_with_a_reason() {
        let err = NewPassword::parse("password1234", "password", &[]).unwrap_err();
        assert_eq!(err.code, "weak_password");
        assert!(err.message.starts_with("is too easy to guess"));
    }

    #[test]
    fn the_users_own_details_count_against_the_password() {
        let context = [
            "Ada Lovelace",
            "ada.lovelace@example.com",
            "ada.lovelace@example.com",
        ];
        let guessable = "adalovelace1815";
        assert_eq!(
            NewPassword::parse("Olivia.Owner1", "password", &["Olivia Owner"])
                .unwrap_err()
                .code,
            "weak_password"
        );
        assert!(NewPassword::parse(guessable, "password", &[]).is_ok());
        assert_eq!(
            NewPassword::parse(guessable, "password", &context)
                .unwrap_err()
                .code,
            "weak_password"
        );
    }

    #[test]
    fn strong_passwords_pass_and_never_print() {
        let pw = NewPassword::parse("correct-Horse-battery-staple-42", "password", &[]).unwrap();
        assert_eq!(format!("{pw:?}"), "NewPassword([redacted])");
    }
}
